#include "triage/core/host_api.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace triage::core {

namespace {

// Sizes of the 1.0 structs: the least a plugin may hand us. A plugin built
// against a later minor may pass a larger struct; we read only these fields.
constexpr std::uint32_t kMetricV1Size =
    offsetof(triage_metric, default_critical_len) + sizeof(std::uint64_t);
constexpr std::uint32_t kFindingV1Size =
    offsetof(triage_finding, remediation_len) + sizeof(std::uint64_t);
constexpr std::uint64_t kMaxInput = 64ull << 20;  // refuses absurd lengths outright

// ---- check handles ----------------------------------------------------------
//
// A handle is a value, not a pointer: (generation << kIndexBits) | (slot + 1),
// so it is never null. A slot holds the Attempt while its run() is in
// progress; closing bumps nothing but empties the slot, and reopening it
// gives it a new generation, so an old handle never reaches a new Attempt.
// Closed slots are reused oldest first, which keeps a stale handle naming
// its own check (for the log line) for as long as possible.

constexpr unsigned kIndexBits = sizeof(std::uintptr_t) * 4;
constexpr std::uintptr_t kIndexMask = (std::uintptr_t{1} << kIndexBits) - 1;

struct Slot {
  std::mutex mutex;  // held by a host call while it uses attempt, and by close
  std::uintptr_t generation = 0;
  Attempt* attempt = nullptr;  // null once closed
  std::string who;             // "plugin P: check C" of the current or last holder
  std::uint64_t stale = 0;     // calls refused since the last close
};

class HandleTable {
 public:
  triage_check_ctx open(Attempt& a, std::string who) {
    Slot* slot = nullptr;
    std::uintptr_t index = 0;
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty() && (free_.size() > 64 || slots_.size() >= kIndexMask)) {
        index = free_.front();
        free_.pop_front();
      } else {
        index = slots_.size();
        slots_.push_back(std::make_unique<Slot>());
      }
      slot = slots_[index].get();
    }
    std::lock_guard lock(slot->mutex);
    slot->generation = (slot->generation + 1) & (~std::uintptr_t{0} >> kIndexBits);
    slot->attempt = &a;
    slot->who = std::move(who);
    slot->stale = 0;
    return reinterpret_cast<triage_check_ctx>((slot->generation << kIndexBits) | (index + 1));
  }

  void close(triage_check_ctx ctx) {
    const auto value = reinterpret_cast<std::uintptr_t>(ctx);
    const std::uintptr_t index = (value & kIndexMask) - 1;
    Slot* slot = find(index);
    if (slot == nullptr) return;
    {
      std::lock_guard lock(slot->mutex);  // waits for a call in flight
      slot->attempt = nullptr;
    }
    std::lock_guard lock(mutex_);
    free_.push_back(index);
  }

  // The slot of index, or nullptr for an index never given out.
  Slot* find(std::uintptr_t index) {
    std::lock_guard lock(mutex_);
    return index < slots_.size() ? slots_[index].get() : nullptr;
  }

  std::atomic<std::uint64_t> stale_calls{0};
  std::atomic<bool> unknown_logged{false};

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<std::uintptr_t> free_;
};

// Never destroyed: a plugin's detached thread may call the host while the
// process exits.
HandleTable& handles() {
  static auto* table = new HandleTable();
  return *table;
}

// A handle resolved for one host call: the Attempt it names, with its slot
// locked until the call ends, or nothing (false) when ctx is null, stale or
// unknown. A stale or unknown handle is counted, and logged once per check.
class Live {
 public:
  explicit Live(triage_check_ctx ctx) {
    if (ctx == nullptr) return;
    auto& table = handles();
    const auto value = reinterpret_cast<std::uintptr_t>(ctx);
    Slot* slot = (value & kIndexMask) == 0 ? nullptr : table.find((value & kIndexMask) - 1);
    if (slot != nullptr) {
      lock_ = std::unique_lock(slot->mutex);
      if (slot->generation == value >> kIndexBits && slot->attempt != nullptr) {
        attempt_ = slot->attempt;
        return;
      }
    }
    table.stale_calls.fetch_add(1);
    if (slot != nullptr && slot->generation == value >> kIndexBits) {
      if (++slot->stale == 1)
        spdlog::warn(
            "{} called the host after its run() returned (from a thread it left running); "
            "the call was refused, and so is every later one",
            slot->who);
      return;
    }
    lock_ = {};
    if (!table.unknown_logged.exchange(true))
      spdlog::warn(
          "a plugin called the host with a check handle it was never given or that ended "
          "long ago; such calls are refused");
  }
  explicit operator bool() const { return attempt_ != nullptr; }
  Attempt* operator->() const { return attempt_; }

 private:
  std::unique_lock<std::mutex> lock_;
  Attempt* attempt_ = nullptr;
};

constexpr std::uint64_t kLogLineBytes = OutputLimits{}.log_line_bytes;

// What a host function returns for a value the Attempt kept, or cut/dropped.
triage_rc kept(bool whole) {
  return whole ? TRIAGE_RC_OK : TRIAGE_RC_LIMIT;
}

// Log lines passed without a check handle (from init() or a plugin's own
// threads): one budget for the process, as they name no check. Never
// destroyed, like the handle table.
LogBudget& unattributed_log_budget() {
  static auto* budget = new LogBudget();
  return *budget;
}

