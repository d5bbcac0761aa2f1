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

// Redacts the secrets in the report's free text — ids, targets, summaries,
// errors, skip reasons, tags, metric names and units, findings, attribute
// keys and values, the host and config path — and nowhere else: never its
// keys or enum values (a secret "critical" must not rewrite a status).
void redact_free_text(nlohmann::ordered_json& report, const Secrets& secrets);

nlohmann::ordered_json build_report(const Config& config, const RunOutcome& outcome,
                                    const RunInfo& info);

// "2026-11-27T21:03:04.123Z"
std::string iso8601(std::chrono::system_clock::time_point t);

enum class Format { text, json, ndjson, nagios, junit, prometheus };
std::optional<Format> parse_format(std::string_view name);
std::string_view to_string(Format format);
// The format a file name asks for by its extension (.json, .ndjson, .txt,
// .xml → junit, .nagios, .prom); nullopt for any other name.
std::optional<Format> format_for_file(const std::string& path);
// "text, json, ndjson, nagios, junit or prometheus", for help and errors.
std::string_view format_names();

// How the text view is laid out for the place it is printed to.
struct RenderOptions {
  bool color = false;      // ANSI colour (only ever on a terminal)
  bool utf8 = true;        // false: ASCII only, for a non-UTF-8 locale
  std::size_t width = 80;  // wrap the text view to this many columns
};

// Views of a report.
std::string render_json(const nlohmann::ordered_json& report);
std::string render_text(const nlohmann::ordered_json& report, const RenderOptions& options);
std::string render_ndjson(const nlohmann::ordered_json& report);
std::string render_nagios(const nlohmann::ordered_json& report);
std::string render_junit(const nlohmann::ordered_json& report);
std::string render_prometheus(const nlohmann::ordered_json& report);
std::string render(const nlohmann::ordered_json& report, Format format,
                   const RenderOptions& options = {});

// The one Nagios line for a run that could not produce a report (a usage or
// config error, an interruption before any result): "TRIAGE UNKNOWN - why".
std::string nagios_unknown_line(std::string_view why);

// Checks that a parsed JSON document is a Triage report this version can
// render (schema_version, run, summary and checks of the right shapes).
// Throws std::invalid_argument saying what is wrong.
void check_report_shape(const nlohmann::ordered_json& report);

// The worst status of the report, as a process exit code (0..3).
int report_exit_code(const nlohmann::ordered_json& report);

}  // namespace triage::core
