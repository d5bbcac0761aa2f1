// The run report: one JSON document (docs/report.schema.json) from which
// every other view is rendered.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "triage/core/config.hpp"
#include "triage/core/runner.hpp"

namespace triage::core {

inline constexpr int kReportSchemaVersion = 1;

struct RunInfo {
  std::string id;  // random, 32 hex digits
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point finished_at;
  std::string host;
  std::string config_path;  // "" for the built-in default
};

RunInfo start_run_info(std::string config_path);

nlohmann::ordered_json build_report(const Config& config, const RunOutcome& outcome,
                                    const RunInfo& info);

// "2026-11-27T21:03:04.123Z"
std::string iso8601(std::chrono::system_clock::time_point t);

enum class Format { text, json, nagios, junit };
std::optional<Format> parse_format(std::string_view name);

// Views of a report. The text view uses ANSI colour when `color` is set.
std::string render_json(const nlohmann::ordered_json& report);
std::string render_text(const nlohmann::ordered_json& report, bool color);
std::string render_nagios(const nlohmann::ordered_json& report);
std::string render_junit(const nlohmann::ordered_json& report);
std::string render(const nlohmann::ordered_json& report, Format format, bool color);

// The worst status of the report, as a process exit code (0..3).
int report_exit_code(const nlohmann::ordered_json& report);

}  // namespace triage::core