bool valid_text(const char* p, std::uint64_t n) {
  return (p != nullptr || n == 0) && n <= kMaxInput;
}

std::string text(const char* p, std::uint64_t n) {
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
}

triage_rc set_status(triage_check_ctx ctx, std::int32_t status, const char* summary,
                     std::uint64_t len) {
  const Live live(ctx);
  if (!live || status < TRIAGE_STATUS_OK || status > TRIAGE_STATUS_UNKNOWN ||
      !valid_text(summary, len))
    return TRIAGE_RC_INVALID_ARGUMENT;
  return kept(live->set_status(status, text(summary, len)));
}

triage_rc emit_metric(triage_check_ctx ctx, const triage_metric* m) {
  // A NaN or an infinity is no measurement, and JSON cannot carry it.
  const Live live(ctx);
  if (!live || m == nullptr || m->struct_size < kMetricV1Size || !std::isfinite(m->value) ||
      !valid_text(m->name, m->name_len) || m->name_len == 0 || !valid_text(m->unit, m->unit_len) ||
      !valid_text(m->default_warning, m->default_warning_len) ||
      !valid_text(m->default_critical, m->default_critical_len))
    return TRIAGE_RC_INVALID_ARGUMENT;
  return kept(live->add_metric({text(m->name, m->name_len), m->value, text(m->unit, m->unit_len),
                                text(m->default_warning, m->default_warning_len),
                                text(m->default_critical, m->default_critical_len)}));
}

triage_rc add_finding(triage_check_ctx ctx, const triage_finding* f) {
  const Live live(ctx);
  if (!live || f == nullptr || f->struct_size < kFindingV1Size ||
      f->severity < TRIAGE_SEVERITY_INFO || f->severity > TRIAGE_SEVERITY_CRITICAL ||
      !valid_text(f->title, f->title_len) || !valid_text(f->detail, f->detail_len) ||
      !valid_text(f->remediation, f->remediation_len))
    return TRIAGE_RC_INVALID_ARGUMENT;
  return kept(live->add_finding({static_cast<Severity>(f->severity), text(f->title, f->title_len),
                                 text(f->detail, f->detail_len),
                                 text(f->remediation, f->remediation_len)}));
}

triage_rc set_attribute(triage_check_ctx ctx, const char* key, std::uint64_t key_len,
                        const char* value, std::uint64_t value_len) {
  const Live live(ctx);
  if (!live || key_len == 0 || !valid_text(key, key_len) || !valid_text(value, value_len))
    return TRIAGE_RC_INVALID_ARGUMENT;
  return kept(live->set_attribute(text(key, key_len), text(value, value_len)));
}

triage_rc log(triage_check_ctx ctx, std::int32_t level, const char* message, std::uint64_t len) {
  const Live live(ctx);  // a stale handle's log line is refused like its other calls
  if (ctx != nullptr && !live) return TRIAGE_RC_INVALID_ARGUMENT;
  if (!valid_text(message, len)) return TRIAGE_RC_INVALID_ARGUMENT;
  // Bounded per check (OutputLimits::log_lines) and per plugin (its
  // LogBudget); a line without a check shares one budget per process.
  if (live ? !live->admit_log() : !unattributed_log_budget().admit()) return TRIAGE_RC_LIMIT;
  const auto line = sanitize_utf8(text(message, std::min<std::uint64_t>(len, kLogLineBytes)));
  const auto spd = level <= TRIAGE_LOG_DEBUG     ? spdlog::level::debug
                   : level == TRIAGE_LOG_INFO    ? spdlog::level::info
                   : level == TRIAGE_LOG_WARNING ? spdlog::level::warn
                                                 : spdlog::level::err;
  if (ctx == nullptr)
    spdlog::log(spd, "plugin: {}", line);
  else
    spdlog::log(spd, "{}: {}", live->label(), line);
  return len > kLogLineBytes ? TRIAGE_RC_LIMIT : TRIAGE_RC_OK;
}

std::int32_t is_cancelled(triage_check_ctx ctx) {
  if (ctx == nullptr) return 0;
  const Live live(ctx);
  return !live || live->cancelled() ? 1 : 0;  // a stale handle: stop
}

triage_rc get_deadline(triage_check_ctx ctx, std::int64_t* out) {
  const Live live(ctx);
  if (!live || out == nullptr) return TRIAGE_RC_INVALID_ARGUMENT;
  *out = std::chrono::duration_cast<std::chrono::nanoseconds>(live->deadline().time_since_epoch())
             .count();
  return TRIAGE_RC_OK;
}

triage_rc set_error(triage_check_ctx ctx, const char* message, std::uint64_t len) {
  const Live live(ctx);
  if (!live || !valid_text(message, len)) return TRIAGE_RC_INVALID_ARGUMENT;
  live->set_error(text(message, len));
  return TRIAGE_RC_OK;
}

}  // namespace

CheckHandle::CheckHandle(Attempt& attempt, const std::string& plugin)
    : handle_(handles().open(attempt, (plugin.empty() ? "" : "plugin " + plugin + ": ") + "check " +
                                          attempt.label())) {}

CheckHandle::~CheckHandle() {
  handles().close(handle_);
}

std::uint64_t stale_host_calls() {
  return handles().stale_calls.load();
}

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
