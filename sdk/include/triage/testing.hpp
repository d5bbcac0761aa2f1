// triage/testing.hpp — run a check in-process from your own unit tests, with
// no Triage core: give params and a timeout, get back everything the check
// reported (status, summary, metrics, findings, attributes, error).
//
//   auto r = triage::testing::run<MyCheck>({{"target", "127.0.0.1:8080"}});
//   REQUIRE(r.status() == triage::Status::ok);
//   REQUIRE(r.metric("latency_ms") != nullptr);
//
// Thresholds are the core's job and are not applied here; status() combines
// the check's own status, its findings and its error the way the core does.
// For a check type that declares its metrics (ABI 1.1), `undeclared` lists
// the emitted metrics no declaration covers (the conformance kit fails them):
//
//   CHECK(r.undeclared.empty());
#ifndef TRIAGE_TESTING_HPP
#define TRIAGE_TESTING_HPP

#include <triage/plugin.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace triage {
inline namespace v1 {
namespace testing {

struct Metric {
  std::string name;
  double value = 0;
  std::string unit;
  std::string default_warning;
  std::string default_critical;
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
  std::vector<std::string> logs;
  // Names of emitted metrics that the check type does not declare (always
  // empty for a type that declares nothing).
  std::vector<std::string> undeclared;

  // The status the core would give before thresholds: unknown on an error,
  // else the worst of the reported status and the findings' severities.
  Status status() const {
    if (rc != TRIAGE_RC_OK || !error.empty()) return Status::unknown;
    int worst = reported_status ? static_cast<int>(*reported_status) : 0;
    for (const auto& f : findings) worst = std::max(worst, static_cast<int>(f.severity));
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

struct Options {
  std::chrono::milliseconds timeout{5000};
  // Set to true (from another thread) to cancel the running check.
  const std::atomic<bool>* cancel = nullptr;
};

namespace detail {

struct Recorder {
  std::mutex mutex;
  Result result;
  std::chrono::steady_clock::time_point deadline;
  const std::atomic<bool>* cancel = nullptr;
};

inline Recorder& rec(triage_check_ctx ctx) {
  return *reinterpret_cast<Recorder*>(ctx);
}
inline std::string str(const char* p, std::uint64_t n) {
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
}

inline triage_rc set_status(triage_check_ctx ctx, std::int32_t status, const char* s,
                            std::uint64_t n) {
  if (ctx == nullptr || status < TRIAGE_STATUS_OK || status > TRIAGE_STATUS_UNKNOWN)
    return TRIAGE_RC_INVALID_ARGUMENT;
  std::lock_guard lock(rec(ctx).mutex);
  rec(ctx).result.reported_status = static_cast<Status>(status);
  rec(ctx).result.summary = str(s, n);
  return TRIAGE_RC_OK;
}

inline triage_rc emit_metric(triage_check_ctx ctx, const triage_metric* m) {
  // Refused like the core refuses them: a NaN or an infinity is no
  // measurement, and a metric needs a name.
  if (ctx == nullptr || m == nullptr || m->struct_size < sizeof(triage_metric) ||
      !std::isfinite(m->value) || m->name == nullptr || m->name_len == 0)
    return TRIAGE_RC_INVALID_ARGUMENT;
  std::lock_guard lock(rec(ctx).mutex);
  rec(ctx).result.metrics.push_back({str(m->name, m->name_len), m->value, str(m->unit, m->unit_len),
                                     str(m->default_warning, m->default_warning_len),
                                     str(m->default_critical, m->default_critical_len)});
  return TRIAGE_RC_OK;
}

inline triage_rc add_finding(triage_check_ctx ctx, const triage_finding* f) {
  if (ctx == nullptr || f == nullptr || f->struct_size < sizeof(triage_finding) ||
      f->severity < TRIAGE_SEVERITY_INFO || f->severity > TRIAGE_SEVERITY_CRITICAL)
    return TRIAGE_RC_INVALID_ARGUMENT;
  std::lock_guard lock(rec(ctx).mutex);
  rec(ctx).result.findings.push_back({static_cast<Severity>(f->severity),
                                      str(f->title, f->title_len), str(f->detail, f->detail_len),
                                      str(f->remediation, f->remediation_len)});
  return TRIAGE_RC_OK;
}

inline triage_rc set_attribute(triage_check_ctx ctx, const char* k, std::uint64_t kn, const char* v,
                               std::uint64_t vn) {
  if (ctx == nullptr) return TRIAGE_RC_INVALID_ARGUMENT;
  std::lock_guard lock(rec(ctx).mutex);
  rec(ctx).result.attributes[str(k, kn)] = str(v, vn);
  return TRIAGE_RC_OK;
}

inline triage_rc log(triage_check_ctx ctx, std::int32_t, const char* m, std::uint64_t n) {
  if (ctx == nullptr) return TRIAGE_RC_OK;
  std::lock_guard lock(rec(ctx).mutex);
  rec(ctx).result.logs.push_back(str(m, n));
  return TRIAGE_RC_OK;
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
  std::lock_guard lock(rec(ctx).mutex);
  rec(ctx).result.error = str(m, n);
  return TRIAGE_RC_OK;
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

// True when `decl` (a declared name: "name", "name[*]" or "{param}") covers
// the emitted metric `name`, given the check's params.
inline bool covers(std::string_view decl, std::string_view name, const nlohmann::json& params) {
  if (decl == name) return true;
  if (decl.size() > 3 && decl.substr(decl.size() - 3) == "[*]") {
    const auto base = decl.substr(0, decl.size() - 2);  // "name["
    return name.size() > base.size() + 1 && name.substr(0, base.size()) == base &&
           name.back() == ']';
  }
  if (decl.size() > 2 && decl.front() == '{' && decl.back() == '}') {
    const std::string param(decl.substr(1, decl.size() - 2));
    return params.is_object() && params.contains(param) && params[param].is_object() &&
           params[param].contains(std::string(name));
  }
  return false;
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
              covers(type.metrics[i]->name, m.name, params);
    if (!found && std::find(out.begin(), out.end(), m.name) == out.end()) out.push_back(m.name);
  }
  return out;
}

}  // namespace detail

// Runs a check type (as a plugin registered it) once, in this thread.
inline Result run(const triage_check_type& type, const nlohmann::json& params,
                  Options options = {}) {
  detail::Recorder recorder;
  recorder.deadline = std::chrono::steady_clock::now() + options.timeout;
  recorder.cancel = options.cancel;
  const std::string text = params.dump();
  auto* ctx = reinterpret_cast<triage_check_ctx>(&recorder);
  recorder.result.rc = type.run(detail::host_api(), ctx, text.data(), text.size(), type.user_data);
  recorder.result.undeclared = detail::undeclared(type, recorder.result.metrics, params);
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
