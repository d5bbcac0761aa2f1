// triage/plugin.hpp — header-only C++17 layer over the C ABI in plugin.h.
//
// A check type is one small class; a plugin is one TRIAGE_PLUGIN(...) line:
//
//   struct PingCheck {
//     static constexpr const char* name = "ping";
//     static constexpr const char* description = "Says hello";
//     static constexpr const char* params_schema = R"({"type":"object"})";
//     static constexpr triage::MetricDecl metrics[] = {
//         triage::metric("hello_ms", "ms", "Time to say hello").warning("100")};
//     void run(triage::Context& ctx) {
//       ctx.metric(metrics[0], 12.5);
//       ctx.status(triage::Status::ok, "hello");
//     }
//   };
//   TRIAGE_PLUGIN("hello", "1.0.0", "An example plugin", PingCheck)
//
// Nothing of this header crosses the ABI: every exception thrown by a check is
// caught in the trampoline and turned into an `unknown` result carrying its
// message. A new instance of the check class is made for every run, so a
// class without static mutable state is thread safe by construction.
#ifndef TRIAGE_PLUGIN_HPP
#define TRIAGE_PLUGIN_HPP

#include <triage/plugin.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace triage {
inline namespace v1 {

enum class Status : std::int32_t {
  ok = TRIAGE_STATUS_OK,
  warning = TRIAGE_STATUS_WARNING,
  critical = TRIAGE_STATUS_CRITICAL,
  unknown = TRIAGE_STATUS_UNKNOWN,
};

enum class Severity : std::int32_t {
  info = TRIAGE_SEVERITY_INFO,
  warning = TRIAGE_SEVERITY_WARNING,
  critical = TRIAGE_SEVERITY_CRITICAL,
};

enum class LogLevel : std::int32_t {
  debug = TRIAGE_LOG_DEBUG,
  info = TRIAGE_LOG_INFO,
  warning = TRIAGE_LOG_WARNING,
  error = TRIAGE_LOG_ERROR,
};

// Default thresholds for a metric, in Monitoring Plugins range syntax; the
// config's thresholds replace them.
struct Thresholds {
  std::string_view warning;
  std::string_view critical;
};

// A metric a check type declares (ABI 1.1; see triage_metric_decl in
// plugin.h). Made with triage::metric(...) and refined with the chained
// setters; every string must have static storage (a string literal):
//
//   triage::metric("used_pct", "%", "Share of the filesystem's blocks in use")
//       .warning("80").critical("90")
//       .remediation("Free space: find the largest folders (du -xh / | sort -h)...")
//
// The name is "name", "name[*]" for a per-item metric emitted as
// "name[ITEM]", or "{param}" for metrics named by the keys of an object param.
class MetricDecl {
 public:
  constexpr MetricDecl(const char* name, const char* unit, const char* description) noexcept
      : decl_{sizeof(triage_metric_decl), 0, name, unit, description, nullptr, nullptr, nullptr} {}

  // Default ranges (Monitoring Plugins syntax), used when an emitted metric
  // carries none; a config's thresholds replace them.
  constexpr MetricDecl warning(const char* range) const noexcept {
    MetricDecl copy = *this;
    copy.decl_.default_warning = range;
    return copy;
  }
  constexpr MetricDecl critical(const char* range) const noexcept {
    MetricDecl copy = *this;
    copy.decl_.default_critical = range;
    return copy;
  }
  // What to do when a threshold on this metric is crossed.
  constexpr MetricDecl remediation(const char* text) const noexcept {
    MetricDecl copy = *this;
    copy.decl_.remediation = text;
    return copy;
  }

  constexpr std::string_view name() const noexcept { return view(decl_.name); }
  constexpr std::string_view unit() const noexcept { return view(decl_.unit); }
  // The declared default ranges, for Context::metric.
  constexpr Thresholds defaults() const noexcept {
    return {view(decl_.default_warning), view(decl_.default_critical)};
  }
  constexpr const triage_metric_decl& c_decl() const noexcept { return decl_; }

 private:
  static constexpr std::string_view view(const char* s) noexcept {
    return s == nullptr ? std::string_view() : std::string_view(s);
  }
  triage_metric_decl decl_;
};

constexpr MetricDecl metric(const char* name, const char* unit, const char* description) noexcept {
  return MetricDecl(name, unit, description);
}

// A view of declarations defined elsewhere, so that a check class can keep
// them in its .cpp file:
//   // checks.hpp:   static const triage::Metrics metrics;
//   // check.cpp:    constexpr triage::MetricDecl kMetrics[] = {...};
//   //               const triage::Metrics MyCheck::metrics{kMetrics};
// A default-constructed Metrics declares that the type emits no metric.
class Metrics {
 public:
  constexpr Metrics() noexcept = default;
  template <std::size_t N>
  constexpr Metrics(const MetricDecl (&decls)[N]) noexcept  // NOLINT: implicit on purpose
      : begin_(decls), end_(decls + N) {}
  constexpr const MetricDecl* begin() const noexcept { return begin_; }
  constexpr const MetricDecl* end() const noexcept { return end_; }
  constexpr std::size_t size() const noexcept { return static_cast<std::size_t>(end_ - begin_); }

 private:
  const MetricDecl* begin_ = nullptr;
  const MetricDecl* end_ = nullptr;
};

// Thrown for params that are missing or of the wrong type; the check ends
// `unknown` with this message.
class ParamError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One execution of a check: its params and the ways to report results.
// Valid only inside run(); do not keep it.
class Context {
 public:
  Context(const triage_host_api* host, triage_check_ctx ctx, nlohmann::json params)
      : host_(host), ctx_(ctx), params_(std::move(params)) {}

  const nlohmann::json& params() const { return params_; }

  // params.target, required for every check type.
  std::string target() const { return required<std::string>("target"); }

  bool has(std::string_view key) const {
    return params_.is_object() && params_.contains(std::string(key)) &&
           !params_.at(std::string(key)).is_null();
  }

  // A param converted to T, or fallback when absent; ParamError on a wrong type.
  template <class T>
  T param(std::string_view key, T fallback) const {
    if (!has(key)) return fallback;
    return convert<T>(key);
  }

  template <class T>
  T required(std::string_view key) const {
    if (!has(key)) throw ParamError("missing required param '" + std::string(key) + "'");
    return convert<T>(key);
  }

  // Returns void, like error(), so that `return ctx.status(...);` keeps
  // working in a run() returning void.
  void status(Status s, std::string_view summary) {
    host_->set_status(ctx_, static_cast<std::int32_t>(s), summary.data(), summary.size());
  }

  // metric, finding, attribute and log return what the host said:
  // TRIAGE_RC_OK, or TRIAGE_RC_INVALID_ARGUMENT when it refused the value (a
  // NaN or infinite metric, an empty name, a stale handle), TRIAGE_RC_LIMIT
  // when an output cap cut or dropped it (the check is marked truncated).
  // Ignoring it is fine; tests may check it.
  triage_rc metric(std::string_view name, double value, std::string_view unit = {},
                   Thresholds defaults = {}) {
    triage_metric m{};
    m.struct_size = sizeof m;
    m.name = name.data();
    m.name_len = name.size();
    m.value = value;
    m.unit = unit.data();
    m.unit_len = unit.size();
    m.default_warning = defaults.warning.data();
    m.default_warning_len = defaults.warning.size();
    m.default_critical = defaults.critical.data();
    m.default_critical_len = defaults.critical.size();
    return host_->emit_metric(ctx_, &m);
  }

  // A declared metric: its name, unit and declared default ranges.
  triage_rc metric(const MetricDecl& declared, double value) {
    return metric(declared.name(), value, declared.unit(), declared.defaults());
  }

  // One item of a per-item metric declared as "name[*]": emitted as
  // "name[item]", with the declaration's unit and default ranges.
  triage_rc metric(const MetricDecl& declared, std::string_view item, double value) {
    std::string_view base = declared.name();
    if (base.size() > 3 && base.substr(base.size() - 3) == "[*]") base.remove_suffix(3);
    std::string full(base);
    full.append("[").append(item).append("]");
    return metric(full, value, declared.unit(), declared.defaults());
  }

  triage_rc finding(Severity severity, std::string_view title, std::string_view detail,
                    std::string_view remediation) {
    triage_finding f{};
    f.struct_size = sizeof f;
    f.severity = static_cast<std::int32_t>(severity);
    f.title = title.data();
    f.title_len = title.size();
    f.detail = detail.data();
    f.detail_len = detail.size();
    f.remediation = remediation.data();
    f.remediation_len = remediation.size();
    return host_->add_finding(ctx_, &f);
  }

  triage_rc attribute(std::string_view key, std::string_view value) {
    return host_->set_attribute(ctx_, key.data(), key.size(), value.data(), value.size());
  }

  triage_rc log(LogLevel level, std::string_view message) {
    return host_->log(ctx_, static_cast<std::int32_t>(level), message.data(), message.size());
  }

  // Marks the result `unknown` with this error (the check could not judge).
  // Returns void, unlike the calls above, so that `return ctx.error(...);`
  // keeps working in a run() returning void.
  void error(std::string_view message) { host_->set_error(ctx_, message.data(), message.size()); }

  bool cancelled() const { return host_->is_cancelled(ctx_) != 0; }

  std::chrono::steady_clock::time_point deadline() const {
    std::int64_t ns = 0;
    host_->get_deadline(ctx_, &ns);
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
  }

  // Time left before the deadline, never negative.
  std::chrono::milliseconds remaining() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline() - std::chrono::steady_clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
  }

  const triage_host_api* host() const { return host_; }
  triage_check_ctx handle() const { return ctx_; }

 private:
  template <class T>
  T convert(std::string_view key) const {
    try {
      return params_.at(std::string(key)).template get<T>();
    } catch (const nlohmann::json::exception&) {
      throw ParamError("param '" + std::string(key) + "' has the wrong type");
    }
  }

  const triage_host_api* host_;
  triage_check_ctx ctx_;
  nlohmann::json params_;
};

