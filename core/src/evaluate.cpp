#include "triage/core/evaluate.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

namespace triage::core {

namespace {

std::optional<Range> pick(const std::optional<Range>& configured, const std::string& fallback,
                          const CheckSpec& spec, const std::string& metric) {
  if (configured) return configured;
  if (fallback.empty()) return std::nullopt;
  try {
    return Range::parse(fallback);
  } catch (const RangeError& e) {
    spdlog::warn("{}: plugin default threshold for {} ignored: {}", spec.id, metric, e.what());
    return std::nullopt;
  }
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

void evaluate(const CheckSpec& spec, Outcome outcome, triage_rc rc, CheckResult& result) {
  Status status = outcome.status ? static_cast<Status>(*outcome.status) : Status::ok;
  std::string breaches;
  result.metrics.clear();
  for (auto& raw : outcome.metrics) {
    Metric m;
    m.name = std::move(raw.name);
    m.value = raw.value;
    m.unit = std::move(raw.unit);
    const auto it = spec.thresholds.find(m.name);
    const ThresholdSpec configured = it == spec.thresholds.end() ? ThresholdSpec{} : it->second;
    m.warning = pick(configured.warning, raw.default_warning, spec, m.name);
    m.critical = pick(configured.critical, raw.default_critical, spec, m.name);
    if (m.critical && m.critical->alerts(m.value))
      m.status = Status::critical;
    else if (m.warning && m.warning->alerts(m.value))
      m.status = Status::warning;
    if (m.status != Status::ok) {
      const Range& range = m.status == Status::critical ? *m.critical : *m.warning;
      breaches += (breaches.empty() ? "" : ", ") + m.name + " " + number(m.value) + m.unit + " " +
                  range.describe() + " (" + std::string(to_string(m.status)) + ")";
    }
    status = worst(status, m.status);
    result.metrics.push_back(std::move(m));
  }
  // A threshold for a metric the check never emitted is most likely a typo
  // in the config; say so rather than ignore it silently.
  for (const auto& [name, _] : spec.thresholds)
    if (std::none_of(result.metrics.begin(), result.metrics.end(),
                     [&](const Metric& m) { return m.name == name; }) &&
        result.error.empty() && outcome.error.empty())
      spdlog::warn("{}: threshold for '{}' matches no metric this check emitted", spec.id, name);
  for (const auto& f : outcome.findings)
    status = worst(status, static_cast<Status>(static_cast<int>(f.severity)));

  result.error = std::move(outcome.error);
  if (result.error.empty() && rc != TRIAGE_RC_OK)
    result.error = "check failed with code " + std::to_string(rc) + " and gave no reason";
  if (!result.error.empty()) status = Status::unknown;

  result.summary = std::move(outcome.summary);
  if (result.summary.empty()) result.summary = result.error;
  if (!breaches.empty()) result.summary += (result.summary.empty() ? "" : "; ") + breaches;
  if (result.summary.empty()) result.summary = std::string(to_string(status));
  result.status = status;
  result.findings = std::move(outcome.findings);
  result.attributes = std::move(outcome.attributes);
  result.truncated = result.truncated || outcome.truncated;
}

}  // namespace triage::core
