// What one check produced: the raw outcome of an attempt as the plugin
// reported it, and the evaluated result after thresholds, retries and skips.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <triage/evaluation.hpp>
#include <utility>
#include <vector>

#include "triage/core/range.hpp"
#include "triage/core/status.hpp"

namespace triage::core {

enum class Severity { info = 0, warning = 1, critical = 2 };
std::string_view to_string(Severity s);

struct Finding {
  Severity severity = Severity::info;
  std::string title;
  std::string detail;
  std::string remediation;
};

struct RawMetric {
  std::string name;
  double value = 0;
  std::string unit;
  std::string default_warning;
  std::string default_critical;
};

// Caps on what one attempt may report; what goes past them is dropped or cut
// and the outcome is marked truncated.
// What the core keeps of one check's output: the SDK's rules
// (triage/evaluation.hpp), so that the testing kit keeps the same.
using OutputLimits = triage::evaluation::Limits;

// Bounds the log lines of one plugin in one run, across all its checks (and
// its hosts): the first `limit` are admitted, the rest counted. Thread safe.
class LogBudget {
 public:
  static constexpr std::uint64_t kDefaultLimit = 1000;
  explicit LogBudget(std::uint64_t limit = kDefaultLimit) : limit_(limit) {}
  // True for a line within the limit. The first refusal returns false and
  // sets *first_refused, for a one-time "suppressed from now on" line.
  bool admit(bool* first_refused = nullptr) {
    const auto n = used_.fetch_add(1);
    if (first_refused != nullptr) *first_refused = n == limit_;
    return n < limit_;
  }
  std::uint64_t limit() const { return limit_; }
  std::uint64_t suppressed() const {
    const auto used = used_.load();
    return used > limit_ ? used - limit_ : 0;
  }

 private:
  std::uint64_t limit_;
  std::atomic<std::uint64_t> used_{0};
};

// Everything one attempt reported through the host API.
struct Outcome {
  std::optional<int> status;  // TRIAGE_STATUS_* as set by the plugin
  std::string summary;
  std::vector<RawMetric> metrics;
  std::vector<Finding> findings;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string error;
  bool truncated = false;
  bool cleaned = false;                    // sanitize_utf8 changed some text (not in the report)
  std::uint64_t log_lines_suppressed = 0;  // past OutputLimits::log_lines
};

// One execution of one check: the state the host API writes into. Shared
// between the runner and the thread running the plugin, which may outlive
// the runner's interest in it (an abandoned, hung check).
class Attempt {
 public:
  Attempt(std::string label, std::chrono::steady_clock::time_point deadline,
          OutputLimits limits = {})
      : label_(std::move(label)), deadline_(deadline), limits_(limits) {}

  // The check instance id, for log lines.
  const std::string& label() const { return label_; }
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }
  void cancel() { cancelled_.store(true); }
  bool cancelled() const {
    return cancelled_.load() || std::chrono::steady_clock::now() >= deadline_;
  }

  // Each returns true when the value was kept whole, false when a limit cut
  // or dropped it (the check is then marked truncated) or the attempt has
  // ended. Text is cleaned first (sanitize_utf8), then capped.
  bool set_status(int status, std::string summary);
  bool add_metric(RawMetric metric);
  bool add_finding(Finding finding);
  bool set_attribute(std::string key, std::string value);
  void set_error(std::string message);
  void mark_truncated();
  void mark_cleaned();

  // The plugin's log budget for the run, shared by its checks.
  void set_log_budget(std::shared_ptr<LogBudget> budget) { log_budget_ = std::move(budget); }
  // Whether the check may log one more line: within OutputLimits::log_lines
  // and its plugin's budget. Refused lines are counted in the outcome.
  bool admit_log();
  // Lines a plugin host refused on the check's behalf (process isolation).
  void count_log_lines_suppressed(std::uint64_t n);

  Outcome take();  // the outcome so far; further writes are ignored

 private:
  // text cleaned and cut to limit; *whole becomes false when it was cut.
  std::string cap(std::string_view text, std::size_t limit, bool* whole);

  std::string label_;
  std::chrono::steady_clock::time_point deadline_;
  OutputLimits limits_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  bool closed_ = false;
  Outcome outcome_;
  std::size_t log_lines_ = 0;
  std::shared_ptr<LogBudget> log_budget_;
};

struct Metric {
  std::string name;
  double value = 0;
  std::string unit;
  std::optional<Range> warning;
  std::optional<Range> critical;
  Status status = Status::ok;
  // What to do about it, from the check type's declaration (ABI 1.1); set
  // only when a threshold was crossed (status warning or critical).
  std::string remediation;
};

// The evaluated result of one check instance, as it goes into the report.
struct CheckResult {
  std::size_t index = 0;  // into Config::checks
  Status status = Status::unknown;
  std::string summary;
  std::vector<Metric> metrics;
  std::vector<Finding> findings;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string error;
  std::string skipped_because;
  double duration_ms = 0;
  int attempts = 0;
  bool truncated = false;
  // evaluate() looked for thresholds that match no emitted metric (done once
  // per check, not per attempt).
  bool thresholds_checked = false;
};

// Cleans plugin text before it reaches a report or a log line: invalid UTF-8
// becomes U+FFFD, C0 controls (but newline and tab), DEL and C1 controls
// become spaces, and bidi controls and the line/paragraph separators
// (is_layout_control) become visible text such as `<U+202E>`.
std::string sanitize_utf8(std::string_view text);

}  // namespace triage::core
