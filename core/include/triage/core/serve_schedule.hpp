// When each check of `triage serve` runs, and the latest result of every
// check between sweeps. The service ticks every --interval (with jitter, so
// that a fleet started together does not probe shared services in step);
// at each tick the checks that are due run: every check by default, a check
// with its own `interval:` only once that much time has passed since it last
// ran. The served report holds the latest result of every check, whichever
// sweep produced it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "triage/core/config.hpp"
#include "triage/core/runner.hpp"

namespace triage::core::serve {

using Clock = std::chrono::steady_clock;

// The jitter of each wait between sweeps: up to this fraction of the
// interval, earlier or later.
inline constexpr double kJitterFraction = 0.1;

class Schedule {
 public:
  explicit Schedule(std::chrono::milliseconds interval,
                    std::uint64_t seed = std::random_device{}());

  std::chrono::milliseconds interval() const { return interval_; }

  // The indices (into config.checks, in config order) of the checks to run
  // at `now`: those never run, those without an interval of their own, and
  // those whose interval has (nearly: within half a tick) passed since they
  // last started; plus every check these depend on, so that a dependent is
  // judged against a fresh result of its prerequisite, as in `triage run`.
  std::vector<std::size_t> due(const Config& config, Clock::time_point now) const;

  // Records that these checks started at `started`.
  void ran(const Config& config, const std::vector<std::size_t>& indices,
           Clock::time_point started);

  // How long to wait before the next tick: the interval, plus or minus up
  // to kJitterFraction of it.
  std::chrono::milliseconds next_wait();

 private:
  std::chrono::milliseconds interval_;
  std::mt19937_64 random_;
  std::map<std::string, Clock::time_point> last_started_;  // by instance id
};

// The latest result of every check, across sweeps.
class LatestResults {
 public:
  // Keeps the results of a sweep that ran config.checks[indices[i]] as
  // outcome.results[i].
  void merge(const Config& config, const std::vector<std::size_t>& indices,
             const RunOutcome& outcome);

  // A RunOutcome over all of config.checks (results indexed into it) for
  // build_report: each check's latest result; a check that has none yet
  // (never ran) is absent. partial and cut_reason are those of `last`.
  RunOutcome outcome_for(const Config& config, const RunOutcome& last) const;

  // Drops the results of checks the config no longer has (after a reload).
  void retain(const Config& config);

 private:
  std::map<std::string, CheckResult> by_id_;
};

}  // namespace triage::core::serve
