// The JSON Schema of triage's report (docs/report.schema.json), for tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace triage::test {

// Errors of the report against docs/report.schema.json, one per line; "" when valid.
std::string report_schema_errors(const nlohmann::json& report);

}  // namespace triage::test
