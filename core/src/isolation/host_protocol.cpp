#include "triage/core/host_protocol.hpp"

#include <memory>

namespace triage::core::protocol {

nlohmann::json plugin_to_json(const Plugin& p) {
  auto types = nlohmann::json::array();
  for (const auto& t : p.types)
    types.push_back({{"name", t.name},
                     {"description", t.description},
                     {"params_schema", t.params_schema},
                     {"flags", t.flags},
                     // null: the type declares no metrics (ABI 1.0)
                     {"metrics", t.metrics ? nlohmann::json(metrics_to_json(*t.metrics))
                                           : nlohmann::json(nullptr)}});
  return {{"name", p.name},
          {"version", p.version},
          {"description", p.description},
          {"sdk_version", p.sdk_version},
          {"abi_major", p.abi_major},
          {"abi_minor", p.abi_minor},
          {"types", types}};
}

Plugin plugin_from_json(const nlohmann::json& j) {
  Plugin p;
  p.name = j.at("name").get<std::string>();
  p.version = j.at("version").get<std::string>();
  p.description = j.at("description").get<std::string>();
  p.sdk_version = j.at("sdk_version").get<std::string>();
  p.abi_major = j.at("abi_major").get<std::uint32_t>();
  p.abi_minor = j.at("abi_minor").get<std::uint32_t>();
  for (const auto& t : j.at("types")) {
    std::shared_ptr<const MetricCatalog> metrics;
    if (t.contains("metrics") && !t.at("metrics").is_null())
      metrics = std::make_shared<const MetricCatalog>(metrics_from_json(t.at("metrics")));
    p.types.push_back({t.at("name").get<std::string>(), t.at("description").get<std::string>(),
                       t.at("params_schema").get<std::string>(), t.at("flags").get<std::uint32_t>(),
                       nullptr, nullptr, std::move(metrics)});
  }
  return p;
}

nlohmann::json outcome_to_json(const Outcome& o) {
  auto metrics = nlohmann::json::array();
  for (const auto& m : o.metrics)
    metrics.push_back({m.name, m.value, m.unit, m.default_warning, m.default_critical});
  auto findings = nlohmann::json::array();
  for (const auto& f : o.findings)
    findings.push_back({static_cast<int>(f.severity), f.title, f.detail, f.remediation});
  auto attributes = nlohmann::json::array();
  for (const auto& [k, v] : o.attributes) attributes.push_back({k, v});
  nlohmann::json j{{"summary", o.summary},     {"metrics", metrics}, {"findings", findings},
                   {"attributes", attributes}, {"error", o.error},   {"truncated", o.truncated}};
  j["status"] = o.status ? nlohmann::json(*o.status) : nlohmann::json(nullptr);
  if (o.log_lines_suppressed > 0) j["log_lines_suppressed"] = o.log_lines_suppressed;
  if (o.cleaned) j["cleaned"] = true;
  return j;
}

void outcome_from_json(const nlohmann::json& j, Attempt& into) {
  if (!j.at("status").is_null())
    into.set_status(j.at("status").get<int>(), j.at("summary").get<std::string>());
  for (const auto& m : j.at("metrics")) {
    if (!m.at(1).is_number()) continue;  // never sent by an honest host
    into.add_metric({m.at(0).get<std::string>(), m.at(1).get<double>(), m.at(2).get<std::string>(),
                     m.at(3).get<std::string>(), m.at(4).get<std::string>()});
  }
  for (const auto& f : j.at("findings")) {
    const int severity = f.at(0).get<int>();
    if (severity < 0 || severity > 2) continue;
    into.add_finding({static_cast<Severity>(severity), f.at(1).get<std::string>(),
                      f.at(2).get<std::string>(), f.at(3).get<std::string>()});
  }
  for (const auto& kv : j.at("attributes"))
    into.set_attribute(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
  const auto error = j.at("error").get<std::string>();
  if (!error.empty()) into.set_error(error);
  if (j.at("truncated").get<bool>()) into.mark_truncated();
  if (const auto it = j.find("cleaned"); it != j.end() && it->is_boolean() && it->get<bool>())
    into.mark_cleaned();
  if (const auto it = j.find("log_lines_suppressed"); it != j.end())
    into.count_log_lines_suppressed(it->get<std::uint64_t>());
}

}  // namespace triage::core::protocol
