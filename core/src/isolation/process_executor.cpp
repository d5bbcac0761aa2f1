// Runs checks through plugin-host processes: one host per plugin, restarted
// after a crash, given up after repeated crashes; a check that ignores its
// deadline gets its host killed, and the checks it shared the host with are
// sent again to a fresh one. When a host crashes with several checks in
// flight, each runs again alone, and only the one that crashes again is blamed.
#include <spdlog/spdlog.h>

#include <boost/dll/runtime_symbol_info.hpp>

#include "triage/core/duration.hpp"
#include "triage/core/host_protocol.hpp"
#include "triage/core/plugin_host.hpp"

namespace triage::core {

namespace {
using Clock = std::chrono::steady_clock;
// How long a cancelled check may take to return its own result before its
// host is killed; shorter than the runner's grace so the executor, not the
// runner, reports the timeout.
constexpr auto kCancelGrace = std::chrono::milliseconds(150);
}  // namespace

HostOptions default_host_options(bool allow_insecure) {
  HostOptions options;
  options.executable = boost::dll::program_location().string();
  options.allow_insecure = allow_insecure;
  return options;
}

ProcessExecutor::~ProcessExecutor() {
  for (const auto& [file, budget] : log_budgets_) {
    if (budget->suppressed() == 0) continue;
    std::string name = file.string();
    for (const auto& [plugin, slot] : slots_)
      if (slot.file == file) name = plugin;
    spdlog::warn("plugin {}: {} log lines suppressed (at most {} per plugin in a run)", name,
                 budget->suppressed(), budget->limit());
  }
}

HostOptions ProcessExecutor::options_for(const std::filesystem::path& file, int memory_limit_mb) {
  HostOptions options = options_;
  if (memory_limit_mb >= 0) options.memory_limit_mb = memory_limit_mb;
  auto& budget = log_budgets_[file];
  if (!budget) budget = std::make_shared<LogBudget>();
  options.log_budget = budget;
  return options;
}

std::optional<Plugin> ProcessExecutor::discover(const std::filesystem::path& file,
                                                std::string& reason) {
  HostOptions options;
  {
    std::lock_guard lock(mutex_);
    options = options_for(file, -1);
  }
  auto host = HostProcess::start(file, options, reason);
  if (!host) return std::nullopt;
  Plugin plugin = host->plugin();
  std::lock_guard lock(mutex_);
  auto& slot = slots_[plugin.name];
  if (!slot.host) {  // the first plugin of a name wins, as in the search path
    slot.file = file;
    slot.host = std::move(host);
  }
  return plugin;
}

void ProcessExecutor::set_memory_limit(const std::string& plugin, int mb) {
  std::lock_guard lock(mutex_);
  auto& slot = slots_[plugin];
  slot.memory_limit_mb = mb;
  // The host that discovered it runs without the limit: the next check
  // starts one with it.
  if (mb != options_.memory_limit_mb) slot.host.reset();
}

std::shared_ptr<HostProcess> ProcessExecutor::host_for(const std::string& plugin,
                                                       std::string& why) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(plugin);
  if (it == slots_.end() || it->second.file.empty()) {
    why = "plugin " + plugin + " was not discovered";
    return nullptr;
  }
  Slot& slot = it->second;
  if (slot.host && slot.host->alive()) return slot.host;
  if (slot.host && slot.host->crashed() && !slot.host->crash_counted.exchange(true)) {
    ++slot.crashes;
    slot.last_crash = slot.host->exit_description();
  }
  if (slot.crashes >= max_crashes_) {
    why = "plugin " + plugin + " given up after " + std::to_string(slot.crashes) +
          " crashes in this run (last: " + slot.last_crash + ")";
    return nullptr;
  }
  const HostOptions options = options_for(slot.file, slot.memory_limit_mb);
  std::string reason;
  slot.host = HostProcess::start(slot.file, options, reason);
  if (!slot.host) {
    why = "plugin " + plugin + " could not be restarted: " + reason;
    ++slot.crashes;
    slot.last_crash = reason;
    return nullptr;
  }
  if (slot.crashes > 0 || options.memory_limit_mb != options_.memory_limit_mb)
    spdlog::info("plugin {}: host started (after {} crash(es))", plugin, slot.crashes);
  return slot.host;
}

