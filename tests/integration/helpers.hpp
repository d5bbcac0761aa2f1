// What the integration tests share: the real services (started once for the
// whole executable), the report schema, and lookups into a report.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "run_triage.hpp"
#include "services.hpp"

namespace triage::itest {

// nginx (HTTP and TLS), dnsmasq and a Blackhole listener, started on first
// use and stopped when the test executable exits.
struct Services {
  triage::test::Nginx nginx;
  triage::test::Dnsmasq dns;
  triage::test::Blackhole blackhole;
};
Services& services();

// Errors of the document against docs/report.schema.json, one per line; "" when valid.
std::string schema_errors(const nlohmann::json& report);

// Parses text as JSON; a parse failure becomes a test failure with the text shown.
nlohmann::json parse_json(const std::string& text);

// The check with this id in the report's "checks"; fails the test when absent.
const nlohmann::json& check_of(const nlohmann::json& report, const std::string& id);

// The metric with this name of a check, or nullptr.
const nlohmann::json* metric_of(const nlohmann::json& check, const std::string& name);

// True when one finding's title contains `text` (case-sensitive).
bool has_finding(const nlohmann::json& check, const std::string& text);

// The titles of a check's findings, for failure messages.
std::string finding_titles(const nlohmann::json& check);

// Counts the checks of a report by status, as the summary should.
nlohmann::json recount(const nlohmann::json& report);

// True when text contains an ANSI escape sequence.
bool has_escape_codes(const std::string& text);

// A short description of a run for INFO(): exit code, stdout and stderr.
std::string describe(const RunResult& r);

// text with every ${NAME} replaced by vars.at(NAME); throws std::out_of_range
// on a name not in vars, so a config never goes out with a hole in it.
std::string fill(const std::string& text, const std::map<std::string, std::string>& vars);

// The plugin folder of the test plugins (c-echo, test-cxx, and broken files).
std::string test_plugin_dir();

}  // namespace triage::itest
