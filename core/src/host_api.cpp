#include "triage/core/host_api.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstddef>

namespace triage::core {

namespace {

// Sizes of the 1.0 structs: the least a plugin may hand us. A plugin built
// against a later minor may pass a larger struct; we read only these fields.
constexpr std::uint32_t kMetricV1Size =
    offsetof(triage_metric, default_critical_len) + sizeof(std::uint64_t);
constexpr std::uint32_t kFindingV1Size =
    offsetof(triage_finding, remediation_len) + sizeof(std::uint64_t);
constexpr std::uint64_t kMaxInput = 64ull << 20;  // refuses absurd lengths outright

Attempt* attempt(triage_check_ctx ctx) {
  return reinterpret_cast<Attempt*>(ctx);
}

bool valid_text(const char* p, std::uint64_t n) {
  return (p != nullptr || n == 0) && n <= kMaxInput;
}

std::string text(const char* p, std::uint64_t n) {
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
}

triage_rc set_status(triage_check_ctx ctx, std::int32_t status, const char* summary,
                     std::uint64_t len) {
  if (ctx == nullptr || status < TRIAGE_STATUS_OK || status > TRIAGE_STATUS_UNKNOWN ||
      !valid_text(summary, len))
    return TRIAGE_RC_INVALID_ARGUMENT;
  attempt(ctx)->set_status(status, text(summary, len));
  return TRIAGE_RC_OK;
}

triage_rc emit_metric(triage_check_ctx ctx, const triage_metric* m) {
  // A NaN or an infinity is no measurement, and JSON cannot carry it.
  if (ctx == nullptr || m == nullptr || m->struct_size < kMetricV1Size ||
      !std::isfinite(m->value) || !valid_text(m->name, m->name_len) || m->name_len == 0 ||
      !valid_text(m->unit, m->unit_len) ||
      !valid_text(m->default_warning, m->default_warning_len) ||
      !valid_text(m->default_critical, m->default_critical_len))
    return TRIAGE_RC_INVALID_ARGUMENT;
  attempt(ctx)->add_metric({text(m->name, m->name_len), m->value, text(m->unit, m->unit_len),
                            text(m->default_warning, m->default_warning_len),
                            text(m->default_critical, m->default_critical_len)});
  return TRIAGE_RC_OK;
}

triage_rc add_finding(triage_check_ctx ctx, const triage_finding* f) {
  if (ctx == nullptr || f == nullptr || f->struct_size < kFindingV1Size ||
      f->severity < TRIAGE_SEVERITY_INFO || f->severity > TRIAGE_SEVERITY_CRITICAL ||
      !valid_text(f->title, f->title_len) || !valid_text(f->detail, f->detail_len) ||
      !valid_text(f->remediation, f->remediation_len))
    return TRIAGE_RC_INVALID_ARGUMENT;
  attempt(ctx)->add_finding({static_cast<Severity>(f->severity), text(f->title, f->title_len),
                             text(f->detail, f->detail_len),
                             text(f->remediation, f->remediation_len)});
  return TRIAGE_RC_OK;
}

triage_rc set_attribute(triage_check_ctx ctx, const char* key, std::uint64_t key_len,
                        const char* value, std::uint64_t value_len) {
  if (ctx == nullptr || key_len == 0 || !valid_text(key, key_len) || !valid_text(value, value_len))
    return TRIAGE_RC_INVALID_ARGUMENT;
  attempt(ctx)->set_attribute(text(key, key_len), text(value, value_len));
  return TRIAGE_RC_OK;
}

triage_rc log(triage_check_ctx ctx, std::int32_t level, const char* message, std::uint64_t len) {
  if (!valid_text(message, len)) return TRIAGE_RC_INVALID_ARGUMENT;
  const auto line = sanitize_utf8(text(message, std::min<std::uint64_t>(len, 4096)));
  const auto spd = level <= TRIAGE_LOG_DEBUG     ? spdlog::level::debug
                   : level == TRIAGE_LOG_INFO    ? spdlog::level::info
                   : level == TRIAGE_LOG_WARNING ? spdlog::level::warn
                                                 : spdlog::level::err;
  if (ctx == nullptr)
    spdlog::log(spd, "plugin: {}", line);
  else
    spdlog::log(spd, "{}: {}", attempt(ctx)->label(), line);
  return TRIAGE_RC_OK;
}

std::int32_t is_cancelled(triage_check_ctx ctx) {
  return ctx == nullptr ? 0 : (attempt(ctx)->cancelled() ? 1 : 0);
}

triage_rc get_deadline(triage_check_ctx ctx, std::int64_t* out) {
  if (ctx == nullptr || out == nullptr) return TRIAGE_RC_INVALID_ARGUMENT;
  *out = std::chrono::duration_cast<std::chrono::nanoseconds>(
             attempt(ctx)->deadline().time_since_epoch())
             .count();
  return TRIAGE_RC_OK;
}

triage_rc set_error(triage_check_ctx ctx, const char* message, std::uint64_t len) {
  if (ctx == nullptr || !valid_text(message, len)) return TRIAGE_RC_INVALID_ARGUMENT;
  attempt(ctx)->set_error(text(message, len));
  return TRIAGE_RC_OK;
}

}  // namespace

const triage_host_api* host_api() {
  static const triage_host_api api{sizeof(triage_host_api),
                                   TRIAGE_ABI_MAJOR,
                                   TRIAGE_ABI_MINOR,
                                   0,
                                   TRIAGE_VERSION,
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

}  // namespace triage::core
