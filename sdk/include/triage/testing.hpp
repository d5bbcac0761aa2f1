// triage/testing.hpp — run a check in-process from your own unit tests, with
// no Triage core, and get what a run would report: give params (and, like a
// config, thresholds) and a timeout; get back the status, summary, metrics
// with their thresholds and statuses, findings, attributes, error and logs.
//
//   auto r = triage::testing::run<MyCheck>({{"target", "127.0.0.1:8080"}});
//   REQUIRE(r.status() == triage::Status::ok);
//   REQUIRE(r.metric("latency_ms") != nullptr);
//
// The core's own rules apply, from triage/evaluation.hpp (the code the core
// runs): thresholds (the options' first, else the metric's own defaults,
// else its declaration's) give each metric a status; status() combines the
// check's status, its metrics, its findings and its error in the core's
// order; output is cleaned and capped at the core's limits (`truncated`,
// `cleaned`, and TRIAGE_RC_LIMIT from the host call that hit one); log lines
// past 100 are refused. So "91 % gives warning" is a test:
//
//   triage::testing::Options options;
//   options.thresholds["used_pct"] = {"80", "90"};
//   const auto r = triage::testing::run<DiskCheck>({{"target", "/"}}, options);
//   CHECK(r.metric("used_pct")->status == triage::Status::warning);
//
// What the core would refuse at load is reported, not thrown (so a check's
// own handling of bad params stays testable): `refused_params` says what is
// wrong with the params (a missing required param, or an unknown one where
// the schema forbids others; the core also validates them fully against the
// schema), `undeclared` lists emitted metrics no declaration covers (ABI
// 1.1), and run() throws std::invalid_argument for a threshold that is not
// a valid range or, for a type that declares its metrics, names none of
// them (the core's exit 78).
#ifndef TRIAGE_TESTING_HPP
#define TRIAGE_TESTING_HPP

