#include "triage/core/evaluate.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "triage/core/plugin_loader.hpp"
#include "triage/core/text_format.hpp"

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

// The config's thresholds for metric `name`: by its exact name, else for a
// per-item metric "p[ITEM]" those given for all items as "p[*]".
ThresholdSpec configured_for(const CheckSpec& spec, const std::string& name) {
  auto it = spec.thresholds.find(name);
  if (it == spec.thresholds.end()) {
    const auto open = name.find('[');
    if (open != std::string::npos && open > 0 && name.back() == ']')
      it = spec.thresholds.find(name.substr(0, open) + "[*]");
  }
  return it == spec.thresholds.end() ? ThresholdSpec{} : it->second;
}

// True when the config's threshold `threshold` applies to one of metrics.
bool applies(const std::string& threshold, const std::vector<RawMetric>& metrics) {
  return std::any_of(metrics.begin(), metrics.end(), [&](const RawMetric& m) {
    return m.name == threshold || declared_name_covers(threshold, m.name, nlohmann::json());
  });
}

}  // namespace

void evaluate(const CheckSpec& spec, Outcome outcome, triage_rc rc, CheckResult& result) {
  Status status = outcome.status ? static_cast<Status>(*outcome.status) : Status::ok;
  // A check type that declares its metrics had its thresholds checked with
  // the config. For one that does not (ABI 1.0), a threshold for a metric
  // the check never emitted is most likely a typo: say so, once per check,
  // and only after an attempt that ran and emitted metrics (a check that
  // failed first emitted nothing to compare with).
  const bool ran = rc == TRIAGE_RC_OK && outcome.error.empty() &&
                   outcome.status.value_or(TRIAGE_STATUS_OK) != TRIAGE_STATUS_UNKNOWN;
  if (!spec.metrics && !result.thresholds_checked && ran && !outcome.metrics.empty()) {
    result.thresholds_checked = true;
    for (const auto& [name, _] : spec.thresholds)
      if (!applies(name, outcome.metrics))
        spdlog::warn("{}: threshold for '{}' matches no metric this check emitted", spec.id, name);
  }
  std::string breaches;
  result.metrics.clear();
  for (auto& raw : outcome.metrics) {
    Metric m;
    m.name = std::move(raw.name);
    m.value = raw.value;
    m.unit = std::move(raw.unit);
    const MetricDecl* declared = spec.metrics ? spec.metrics->find(m.name, spec.params) : nullptr;
    // A range given with the metric wins over the declared default.
    if (declared != nullptr) {
      if (raw.default_warning.empty()) raw.default_warning = declared->warning;
      if (raw.default_critical.empty()) raw.default_critical = declared->critical;
      if (m.unit.empty()) m.unit = declared->unit;
    }
    const ThresholdSpec configured = configured_for(spec, m.name);
    m.warning = pick(configured.warning, raw.default_warning, spec, m.name);
    m.critical = pick(configured.critical, raw.default_critical, spec, m.name);
    if (m.critical && m.critical->alerts(m.value))
      m.status = Status::critical;
    else if (m.warning && m.warning->alerts(m.value))
      m.status = Status::warning;
    if (m.status != Status::ok) {
      const Range& range = m.status == Status::critical ? *m.critical : *m.warning;
      // Rounded for people (3 significant digits); the metric keeps the value.
      breaches += (breaches.empty() ? "" : ", ") + m.name + " " + people_number(m.value) + m.unit +
                  " " + range.describe() + " (" + std::string(to_string(m.status)) + ")";
      if (declared != nullptr) m.remediation = declared->remediation;
    }
    status = worst(status, m.status);
    result.metrics.push_back(std::move(m));
  }
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