std::shared_ptr<HostProcess> ProcessExecutor::solo_host(const std::string& plugin,
                                                        std::string& why) {
  std::filesystem::path file;
  HostOptions options;
  {
    std::lock_guard lock(mutex_);
    const auto it = slots_.find(plugin);
    if (it == slots_.end() || it->second.file.empty()) {
      why = "plugin " + plugin + " was not discovered";
      return nullptr;
    }
    if (it->second.crashes >= max_crashes_) {
      why = "plugin " + plugin + " given up after " + std::to_string(it->second.crashes) +
            " crashes in this run (last: " + it->second.last_crash + ")";
      return nullptr;
    }
    file = it->second.file;
    options = options_for(file, it->second.memory_limit_mb);
  }
  std::string reason;
  auto host = HostProcess::start(file, options, reason);
  if (!host) why = "plugin " + plugin + " could not be restarted: " + reason;
  return host;
}

void ProcessExecutor::count_crash(const std::string& plugin, const std::string& description) {
  std::lock_guard lock(mutex_);
  auto& slot = slots_[plugin];
  ++slot.crashes;
  slot.last_crash = description;
}

triage_rc ProcessExecutor::execute(const CheckSpec& spec, Attempt& attempt) {
  const std::string params = spec.params.dump();
  bool alone = false;  // running again in a host of its own after a shared crash
  for (;;) {
    std::string why;
    auto host = alone ? solo_host(spec.plugin, why) : host_for(spec.plugin, why);
    if (!host) {
      attempt.set_error(why);
      return TRIAGE_RC_ERROR;
    }
    auto pending = host->submit(spec.id, spec.type, params, attempt.deadline());
    std::unique_lock lock(pending->mutex);
    std::optional<Clock::time_point> cancelled_at;
    while (!pending->done) {
      if (!cancelled_at && attempt.cancelled()) {
        lock.unlock();
        host->cancel(pending);
        lock.lock();
        cancelled_at = Clock::now();
      }
      if (cancelled_at && Clock::now() - *cancelled_at > kCancelGrace) {
        // It ignores cancellation: end its host (and whatever it started).
        host->kill("killed because check " + spec.id + " ignored its deadline");
        attempt.set_error(Clock::now() >= attempt.deadline()
                              ? "timed out after " + format_duration(spec.timeout)
                              : "cancelled: the check did not stop in time");
        return TRIAGE_RC_ERROR;
      }
      pending->done_cv.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (!pending->lost) {
      try {
        protocol::outcome_from_json(pending->outcome, attempt);
      } catch (const std::exception& e) {
        attempt.set_error(std::string("plugin host sent a malformed result: ") + e.what());
        return TRIAGE_RC_ERROR;
      }
      return pending->rc;
    }
    // Lost with a host the core killed for another check: not this check's
    // fault, so it goes again to a fresh host while time remains.
    if (pending->collateral && !attempt.cancelled()) continue;
    if (alone) count_crash(spec.plugin, pending->lost_reason);
    // The host crashed with other checks in it, or after others ran in it
    // (one may have left a thread behind): any of them may have done it. Run
    // this one again, alone; only a crash it reproduces (or one it had the
    // host to itself for, from its start) is blamed on it.
    if (!alone && pending->shared && !attempt.cancelled()) {
      spdlog::info("{}: plugin {} {} with {} check(s) in flight; running it again alone", spec.id,
                   spec.plugin, pending->lost_reason, pending->in_flight);
      alone = true;
      continue;
    }
    attempt.set_error("plugin " + spec.plugin + " " + pending->lost_reason +
                      " while running check " + spec.id + (alone ? " (again when run alone)" : ""));
    return TRIAGE_RC_ERROR;
  }
}

}  // namespace triage::core
