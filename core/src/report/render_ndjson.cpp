// The NDJSON view, for log pipelines: one JSON object per check and line,
// each carrying the run's id, host and timestamps so a line stands alone.
#include "triage/core/report.hpp"

namespace triage::core {

std::string render_ndjson(const nlohmann::ordered_json& report) {
  const auto& run = report.at("run");
  const auto& summary = report.at("summary");
  std::string out;
  for (const auto& check : report.at("checks")) {
    nlohmann::ordered_json line{
        {"schema_version", report.at("schema_version")},
        {"run_id", run.at("id")},
        {"host", run.at("host")},
        {"run_started_at", run.at("started_at")},
        {"run_finished_at", run.at("finished_at")},
        {"run_status", summary.at("status")},
        {"run_partial", run.value("partial", false)},
    };
    for (const auto& [key, value] : check.items()) line[key] = value;
    out += line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  }
  return out;
}

}  // namespace triage::core
