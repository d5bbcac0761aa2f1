#include "helpers.hpp"

#include <catch2/catch.hpp>

#include "report_schema.hpp"

namespace triage::itest {

Services& services() {
  static Services instance;
  return instance;
}

std::string schema_errors(const nlohmann::json& report) {
  return triage::test::report_schema_errors(report);
}

nlohmann::json parse_json(const std::string& text) {
  INFO("text that should be JSON:\n" << text);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

const nlohmann::json& check_of(const nlohmann::json& report, const std::string& id) {
  for (const auto& c : report.at("checks"))
    if (c.at("id") == id) return c;
  std::string ids;
  for (const auto& c : report.at("checks")) ids += " " + c.at("id").get<std::string>();
  FAIL("no check '" << id << "' in the report; it has:" << ids);
  throw std::logic_error("unreachable");
}

const nlohmann::json* metric_of(const nlohmann::json& check, const std::string& name) {
  for (const auto& m : check.at("metrics"))
    if (m.at("name") == name) return &m;
  return nullptr;
}

bool has_finding(const nlohmann::json& check, const std::string& text) {
  for (const auto& f : check.at("findings"))
    if (f.at("title").get<std::string>().find(text) != std::string::npos) return true;
  return false;
}

std::string finding_titles(const nlohmann::json& check) {
  std::string out;
  for (const auto& f : check.at("findings"))
    out += (out.empty() ? "" : " | ") + f.at("title").get<std::string>();
  return out.empty() ? "(no findings)" : out;
}

nlohmann::json recount(const nlohmann::json& report) {
  nlohmann::json counts = {
      {"ok", 0}, {"warning", 0}, {"critical", 0}, {"unknown", 0}, {"skipped", 0}};
  for (const auto& c : report.at("checks")) {
    const auto status = c.at("status").get<std::string>();
    counts[status] = counts[status].get<int>() + 1;
  }
  return counts;
}

bool has_escape_codes(const std::string& text) {
  return text.find('\x1b') != std::string::npos;
}

std::string describe(const RunResult& r) {
  return "exit code " + std::to_string(r.exit_code) + "\n--- stdout ---\n" + r.out +
         "\n--- stderr ---\n" + r.err;
}

std::string fill(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  std::size_t from = 0;
  for (;;) {
    const auto start = text.find("${", from);
    if (start == std::string::npos) break;
    const auto end = text.find('}', start);
    if (end == std::string::npos) break;
    out += text.substr(from, start - from);
    out += vars.at(text.substr(start + 2, end - start - 2));
    from = end + 1;
  }
  return out + text.substr(from);
}

std::string test_plugin_dir() {
  return TRIAGE_TEST_PLUGIN_DIR;
}

}  // namespace triage::itest
