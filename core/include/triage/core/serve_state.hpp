// What `triage serve` knows between sweeps, shared by the sweep loop (which
// writes it) and the HTTP handlers (which read it): the latest report, the
// service's own counters, and the /healthz rule. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace triage::core::serve {

struct Health {
  bool ok = false;
  std::string reason;  // one line, for the /healthz body
};

class ServiceState {
 public:
  using Clock = std::chrono::steady_clock;

  // interval: the service's --interval; /healthz allows 2 of them between
  // finished sweeps. started: when the service started (counts as a finish
  // until the first sweep has finished).
  ServiceState(std::chrono::milliseconds interval, Clock::time_point started);

  // A sweep finished (cut short or not) and produced this report of the
  // latest result of every check.
  void sweep_finished(std::shared_ptr<const nlohmann::ordered_json> report,
                      std::chrono::duration<double> took, Clock::time_point finished);
  void sweep_started(Clock::time_point at);
  void overrun(std::uint64_t missed_ticks);
  void history_write_failed();
  void reload_failed();
  void reloaded();
  void set_interval(std::chrono::milliseconds interval);

  // The latest report; null before the first sweep finished.
  std::shared_ptr<const nlohmann::ordered_json> report() const;

  // 200 while the last sweep finished within 2 intervals (the service's
  // start counting as a finish until one has), else 503 with the reason.
  Health health(Clock::time_point now) const;

  // The Prometheus text exposition: render_prometheus of the latest report
  // (nothing before the first sweep) followed by the service's own families.
  std::string metrics() const;

  std::uint64_t sweeps() const;

 private:
  mutable std::mutex mutex_;
  std::chrono::milliseconds interval_;
  Clock::time_point started_;
  std::shared_ptr<const nlohmann::ordered_json> report_;
  std::optional<Clock::time_point> last_finished_;
  std::optional<Clock::time_point> running_since_;  // a sweep in flight
  double last_duration_s_ = 0;
  std::chrono::system_clock::time_point last_finished_wall_{};
  std::uint64_t sweeps_ = 0, overruns_ = 0, history_errors_ = 0, reloads_ = 0, reload_failures_ = 0;
};

}  // namespace triage::core::serve