namespace detail {

template <class T, class = void>
struct flags_of {
  static constexpr std::uint32_t value = TRIAGE_CHECK_THREAD_SAFE;
};
template <class T>
struct flags_of<T, std::void_t<decltype(T::flags)>> {
  static constexpr std::uint32_t value = T::flags;
};

inline void report_error(const triage_host_api* host, triage_check_ctx ctx, const char* what) {
  host->set_error(ctx, what, std::strlen(what));
}

template <class Check>
triage_rc run(const triage_host_api* host, triage_check_ctx ctx, const char* params,
              std::uint64_t params_len, void* /*user_data*/) noexcept {
  try {
    auto json = params_len == 0 ? nlohmann::json::object()
                                : nlohmann::json::parse(params, params + params_len);
    Context context(host, ctx, std::move(json));
    Check{}.run(context);
    return TRIAGE_RC_OK;
  } catch (const std::exception& e) {
    report_error(host, ctx, e.what());
  } catch (...) {
    report_error(host, ctx, "check threw a non-standard exception");
  }
  return TRIAGE_RC_ERROR;
}

template <class T, class = void>
struct has_metrics : std::false_type {};
template <class T>
struct has_metrics<T, std::void_t<decltype(std::begin(T::metrics))>> : std::true_type {};

// The C array of a check class's declarations; nullptr when the class has no
// `metrics` member (it declares nothing, like a 1.0 plugin).
template <class Check>
const triage_metric_decl* const* metric_decls(std::uint32_t& count) {
  if constexpr (has_metrics<Check>::value) {
    // Built once and never freed: the core may read it until the process exits.
    static const auto* const decls = [] {
      auto* out = new std::vector<const triage_metric_decl*>();
      for (const MetricDecl& m : Check::metrics) out->push_back(&m.c_decl());
      out->push_back(nullptr);  // a non-null array even when nothing is declared
      return out;
    }();
    count = static_cast<std::uint32_t>(decls->size() - 1);
    return decls->data();
  } else {
    count = 0;
    return nullptr;
  }
}

template <class Check>
const triage_check_type* check_type() {
  static const triage_check_type type = [] {
    triage_check_type t{};
    t.struct_size = sizeof(triage_check_type);
    t.flags = flags_of<Check>::value;
    t.name = Check::name;
    t.description = Check::description;
    t.params_schema = Check::params_schema;
    t.run = &run<Check>;
    t.user_data = nullptr;
    t.metrics = metric_decls<Check>(t.metric_count);
    return t;
  }();
  return &type;
}

template <class... Checks>
triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
               std::uint32_t* out_count) noexcept {
  if (host == nullptr || out_types == nullptr || out_count == nullptr)
    return TRIAGE_RC_INVALID_ARGUMENT;
  static const triage_check_type* const types[] = {check_type<Checks>()...};
  *out_types = types;
  *out_count = static_cast<std::uint32_t>(sizeof...(Checks));
  return TRIAGE_RC_OK;
}

}  // namespace detail
}  // namespace v1
}  // namespace triage

// Defines the plugin's entry point. NAME, VERSION and DESCRIPTION are string
// literals; the rest are the check classes.
#define TRIAGE_PLUGIN(NAME, VERSION, DESCRIPTION, ...)                                      \
  extern "C" TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {         \
    static const triage_plugin_descriptor descriptor{sizeof(triage_plugin_descriptor),      \
                                                     TRIAGE_PLUGIN_MAGIC,                   \
                                                     TRIAGE_ABI_MAJOR,                      \
                                                     TRIAGE_ABI_MINOR,                      \
                                                     TRIAGE_SDK_VERSION,                    \
                                                     NAME,                                  \
                                                     VERSION,                               \
                                                     DESCRIPTION,                           \
                                                     &::triage::detail::init<__VA_ARGS__>}; \
    return &descriptor;                                                                     \
  }

#endif  // TRIAGE_PLUGIN_HPP
