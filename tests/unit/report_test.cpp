// The report document against docs/report.schema.json, and every view of it.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "report_schema.hpp"
#include "services.hpp"
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
      {"latency_p50_ms", 150, "ms", Range::parse("100"), std::nullopt, Status::warning, ""});
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
  // 1 critical + 1 unknown + 1 warning: the Monitoring Plugins order puts
  // critical on top (max_state_alt), never unknown.
  CHECK(report["summary"]["status"] == "critical");
  CHECK(report["summary"]["message"].is_null());
  CHECK(report["summary"]["counts"]["skipped"] == 1);
  CHECK(report["checks"][4]["skipped_because"] == "dependency web is critical");
  CHECK(report["checks"][0]["target"] == "10.0.0.1:443");
  CHECK(report["checks"][2]["target"].is_null());
  CHECK(report_exit_code(report) == 2);
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
  const auto text = render_text(sample_report(), {});
  CHECK(text.find('\x1b') == std::string::npos);
  const auto critical = text.find("CRITICAL  web");
  const auto unknown = text.find("UNKNOWN   odd");
  const auto warning = text.find("WARNING   api");
  const auto ok = text.find("OK        dns");
  REQUIRE(critical != std::string::npos);
  CHECK(critical < warning);
  CHECK(warning < unknown);
  CHECK(unknown < ok);
  CHECK_THAT(text, Catch::Contains("Connection refused: nothing listens on 10.0.0.1:443"));
  CHECK_THAT(text, Catch::Contains("→ Start the service; check firewall rules"));
  CHECK_THAT(text, Catch::Contains("latency_p50_ms = 150 ms  (warning threshold 100)"));
  CHECK_THAT(text, Catch::Contains("CRITICAL — 1 critical, 1 warning, 1 unknown, 1 ok, 1 skipped"));
  CHECK_THAT(text, Catch::StartsWith("triage 1.0.0 · host "));
  RenderOptions color;
  color.color = true;
  CHECK(render_text(sample_report(), color).find("\x1b[") != std::string::npos);
}

TEST_CASE("the nagios view is one line with perfdata", "[report][views]") {
  const auto out = render_nagios(sample_report());
  const auto line = out.substr(0, out.find('\n'));
  CHECK_THAT(line, Catch::StartsWith("TRIAGE CRITICAL - 1 critical, 1 warning, 1 unknown, 1 ok, 1 "
                                     "skipped: web: connection refused; api: 200 OK"));
  CHECK_THAT(line, Catch::EndsWith(" | 'api.latency_p50_ms'=150ms;100"));
  // Long output: the failing checks' evidence and remediation, worst first.
  const auto rest = out.substr(line.size() + 1);
  CHECK_THAT(rest, Catch::StartsWith("CRITICAL web: connection refused\n"
                                     "  [critical] Connection refused: nothing listens on "
                                     "10.0.0.1:443\n    fix: Start the service; check firewall "
                                     "rules\n"));
  CHECK_THAT(rest, Catch::Contains("WARNING api: 200 OK\n  latency_p50_ms = 150 ms (warning "
                                   "threshold 100)\n"));
  CHECK(rest.find('|') == std::string::npos);
}

TEST_CASE("the junit view maps statuses to failures, errors and skips", "[report][views]") {
  const auto xml = render_junit(sample_report());
  // junit-10.xsd: `skipped` counts only on <testsuite>, never on <testsuites>.
  CHECK_THAT(xml, Catch::Contains("<testsuites name=\"triage\" tests=\"5\" failures=\"2\" "
                                  "errors=\"1\" time="));
  CHECK_THAT(xml, Catch::Contains("tests=\"5\" failures=\"2\" errors=\"1\" skipped=\"1\""));
  const auto suites = xml.substr(0, xml.find("<testsuite "));
  CHECK(suites.find("skipped") == std::string::npos);
  CHECK_THAT(xml, Catch::Contains("<failure type=\"critical\" message=\"connection refused\">"));
  CHECK_THAT(xml, Catch::Contains("<error type=\"unknown\" message=\"param &apos;type&apos; has "
                                  "the wrong type\">"));
  CHECK_THAT(xml, Catch::Contains("<skipped message=\"skipped: dependency web is critical\"/>"));
}

