// The report document against docs/report.schema.json, and every view of it.
#include <catch2/catch.hpp>

#include "report_schema.hpp"
#include "triage/core/report.hpp"

using namespace triage::core;

namespace {

// The report as `triage run` would write it, against docs/report.schema.json.
std::string schema_errors(const nlohmann::ordered_json& report) {
  return triage::test::report_schema_errors(nlohmann::json::parse(report.dump()));
}

// A run with one check of every status, built the way `triage run` builds it.
nlohmann::ordered_json sample_report() {
  static const Config config = parse_config(R"(checks:
  - {id: web, plugin: network, type: tcp, tags: [prod], params: {target: "10.0.0.1:443"}}
  - {id: api, plugin: network, type: http, params: {target: "http://x/"}}
  - {id: dns, plugin: network, type: dns}
  - {id: odd, plugin: network, type: dns}
  - {id: after, plugin: network, type: tcp, depends_on: [web]}
)",
                                            "r.yaml");
  RunOutcome out;
  out.results.resize(5);
  for (std::size_t i = 0; i < 5; ++i) out.results[i].index = i;
  auto& web = out.results[0];
  web.status = Status::critical;
  web.summary = "connection refused";
  web.attempts = 1;
  web.findings.push_back({Severity::critical, "Connection refused",
                          "nothing listens on 10.0.0.1:443",
                          "Start the service; check firewall rules"});
  auto& api = out.results[1];
  api.status = Status::warning;
  api.summary = "200 OK";
  api.attempts = 1;
  api.metrics.push_back(
      {"latency_p50_ms", 150, "ms", Range::parse("100"), std::nullopt, Status::warning});
  auto& dns = out.results[2];
  dns.status = Status::ok;
  dns.summary = "10.0.0.5";
  dns.attempts = 1;
  dns.attributes.emplace_back("answers", "10.0.0.5");
  auto& odd = out.results[3];
  odd.status = Status::unknown;
  odd.error = "param 'type' has the wrong type";
  odd.summary = odd.error;
  odd.attempts = 1;
  auto& after = out.results[4];
  after.status = Status::skipped;
  after.skipped_because = "dependency web is critical";
  after.summary = "skipped: dependency web is critical";
  RunInfo info = start_run_info("r.yaml");
  info.finished_at = info.started_at + std::chrono::milliseconds(42);
  return build_report(config, out, info);
}

}  // namespace

TEST_CASE("the report validates against the published schema", "[report][schema]") {
  const auto report = sample_report();
  CHECK(schema_errors(report).empty());
  CHECK(report["schema_version"] == 1);
  CHECK(report["summary"]["status"] == "unknown");
  CHECK(report["summary"]["counts"]["skipped"] == 1);
  CHECK(report["checks"][4]["skipped_because"] == "dependency web is critical");
  CHECK(report["checks"][0]["target"] == "10.0.0.1:443");
  CHECK(report["checks"][2]["target"].is_null());
  CHECK(report_exit_code(report) == 3);
}

TEST_CASE("the schema rejects a report that breaks it", "[report][schema]") {
  auto report = sample_report();
  report["checks"][0]["status"] = "fine";
  CHECK_FALSE(schema_errors(report).empty());
  auto missing = sample_report();
  missing["checks"][1].erase("findings");
  CHECK_FALSE(schema_errors(missing).empty());
}

TEST_CASE("the text view lists failures first with evidence and remediation", "[report][views]") {
  const auto text = render_text(sample_report(), false);
  CHECK(text.find('\x1b') == std::string::npos);
  const auto critical = text.find("CRITICAL  web");
  const auto unknown = text.find("UNKNOWN   odd");
  const auto warning = text.find("WARNING   api");
  const auto ok = text.find("OK        dns");
  REQUIRE(critical != std::string::npos);
  CHECK(critical < unknown);
  CHECK(unknown < warning);
  CHECK(warning < ok);
  CHECK_THAT(text, Catch::Contains("Connection refused: nothing listens on 10.0.0.1:443"));
  CHECK_THAT(text, Catch::Contains("→ Start the service; check firewall rules"));
  CHECK_THAT(text, Catch::Contains("latency_p50_ms = 150 ms  (warning threshold 100)"));
  CHECK_THAT(text, Catch::Contains("1 critical, 1 unknown, 1 warning, 1 ok, 1 skipped"));
  CHECK(render_text(sample_report(), true).find("\x1b[") != std::string::npos);
}

TEST_CASE("the nagios view is one line with perfdata", "[report][views]") {
  const auto line = render_nagios(sample_report());
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
  CHECK_THAT(line, Catch::StartsWith("TRIAGE UNKNOWN - 1 critical, 1 unknown, 1 warning, 1 ok, 1 "
                                     "skipped: web: connection refused;"));
  CHECK_THAT(line, Catch::Contains(" | 'api.latency_p50_ms'=150ms;100;;;"));
}

TEST_CASE("the junit view maps statuses to failures, errors and skips", "[report][views]") {
  const auto xml = render_junit(sample_report());
  CHECK_THAT(xml, Catch::Contains("tests=\"5\" failures=\"2\" errors=\"1\" skipped=\"1\""));
  CHECK_THAT(xml, Catch::Contains("<failure type=\"critical\" message=\"connection refused\">"));
  CHECK_THAT(xml, Catch::Contains("<error type=\"unknown\" message=\"param &apos;type&apos; has "
                                  "the wrong type\">"));
  CHECK_THAT(xml, Catch::Contains("<skipped message=\"skipped: dependency web is critical\"/>"));
}

TEST_CASE("formats are named text, json, nagios and junit", "[report][views]") {
  CHECK(parse_format("json") == Format::json);
  CHECK(parse_format("nagios") == Format::nagios);
  CHECK_FALSE(parse_format("yaml"));
  const auto json = render(sample_report(), Format::json, false);
  CHECK(nlohmann::json::parse(json)["run"]["config_path"] == "r.yaml");
}
