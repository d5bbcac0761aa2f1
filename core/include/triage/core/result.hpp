// What one check produced: the raw outcome of an attempt as the plugin
// reported it, and the evaluated result after thresholds, retries and skips.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
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
struct OutputLimits {
  std::size_t summary_bytes = 4096;
  std::size_t text_bytes = 16384;  // finding detail/remediation, attribute value
  std::size_t metrics = 256;
  std::size_t findings = 64;
  std::size_t attributes = 64;
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

  void set_status(int status, std::string summary);
  void add_metric(RawMetric metric);
  void add_finding(Finding finding);
  void set_attribute(std::string key, std::string value);
  void set_error(std::string message);
  void mark_truncated();

  Outcome take();  // the outcome so far; further writes are ignored

 private:
  std::string cap(std::string text, std::size_t limit);

  std::string label_;
  std::chrono::steady_clock::time_point deadline_;
  OutputLimits limits_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  bool closed_ = false;
  Outcome outcome_;
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

// Replaces invalid UTF-8 sequences with U+FFFD so nothing malformed reaches a report.
std::string sanitize_utf8(std::string_view text);

}  // namespace triage::core
