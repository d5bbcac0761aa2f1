// Which checks a sweep of `triage serve` runs, and the latest result of each.
#include <algorithm>
#include <set>

#include "triage/core/serve_schedule.hpp"

namespace triage::core::serve {

Schedule::Schedule(std::chrono::milliseconds interval, std::uint64_t seed)
    : interval_(interval), random_(seed) {}

std::vector<std::size_t> Schedule::due(const Config& config, Clock::time_point now) const {
  std::vector<bool> run(config.checks.size(), false);
  std::map<std::string, std::vector<std::size_t>> by_base;
  for (std::size_t i = 0; i < config.checks.size(); ++i) {
    const auto& check = config.checks[i];
    by_base[check.base_id].push_back(i);
    const auto& own = check.interval;  // the check's own `interval:`, if any
    const auto last = last_started_.find(check.id);
    // Half a tick of slack: with jitter, "15 minutes since" can fall a few
    // seconds after a tick; waiting a whole further tick would be worse.
    run[i] = !own || *own <= interval_ || last == last_started_.end() ||
             now + interval_ / 2 >= last->second + *own;
  }
  // Prerequisites of what runs run too (transitively).
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < run.size(); ++i)
    if (run[i]) pending.push_back(i);
  while (!pending.empty()) {
    const std::size_t i = pending.back();
    pending.pop_back();
    for (const auto& dep : config.checks[i].depends_on)
      for (std::size_t d : by_base[dep])
        if (!run[d]) {
          run[d] = true;
          pending.push_back(d);
        }
  }
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < run.size(); ++i)
    if (run[i]) out.push_back(i);
  return out;
}

void Schedule::ran(const Config& config, const std::vector<std::size_t>& indices,
                   Clock::time_point started) {
  for (std::size_t i : indices) last_started_[config.checks.at(i).id] = started;
}

std::chrono::milliseconds Schedule::next_wait() {
  const auto spread =
      static_cast<long long>(static_cast<double>(interval_.count()) * kJitterFraction);
  if (spread <= 0) return interval_;
  std::uniform_int_distribution<long long> jitter(-spread, spread);
  return interval_ + std::chrono::milliseconds(jitter(random_));
}

void LatestResults::merge(const Config& config, const std::vector<std::size_t>& indices,
                          const RunOutcome& outcome) {
  for (std::size_t i = 0; i < indices.size() && i < outcome.results.size(); ++i)
    by_id_[config.checks.at(indices[i]).id] = outcome.results[i];
}

RunOutcome LatestResults::outcome_for(const Config& config, const RunOutcome& last) const {
  RunOutcome out;
  out.partial = last.partial;
  out.cut_reason = last.cut_reason;
  out.cut_running = last.cut_running;
  for (std::size_t i = 0; i < config.checks.size(); ++i) {
    const auto it = by_id_.find(config.checks[i].id);
    if (it == by_id_.end()) continue;
    out.results.push_back(it->second);
    out.results.back().index = i;
  }
  return out;
}

void LatestResults::retain(const Config& config) {
  std::set<std::string> ids;
  for (const auto& check : config.checks) ids.insert(check.id);
  std::erase_if(by_id_, [&](const auto& entry) { return ids.count(entry.first) == 0; });
}

}  // namespace triage::core::serve