#include <triage/evaluation.hpp>
#include <triage/plugin.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace triage {
inline namespace v1 {
namespace testing {

struct Metric {
  Metric() = default;
  // The five fields of the kit before evaluation was added, in their order.
  Metric(std::string name_, double value_, std::string unit_ = {},
         std::string default_warning_ = {}, std::string default_critical_ = {})
      : name(std::move(name_)),
        value(value_),
        unit(std::move(unit_)),
        default_warning(std::move(default_warning_)),
        default_critical(std::move(default_critical_)) {}

  std::string name;
  double value = 0;
  std::string unit;             // as emitted, else its declaration's
  std::string default_warning;  // as emitted with the metric
  std::string default_critical;
  // After evaluation, as in a report: the ranges that applied ("" for none)
  // and the status they gave.
  std::string warning;
  std::string critical;
  Status status = Status::ok;
};

struct Finding {
  Severity severity = Severity::info;
  std::string title;
  std::string detail;
  std::string remediation;
};

// Everything one run of a check reported.
struct Result {
  triage_rc rc = TRIAGE_RC_OK;
  std::optional<Status> reported_status;
  std::string summary;
  std::vector<Metric> metrics;
  std::vector<Finding> findings;
  std::map<std::string, std::string> attributes;
  std::string error;
  std::vector<std::string> logs;  // the lines admitted (at most Limits::log_lines)
  std::size_t logs_suppressed = 0;
  bool truncated = false;  // a limit cut or dropped something
  bool cleaned = false;    // cleaning changed some text (invalid UTF-8, controls)
  // Names of emitted metrics that the check type does not declare (always
  // empty for a type that declares nothing).
  std::vector<std::string> undeclared;
  // What the core would refuse in these params at load, "" when nothing.
  std::string refused_params;

  // The status a run would report: unknown on an error, else the worst (in
  // the core's order, ok < unknown < warning < critical) of the reported
  // status, the metrics' statuses and the findings' severities.
  Status status() const {
    if (rc != TRIAGE_RC_OK || !error.empty()) return Status::unknown;
    std::int32_t worst = reported_status ? static_cast<std::int32_t>(*reported_status) : 0;
    auto take = [&](std::int32_t s) {
      if (evaluation::severity_rank(s) > evaluation::severity_rank(worst)) worst = s;
    };
    for (const auto& m : metrics) take(static_cast<std::int32_t>(m.status));
    for (const auto& f : findings) take(static_cast<std::int32_t>(f.severity));
    return static_cast<Status>(worst);
  }

  const Metric* metric(std::string_view name) const {
    for (const auto& m : metrics)
      if (m.name == name) return &m;
    return nullptr;
  }

  // First finding of this severity whose title contains `text`, or nullptr.
  const Finding* finding(Severity severity, std::string_view text = {}) const {
    for (const auto& f : findings)
      if (f.severity == severity && f.title.find(text) != std::string::npos) return &f;
    return nullptr;
  }
};

// A config's thresholds for one metric, in Monitoring Plugins range syntax
// ("" for none): they replace the metric's defaults, as in a config.
struct Threshold {
  std::string warning;
  std::string critical;
};

struct Options {
  Options() = default;
  // `{timeout}` and `{timeout, &cancel}`, as before thresholds and limits
  // were added (a constructor, so that no field is left out of an
  // aggregate initialiser).
  Options(std::chrono::milliseconds timeout_, const std::atomic<bool>* cancel_ = nullptr)  // NOLINT
      : timeout(timeout_), cancel(cancel_) {}

  std::chrono::milliseconds timeout{5000};
  // Set to true (from another thread) to cancel the running check.
  const std::atomic<bool>* cancel = nullptr;
  // By metric name, or "name[*]" for every item of a per-item metric.
  std::map<std::string, Threshold> thresholds;
  evaluation::Limits limits;
};

namespace detail {

struct Recorder {
  std::mutex mutex;
  Result result;
  std::chrono::steady_clock::time_point deadline;
  const std::atomic<bool>* cancel = nullptr;
  evaluation::Limits limits;
  std::size_t log_lines = 0;

  // Cleaned and capped like the core does; false when cut.
  std::string keep(const char* p, std::uint64_t n, std::size_t limit, bool& whole) {
    bool cleaned = false;
    auto out =
        evaluation::cap_text(std::string_view(p == nullptr ? "" : p, n), limit, whole, &cleaned);
    result.cleaned = result.cleaned || cleaned;
    result.truncated = result.truncated || !whole;
    return out;
  }
};

inline Recorder& rec(triage_check_ctx ctx) {
  return *reinterpret_cast<Recorder*>(ctx);
}

inline triage_rc kept(bool whole) {
  return whole ? TRIAGE_RC_OK : TRIAGE_RC_LIMIT;
}

inline triage_rc set_status(triage_check_ctx ctx, std::int32_t status, const char* s,
                            std::uint64_t n) {
  if (ctx == nullptr || status < TRIAGE_STATUS_OK || status > TRIAGE_STATUS_UNKNOWN ||
      (s == nullptr && n != 0))
    return TRIAGE_RC_INVALID_ARGUMENT;
  auto& r = rec(ctx);
  std::lock_guard lock(r.mutex);
  bool whole = true;
  r.result.reported_status = static_cast<Status>(status);
  r.result.summary = r.keep(s, n, r.limits.summary_bytes, whole);
  return kept(whole);
}

inline triage_rc emit_metric(triage_check_ctx ctx, const triage_metric* m) {
  // Refused like the core refuses them: a NaN or an infinity is no
  // measurement, and a metric needs a name.
  if (ctx == nullptr || m == nullptr || m->struct_size < sizeof(triage_metric) ||
      !std::isfinite(m->value) || m->name == nullptr || m->name_len == 0)
    return TRIAGE_RC_INVALID_ARGUMENT;
  auto& r = rec(ctx);
  std::lock_guard lock(r.mutex);
  if (r.result.metrics.size() >= r.limits.metrics) {
    r.result.truncated = true;
    return TRIAGE_RC_LIMIT;
  }
  bool whole = true;
  Metric kept_metric;
  kept_metric.name = r.keep(m->name, m->name_len, r.limits.name_bytes, whole);
  kept_metric.value = m->value;
  kept_metric.unit = r.keep(m->unit, m->unit_len, r.limits.unit_bytes, whole);
  kept_metric.default_warning =
      std::string(m->default_warning == nullptr ? "" : m->default_warning, m->default_warning_len);
  kept_metric.default_critical = std::string(
      m->default_critical == nullptr ? "" : m->default_critical, m->default_critical_len);
  r.result.metrics.push_back(std::move(kept_metric));
  return kept(whole);
}

inline triage_rc add_finding(triage_check_ctx ctx, const triage_finding* f) {
  if (ctx == nullptr || f == nullptr || f->struct_size < sizeof(triage_finding) ||
      f->severity < TRIAGE_SEVERITY_INFO || f->severity > TRIAGE_SEVERITY_CRITICAL)
    return TRIAGE_RC_INVALID_ARGUMENT;
  auto& r = rec(ctx);
  std::lock_guard lock(r.mutex);
  if (r.result.findings.size() >= r.limits.findings) {
    r.result.truncated = true;
    return TRIAGE_RC_LIMIT;
  }
  bool whole = true;
  Finding kept_finding;
  kept_finding.severity = static_cast<Severity>(f->severity);
  kept_finding.title = r.keep(f->title, f->title_len, r.limits.summary_bytes, whole);
  kept_finding.detail = r.keep(f->detail, f->detail_len, r.limits.text_bytes, whole);
  kept_finding.remediation = r.keep(f->remediation, f->remediation_len, r.limits.text_bytes, whole);
  r.result.findings.push_back(std::move(kept_finding));
  return kept(whole);
}

inline triage_rc set_attribute(triage_check_ctx ctx, const char* k, std::uint64_t kn, const char* v,
                               std::uint64_t vn) {
  if (ctx == nullptr || k == nullptr || kn == 0) return TRIAGE_RC_INVALID_ARGUMENT;
  auto& r = rec(ctx);
  std::lock_guard lock(r.mutex);
  bool whole = true;
  auto key = r.keep(k, kn, r.limits.name_bytes, whole);
  auto value = r.keep(v, vn, r.limits.text_bytes, whole);
  auto& attributes = r.result.attributes;
  if (attributes.count(key) == 0 && attributes.size() >= r.limits.attributes) {
    r.result.truncated = true;
    return TRIAGE_RC_LIMIT;
  }
  attributes[key] = std::move(value);
  return kept(whole);
}

inline triage_rc log(triage_check_ctx ctx, std::int32_t, const char* m, std::uint64_t n) {
  if (ctx == nullptr) return TRIAGE_RC_OK;
  auto& r = rec(ctx);
  std::lock_guard lock(r.mutex);
  if (++r.log_lines > r.limits.log_lines) {
    ++r.result.logs_suppressed;
    return TRIAGE_RC_LIMIT;
  }
  const bool long_line = n > r.limits.log_line_bytes;
  r.result.logs.push_back(evaluation::clean_text(
      std::string_view(m == nullptr ? "" : m, long_line ? r.limits.log_line_bytes : n)));
  return long_line ? TRIAGE_RC_LIMIT : TRIAGE_RC_OK;
}

inline std::int32_t is_cancelled(triage_check_ctx ctx) {
  if (ctx == nullptr) return 0;
  const auto& r = rec(ctx);
  if (r.cancel != nullptr && r.cancel->load()) return 1;
  return std::chrono::steady_clock::now() >= r.deadline ? 1 : 0;
}

inline triage_rc get_deadline(triage_check_ctx ctx, std::int64_t* out) {
  if (ctx == nullptr || out == nullptr) return TRIAGE_RC_INVALID_ARGUMENT;
  *out = std::chrono::duration_cast<std::chrono::nanoseconds>(rec(ctx).deadline.time_since_epoch())
             .count();
  return TRIAGE_RC_OK;
}

inline triage_rc set_error(triage_check_ctx ctx, const char* m, std::uint64_t n) {
  if (ctx == nullptr) return TRIAGE_RC_INVALID_ARGUMENT;
  auto& r = rec(ctx);
  std::lock_guard lock(r.mutex);
  bool whole = true;
  r.result.error = r.keep(m, n, r.limits.summary_bytes, whole);
  return kept(whole);
}

inline const triage_host_api* host_api() {
  static const triage_host_api api{sizeof(triage_host_api),
                                   TRIAGE_ABI_MAJOR,
                                   TRIAGE_ABI_MINOR,
                                   0,
                                   "testing",
                                   &set_status,
                                   &emit_metric,
                                   &add_finding,
                                   &set_attribute,
                                   &log,
                                   &is_cancelled,
                                   &get_deadline,
                                   &set_error};
  return &api;
}

inline std::vector<std::string> undeclared(const triage_check_type& type,
                                           const std::vector<Metric>& metrics,
                                           const nlohmann::json& params) {
  std::vector<std::string> out;
  if (type.struct_size < sizeof(triage_check_type) || type.metrics == nullptr) return out;
  for (const auto& m : metrics) {
    bool found = false;
    for (std::uint32_t i = 0; i < type.metric_count && !found; ++i)
      found = type.metrics[i] != nullptr && type.metrics[i]->name != nullptr &&
              evaluation::covers(type.metrics[i]->name, m.name, params);
    if (!found && std::find(out.begin(), out.end(), m.name) == out.end()) out.push_back(m.name);
  }
  return out;
}

// The declaration of the type that covers metric `name` (exact names
// first), or nullptr.
inline const triage_metric_decl* declaration(const triage_check_type& type, std::string_view name,
                                             const nlohmann::json& params) {
  if (type.struct_size < sizeof(triage_check_type) || type.metrics == nullptr) return nullptr;
  for (int pass = 0; pass < 2; ++pass)
    for (std::uint32_t i = 0; i < type.metric_count; ++i) {
      const triage_metric_decl* d = type.metrics[i];
      if (d == nullptr || d->name == nullptr) continue;
      if (pass == 0 ? name == d->name : evaluation::covers(d->name, name, params)) return d;
    }
  return nullptr;
}

// A configured range, which must parse (a bad one is the test's mistake).
inline std::optional<evaluation::Range> configured_range(const std::string& text,
                                                         const std::string& metric) {
  if (text.empty()) return std::nullopt;
  try {
    return evaluation::Range::parse(text);
  } catch (const evaluation::RangeError& e) {
    throw std::invalid_argument("threshold for " + metric + ": " + e.what());
  }
}

// A plugin's default range: one that does not parse is ignored, as the core
// ignores it (with a warning).
inline std::optional<evaluation::Range> default_range(const std::string& text) {
  if (text.empty()) return std::nullopt;
  try {
    return evaluation::Range::parse(text);
  } catch (const evaluation::RangeError&) {
    return std::nullopt;
  }
}

// Applies thresholds to each metric as the core's evaluation does.
inline void apply_thresholds(const triage_check_type& type, const nlohmann::json& params,
                             const std::map<std::string, Threshold>& thresholds,
                             std::vector<Metric>& metrics) {
  for (auto& m : metrics) {
    const triage_metric_decl* d = declaration(type, m.name, params);
    auto text = [](const char* p) { return std::string(p == nullptr ? "" : p); };
    std::string warning_default = m.default_warning, critical_default = m.default_critical;
    if (d != nullptr) {
      if (warning_default.empty()) warning_default = text(d->default_warning);
      if (critical_default.empty()) critical_default = text(d->default_critical);
      if (m.unit.empty()) m.unit = text(d->unit);
    }
    auto it = thresholds.find(m.name);
    const auto open = m.name.find('[');
    if (it == thresholds.end() && open != std::string::npos && open > 0 && m.name.back() == ']')
      it = thresholds.find(m.name.substr(0, open) + "[*]");
    const Threshold configured = it == thresholds.end() ? Threshold{} : it->second;
    auto warning = configured_range(configured.warning, m.name);
    auto critical = configured_range(configured.critical, m.name);
    if (!warning) warning = default_range(warning_default);
    if (!critical) critical = default_range(critical_default);
    m.warning = warning ? warning->text() : "";
    m.critical = critical ? critical->text() : "";
    m.status = static_cast<Status>(evaluation::metric_status(m.value, warning, critical));
  }
}

// For a type that declares its metrics, a threshold that names none of them
// is refused, as the core refuses it (exit 78).
inline void check_thresholds_declared(const triage_check_type& type, const nlohmann::json& params,
                                      const std::map<std::string, Threshold>& thresholds) {
  if (type.struct_size < sizeof(triage_check_type) || type.metrics == nullptr) return;
  for (const auto& [name, _] : thresholds)
    if (declaration(type, name, params) == nullptr)
      throw std::invalid_argument("threshold for '" + name + "': check type " +
                                  std::string(type.name) + " declares no such metric");
}

inline std::string params_refusal(const triage_check_type& type, const nlohmann::json& params) {
  if (type.params_schema == nullptr) return {};
  const auto schema = nlohmann::json::parse(type.params_schema, nullptr, false);
  const auto problem = evaluation::params_problem(schema, params);
  if (!problem) return {};
  return problem->kind == evaluation::ParamsProblem::Kind::missing
             ? "missing required param '" + problem->name + "'"
             : "no param '" + problem->name + "' in the schema";
}

}  // namespace detail

// Runs a check type (as a plugin registered it) once, in this thread, and
// evaluates what it reported as the core would.
inline Result run(const triage_check_type& type, const nlohmann::json& params,
                  Options options = {}) {
  detail::check_thresholds_declared(type, params, options.thresholds);
  detail::Recorder recorder;
  recorder.deadline = std::chrono::steady_clock::now() + options.timeout;
  recorder.cancel = options.cancel;
  recorder.limits = options.limits;
  recorder.result.refused_params = detail::params_refusal(type, params);
  const std::string text = params.dump();
  auto* ctx = reinterpret_cast<triage_check_ctx>(&recorder);
  recorder.result.rc = type.run(detail::host_api(), ctx, text.data(), text.size(), type.user_data);
  recorder.result.undeclared = detail::undeclared(type, recorder.result.metrics, params);
  detail::apply_thresholds(type, params, options.thresholds, recorder.result.metrics);
  return std::move(recorder.result);
}

// Runs a check class written with the C++ wrapper once, in this thread.
template <class Check>
Result run(const nlohmann::json& params, Options options = {}) {
  return run(*triage::detail::check_type<Check>(), params, options);
}

}  // namespace testing
}  // namespace v1
}  // namespace triage

#endif  // TRIAGE_TESTING_HPP
