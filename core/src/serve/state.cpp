// The state `triage serve` shares between its sweep loop and its HTTP
// handlers: the latest report, the service's counters, the /healthz rule.
#include <cmath>

#include "triage/core/report.hpp"
#include "triage/core/serve_state.hpp"
#include "triage/core/text_format.hpp"

namespace triage::core::serve {

namespace {

std::string seconds_text(std::chrono::duration<double> d) {
  return plain_number(std::round(d.count() * 10) / 10) + "s";
}

void family(std::string& out, const char* name, const char* type, const char* help,
            const std::string& value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " " + value + "\n";
}

}  // namespace

ServiceState::ServiceState(std::chrono::milliseconds interval, Clock::time_point started)
    : interval_(interval), started_(started) {}

void ServiceState::sweep_started(Clock::time_point at) {
  std::lock_guard lock(mutex_);
  running_since_ = at;
}

void ServiceState::sweep_finished(std::shared_ptr<const nlohmann::ordered_json> report,
                                  std::chrono::duration<double> took, Clock::time_point finished) {
  std::lock_guard lock(mutex_);
  report_ = std::move(report);
  last_finished_ = finished;
  last_finished_wall_ = std::chrono::system_clock::now();
  running_since_.reset();
  last_duration_s_ = took.count();
  ++sweeps_;
}

void ServiceState::overrun(std::uint64_t missed_ticks) {
  std::lock_guard lock(mutex_);
  overruns_ += missed_ticks;
}

void ServiceState::history_write_failed() {
  std::lock_guard lock(mutex_);
  ++history_errors_;
}

void ServiceState::reload_failed() {
  std::lock_guard lock(mutex_);
  ++reload_failures_;
}

void ServiceState::reloaded() {
  std::lock_guard lock(mutex_);
  ++reloads_;
}

void ServiceState::set_interval(std::chrono::milliseconds interval) {
  std::lock_guard lock(mutex_);
  interval_ = interval;
}

std::shared_ptr<const nlohmann::ordered_json> ServiceState::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

std::uint64_t ServiceState::sweeps() const {
  std::lock_guard lock(mutex_);
  return sweeps_;
}

Health ServiceState::health(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto allowed = 2 * interval_;
  const auto since = last_finished_.value_or(started_);
  if (now - since <= allowed) {
    if (!last_finished_) return {true, "ok: starting, the first sweep has not finished yet\n"};
    return {true, "ok: the last sweep finished " + seconds_text(now - since) + " ago\n"};
  }
  std::string reason =
      last_finished_
          ? "the last sweep finished " + seconds_text(now - since) + " ago"
          : "no sweep has finished since the service started " + seconds_text(now - since) + " ago";
  reason += ", more than 2 intervals (" + seconds_text(allowed) + ")";
  if (running_since_)
    reason += "; the sweep in flight has run for " + seconds_text(now - *running_since_) +
              " (a check that hangs past the interval? see `triage run -c` with the same config)";
  return {false, reason + "\n"};
}

std::string ServiceState::metrics() const {
  std::shared_ptr<const nlohmann::ordered_json> report;
  std::string out;
  {
    std::lock_guard lock(mutex_);
    report = report_;
    family(out, "triage_sweep_duration_seconds", "gauge",
           "Wall time of the last finished sweep of triage serve.", plain_number(last_duration_s_));
    family(out, "triage_sweep_last_finished_timestamp_seconds", "gauge",
           "When the last sweep finished, in seconds since the epoch (0: none yet).",
           last_finished_
               ? plain_number(
                     std::chrono::duration<double>(last_finished_wall_.time_since_epoch()).count())
               : "0");
    family(out, "triage_sweeps_total", "counter", "Sweeps finished since the service started.",
           std::to_string(sweeps_));
    family(out, "triage_sweep_overruns_total", "counter",
           "Sweeps that were due while the previous one still ran (skipped, not stacked).",
           std::to_string(overruns_));
    family(out, "triage_history_write_errors_total", "counter",
           "Sweeps whose report could not be recorded in the history database.",
           std::to_string(history_errors_));
    family(out, "triage_config_reloads_total", "counter",
           "Configs reloaded on SIGHUP since the service started.", std::to_string(reloads_));
    family(out, "triage_config_reload_failures_total", "counter",
           "SIGHUP reloads refused (bad config: the previous one is kept).",
           std::to_string(reload_failures_));
  }
  // Rendered outside the lock: a scrape never holds up the sweep loop.
  return (report ? render_prometheus(*report) : std::string()) + out;
}

}  // namespace triage::core::serve
