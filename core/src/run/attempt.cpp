#include <triage/plugin.h>

#include "triage/core/result.hpp"

namespace triage::core {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::critical:
      return "critical";
    case Severity::warning:
      return "warning";
    default:
      return "info";
  }
}

std::string sanitize_utf8(std::string_view in) {
  return evaluation::clean_text(in);
}

std::string Attempt::cap(std::string_view text, std::size_t limit, bool* whole) {
  bool cleaned = false;
  auto out = evaluation::cap_text(text, limit, *whole, &cleaned);
  if (cleaned) outcome_.cleaned = true;
  if (!*whole) outcome_.truncated = true;
  return out;
}

bool Attempt::set_status(int status, std::string summary) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  bool whole = true;
  outcome_.status = status;
  outcome_.summary = cap(summary, limits_.summary_bytes, &whole);
  return whole;
}

bool Attempt::add_metric(RawMetric metric) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  if (outcome_.metrics.size() >= limits_.metrics) {
    outcome_.truncated = true;
    return false;
  }
  bool whole = true;
  metric.name = cap(metric.name, limits_.name_bytes, &whole);
  metric.unit = cap(metric.unit, limits_.unit_bytes, &whole);
  outcome_.metrics.push_back(std::move(metric));
  return whole;
}

bool Attempt::add_finding(Finding finding) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  if (outcome_.findings.size() >= limits_.findings) {
    outcome_.truncated = true;
    return false;
  }
  bool whole = true;
  finding.title = cap(finding.title, limits_.summary_bytes, &whole);
  finding.detail = cap(finding.detail, limits_.text_bytes, &whole);
  finding.remediation = cap(finding.remediation, limits_.text_bytes, &whole);
  outcome_.findings.push_back(std::move(finding));
  return whole;
}

bool Attempt::set_attribute(std::string key, std::string value) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  bool whole = true;
  key = cap(key, limits_.name_bytes, &whole);
  value = cap(value, limits_.text_bytes, &whole);
  for (auto& kv : outcome_.attributes)
    if (kv.first == key) {
      kv.second = std::move(value);
      return whole;
    }
  if (outcome_.attributes.size() >= limits_.attributes) {
    outcome_.truncated = true;
    return false;
  }
  outcome_.attributes.emplace_back(std::move(key), std::move(value));
  return whole;
}

bool Attempt::admit_log() {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  if (++log_lines_ > limits_.log_lines) {
    ++outcome_.log_lines_suppressed;
    return false;
  }
  bool first_refused = false;
  if (log_budget_ && !log_budget_->admit(&first_refused)) {
    ++outcome_.log_lines_suppressed;
    return false;
  }
  return true;
}

void Attempt::count_log_lines_suppressed(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  outcome_.log_lines_suppressed += n;
}

void Attempt::set_error(std::string message) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  bool whole = true;
  outcome_.error = cap(message, limits_.summary_bytes, &whole);
}

void Attempt::mark_truncated() {
  std::lock_guard lock(mutex_);
  outcome_.truncated = true;
}

void Attempt::mark_cleaned() {
  std::lock_guard lock(mutex_);
  outcome_.cleaned = true;
}

Outcome Attempt::take() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  return std::move(outcome_);
}

}  // namespace triage::core