TEST_CASE("the junit view is valid XML whatever code points the report holds",
          "[report][views][junit]") {
  // U+FFFE and U+FFFF are valid UTF-8 but not XML 1.0 characters (nor is a
  // C0 control but tab, line feed and carriage return, even as a reference);
  // a saved report, or a file name a plugin reports, may hold them.
  const std::string nonchar_fffe = "\xEF\xBF\xBE";
  const std::string nonchar_ffff = "\xEF\xBF\xBF";
  const std::string bad = "a" + nonchar_fffe + "b" + nonchar_ffff +
                          "c\x01"
                          "d\x1b[31me\xC3"
                          "f";
  auto report = sample_report();
  report["run"]["host"] = "host" + bad;
  auto& web = report["checks"][0];
  web["id"] = "web" + bad;
  web["summary"] = "refused" + bad;
  web["findings"][0]["title"] = "Connection refused" + bad;
  web["findings"][0]["detail"] = "/srv/data/file" + bad + ".log";
  web["findings"][0]["remediation"] = "Start it" + bad;
  report["checks"][3]["summary"] = "unknown" + bad;              // <error message=...>
  report["checks"][4]["summary"] = "skipped" + bad;              // <skipped message=...>
  report["checks"][2]["id"] = "dns" + bad + "\xF0\x9F\x94\x92";  // ok; U+1F512 stays
  const std::string xml = render_junit(report);
  for (const std::string& forbidden :
       {nonchar_fffe, nonchar_ffff, std::string("\x01"), std::string("\x1b"),
        std::string("\xC3"
                    "f")})
    CHECK(xml.find(forbidden) == std::string::npos);
  // Each becomes U+FFFD, so a reader sees something was there.
  const std::string r = "\xEF\xBF\xBD";
  CHECK_THAT(xml, Catch::Contains("refused"
                                  "a" +
                                  r + "b" + r + "c" + r + "d" + r + "[31me" + r + "f"));
  CHECK_THAT(xml, Catch::Contains("\xF0\x9F\x94\x92"));
  CHECK_THAT(xml, Catch::Contains("/srv/data/file"));

  const triage::test::TempDir dir;
  const auto file = dir.path() / "report.xml";
  std::ofstream(file, std::ios::binary) << xml;
  const std::string command = "xmllint --noout --schema " + std::string(TRIAGE_SOURCE_DIR) +
                              "/tests/integration/schemas/junit-10.xsd " + file.string() + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  for (std::size_t n = 0; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = ::pclose(pipe);
  INFO(out);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("formats are named text, json, ndjson, nagios, junit and prometheus", "[report][views]") {
  CHECK(parse_format("json") == Format::json);
  CHECK(parse_format("nagios") == Format::nagios);
  CHECK(parse_format("ndjson") == Format::ndjson);
  CHECK(parse_format("prometheus") == Format::prometheus);
  CHECK_FALSE(parse_format("yaml"));
  CHECK(format_for_file("out/r.json") == Format::json);
  CHECK(format_for_file("r.ndjson") == Format::ndjson);
  CHECK(format_for_file("r.xml") == Format::junit);
  CHECK(format_for_file("r.txt") == Format::text);
  CHECK(format_for_file("r.nagios") == Format::nagios);
  CHECK(format_for_file("/var/lib/node_exporter/triage.prom") == Format::prometheus);
  CHECK_FALSE(format_for_file("report"));
  CHECK_FALSE(format_for_file("dir.json/report"));
  const auto json = render(sample_report(), Format::json);
  CHECK(nlohmann::json::parse(json)["run"]["config_path"] == "r.yaml");
}
