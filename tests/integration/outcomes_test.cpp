// `triage run` against real nginx and dnsmasq: every kind of outcome, config
// thresholds over plugin defaults, fan-out with dependencies, and retries.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <optional>
#include <string>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::fill;
using triage::itest::finding_titles;
using triage::itest::has_finding;
using triage::itest::metric_of;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::recount;
using triage::itest::run_triage;
using triage::itest::schema_errors;
using triage::itest::services;
using triage::itest::write_file;
using triage::test::free_port;
using triage::test::TempDir;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string loopback(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

// Runs the config with a JSON report written to a file; checks what every such
// run must satisfy (nothing on stdout, a schema-valid report whose counts
// match its checks) and returns the report.
nlohmann::json run_to_report(const TempDir& dir, const std::string& config,
                             std::optional<int> expected_exit) {
  const auto config_file = write_file(dir.path(), "checks.yaml", config);
  const auto report_file = dir.path() / "report.json";
  // With --output and no --format nothing goes to stdout; the file is JSON
  // by its extension.
  const std::vector<std::string> args{"run", "--config", config_file.string(), "--output",
                                      report_file.string()};
  const auto r = run_triage(args);
  INFO(describe(r));
  if (expected_exit) CHECK(r.exit_code == *expected_exit);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  const auto report = parse_json(read_file(report_file));
  INFO("report:\n" << report.dump(2));
  CHECK(schema_errors(report).empty());
  CHECK(report.at("summary").at("counts") == recount(report));
  CHECK(report.at("run").at("config_path") == config_file.string());
  // The exit code is the report's worst status.
  const std::string worst = report.at("summary").at("status");
  const int worst_code = worst == "warning"    ? 1
                         : worst == "critical" ? 2
                         : worst == "unknown"  ? 3
                                               : 0;
  CHECK(r.exit_code == worst_code);
  return report;
}

}  // namespace

TEST_CASE("a run against real services reports each kind of outcome", "[run][services]") {
  auto& s = services();
  const std::string ca = s.nginx.certs().ca.string();
  const std::string refused = loopback(free_port());
  const TempDir dir;
  const std::string config = fill(R"(version: 1
defaults: { timeout: 10s }
checks:
  - id: http-ok
    plugin: network
    type: http
    params: { target: "${http}/", samples: 5 }
  - id: http-500
    plugin: network
    type: http
    params: { target: "${http}/status/500" }
  - id: tcp-refused
    plugin: network
    type: tcp
    params: { target: "${refused}" }
  - id: tls-expired
    plugin: network
    type: tls
    params: { target: "${expired}", server_name: localhost, ca_file: "${ca}" }
  - id: tls-valid
    plugin: network
    type: tls
    params: { target: "${valid}", server_name: localhost, ca_file: "${ca}" }
  - id: tls-wrong-host
    plugin: network
    type: tls
    params: { target: "${wrong_host}", server_name: localhost, ca_file: "${ca}" }
  - id: dns-a
    plugin: network
    type: dns
    params: { target: api.triage.test, server: "${dns}", type: A, expect: ["10.0.0.5"] }
  - id: dns-nxdomain
    plugin: network
    type: dns
    params: { target: nothing-here.triage.test, server: "${dns}" }
  - id: http-blackhole
    plugin: network
    type: http
    timeout: 1s
    params: { target: "http://${blackhole}/" }
)",
                                  {{"http", s.nginx.http_url("")},
                                   {"refused", refused},
                                   {"expired", loopback(s.nginx.expired_port())},
                                   {"valid", loopback(s.nginx.https_port())},
                                   {"wrong_host", loopback(s.nginx.wrong_host_port())},
                                   {"ca", ca},
                                   {"dns", s.dns.server()},
                                   {"blackhole", loopback(s.blackhole.port())}});
  // The black hole may end critical (the check reports its own timeout) or
  // unknown (the core abandoned it); the exit code follows the worst status.
  const auto report = run_to_report(dir, config, std::nullopt);
  const auto& blackhole = check_of(report, "http-blackhole");
  const std::string blackhole_status = blackhole.at("status");
  const int expected_exit = blackhole_status == "unknown" ? 3 : 2;

  INFO("report:\n" << report.dump(2));
  CHECK(report.at("checks").size() == 9);
  CHECK(report.at("summary").at("counts").at("ok") == 3);
  CHECK(report.at("summary").at("counts").at("warning") == 0);
  CHECK(report.at("summary").at("counts").at("skipped") == 0);
  CHECK(report.at("summary").at("counts").at("critical").get<int>() +
            report.at("summary").at("counts").at("unknown").get<int>() ==
        6);
  CHECK(report.at("summary").at("status") == (expected_exit == 3 ? "unknown" : "critical"));
  for (const auto& c : report.at("checks")) {
    INFO(c.at("id"));
    CHECK(c.at("attempts") == 1);
    CHECK(c.at("plugin") == "network");
  }

  {
    INFO("http 200 with samples: percentiles and error rate with the plugin's thresholds");
    const auto& c = check_of(report, "http-ok");
    CHECK(c.at("status") == "ok");
    CHECK(c.at("type") == "http");
    CHECK(c.at("target") == s.nginx.http_url("/"));
    CHECK(c.at("attributes").at("requests") == "5 of 5");
    CHECK(c.at("attributes").at("status_code") == "200");
    const auto* p50 = metric_of(c, "latency_p50_ms");
    const auto* p95 = metric_of(c, "latency_p95_ms");
    const auto* p99 = metric_of(c, "latency_p99_ms");
    const auto* errors = metric_of(c, "error_rate_pct");
    REQUIRE(p50 != nullptr);
    REQUIRE(p95 != nullptr);
    REQUIRE(p99 != nullptr);
    REQUIRE(errors != nullptr);
    CHECK(p50->at("unit") == "ms");
    CHECK(p50->at("warning") == "100");
    CHECK(p50->at("critical").is_null());
    CHECK(p95->at("warning").is_null());
    CHECK(p99->at("warning") == "500");
    CHECK(p50->at("value").get<double>() <= p95->at("value").get<double>());
    CHECK(p95->at("value").get<double>() <= p99->at("value").get<double>());
    CHECK(errors->at("value") == 0);
    CHECK(errors->at("unit") == "%");
    CHECK(errors->at("warning") == "0.1");
    CHECK(errors->at("critical") == "5");
    CHECK(errors->at("status") == "ok");
  }

  {
    INFO("http 500 is critical");
    const auto& c = check_of(report, "http-500");
    INFO(finding_titles(c));
    CHECK(c.at("status") == "critical");
    CHECK(c.at("attributes").at("status_code") == "500");
    CHECK(has_finding(c, "Unexpected HTTP status"));
    CHECK(c.at("summary").get<std::string>().find("500") != std::string::npos);
    const auto* errors = metric_of(c, "error_rate_pct");
    REQUIRE(errors != nullptr);
    CHECK(errors->at("value") == 100);
    CHECK(errors->at("status") == "critical");
  }

  {
    INFO("tcp to a closed port is critical: Connection refused, with a remediation");
    const auto& c = check_of(report, "tcp-refused");
    INFO(finding_titles(c));
    CHECK(c.at("status") == "critical");
    CHECK(c.at("target") == refused);
    REQUIRE(has_finding(c, "Connection refused"));
    const auto& f = c.at("findings").at(0);
    CHECK(f.at("severity") == "critical");
    CHECK_FALSE(f.at("remediation").get<std::string>().empty());
    CHECK(c.at("error").is_null());
  }

  {
    INFO("tls with an expired certificate is critical");
    const auto& c = check_of(report, "tls-expired");
    INFO(finding_titles(c));
    CHECK(c.at("status") == "critical");
    CHECK(has_finding(c, "Certificate expired"));
    const auto* days = metric_of(c, "days_left");
    REQUIRE(days != nullptr);
    CHECK(days->at("value").get<double>() < 0);
    CHECK(days->at("status") == "critical");
  }

  {
    INFO("tls with a valid certificate and ca_file is ok, days_left carries 30:/7:");
    const auto& c = check_of(report, "tls-valid");
    INFO(finding_titles(c));
    CHECK(c.at("status") == "ok");
    CHECK(c.at("findings").empty());
    const auto* days = metric_of(c, "days_left");
    REQUIRE(days != nullptr);
    CHECK(days->at("unit") == "d");
    CHECK(days->at("warning") == "30:");
    CHECK(days->at("critical") == "7:");
    CHECK(days->at("status") == "ok");
    CHECK(days->at("value").get<double>() > 300);
    CHECK(metric_of(c, "handshake_ms") != nullptr);
    CHECK(c.at("attributes").at("san").get<std::string>().find("localhost") != std::string::npos);
  }

  {
    INFO("tls with a certificate for another name is critical: Hostname mismatch");
    const auto& c = check_of(report, "tls-wrong-host");
    INFO(finding_titles(c));
    CHECK(c.at("status") == "critical");
    CHECK(has_finding(c, "Hostname mismatch"));
    CHECK_FALSE(has_finding(c, "Certificate expired"));
  }

  {
    INFO("dns A with expect against dnsmasq is ok");
    const auto& c = check_of(report, "dns-a");
    CHECK(c.at("status") == "ok");
    CHECK(c.at("attributes").at("answers") == "10.0.0.5");
    CHECK(c.at("attributes").at("rcode") == "NOERROR");
    const auto* answers = metric_of(c, "answers");
    REQUIRE(answers != nullptr);
    CHECK(answers->at("value") == 1);
    CHECK(metric_of(c, "latency_ms") != nullptr);
  }

  {
    INFO("dns for a name that does not exist is critical: NXDOMAIN");
    const auto& c = check_of(report, "dns-nxdomain");
    INFO(finding_titles(c));
    CHECK(c.at("status") == "critical");
    CHECK(has_finding(c, "NXDOMAIN"));
    CHECK(c.at("attributes").at("rcode") == "NXDOMAIN");
  }

  {
    INFO("http to a listener that never answers, with timeout: 1s, times out");
    INFO(blackhole.dump(2));
    CHECK((blackhole_status == "critical" || blackhole_status == "unknown"));
    bool says_timed_out =
        blackhole.at("error").is_string() &&
        lower(blackhole.at("error").get<std::string>()).find("timed out") != std::string::npos;
    for (const auto& f : blackhole.at("findings"))
      says_timed_out =
          says_timed_out ||
          lower(f.at("title").get<std::string>()).find("timed out") != std::string::npos;
    CHECK(says_timed_out);
  }
}

TEST_CASE("config thresholds override the plugin's defaults", "[run][thresholds]") {
  auto& s = services();
  const TempDir dir;
  const std::string config = fill(R"(checks:
  - id: port-open
    plugin: network
    type: tcp
    params: { target: "${open}" }
    thresholds:
      latency_ms: { critical: "@0:100000" }
  - id: cert
    plugin: network
    type: tls
    params: { target: "${valid}", server_name: localhost, ca_file: "${ca}" }
    thresholds:
      days_left: { warning: "400:" }
)",
                                  {{"open", loopback(s.nginx.http_port())},
                                   {"valid", loopback(s.nginx.https_port())},
                                   {"ca", s.nginx.certs().ca.string()}});
  const auto report = run_to_report(dir, config, 2);
  INFO(report.dump(2));

  {
    INFO("a critical range on a metric the plugin gives none makes an open port critical");
    const auto& c = check_of(report, "port-open");
    CHECK(c.at("status") == "critical");
    CHECK(c.at("findings").empty());
    const auto* latency = metric_of(c, "latency_ms");
    REQUIRE(latency != nullptr);
    CHECK(latency->at("critical") == "@0:100000");
    CHECK(latency->at("warning").is_null());
    CHECK(latency->at("status") == "critical");
    CHECK(c.at("summary").get<std::string>().find("latency_ms") != std::string::npos);
  }

  {
    INFO("a configured warning replaces the plugin's, its critical default stays");
    const auto& c = check_of(report, "cert");
    CHECK(c.at("status") == "warning");
    const auto* days = metric_of(c, "days_left");
    REQUIRE(days != nullptr);
    CHECK(days->at("warning") == "400:");
    CHECK(days->at("critical") == "7:");
    CHECK(days->at("status") == "warning");
  }
}

TEST_CASE("fan-out makes one result per target; a dependent of a failing one is skipped",
          "[run][fanout]") {
  auto& s = services();
  const std::string open = loopback(s.nginx.http_port());
  const std::string closed = loopback(free_port());
  const TempDir dir;
  const std::string config =
      fill(R"(checks:
  - id: ports
    plugin: network
    type: tcp
    targets: ["${open}", "${closed}"]
  - id: api
    plugin: network
    type: http
    depends_on: [ports]
    params: { target: "${health}" }
)",
           {{"open", open}, {"closed", closed}, {"health", s.nginx.http_url("/health")}});
  const auto report = run_to_report(dir, config, 2);
  INFO(report.dump(2));
  REQUIRE(report.at("checks").size() == 3);

  const auto& up = check_of(report, "ports[" + open + "]");
  CHECK(up.at("status") == "ok");
  CHECK(up.at("target") == open);
  CHECK(up.at("attributes").at("address") == open);

  const auto& down = check_of(report, "ports[" + closed + "]");
  CHECK(down.at("status") == "critical");
  CHECK(down.at("target") == closed);
  CHECK(has_finding(down, "Connection refused"));

  const auto& api = check_of(report, "api");
  CHECK(api.at("status") == "skipped");
  CHECK(api.at("attempts") == 0);
  REQUIRE(api.at("skipped_because").is_string());
  const std::string because = api.at("skipped_because");
  CHECK(because.find("ports[" + closed + "]") != std::string::npos);
  CHECK(because.find("critical") != std::string::npos);
  CHECK(because.find("ports[" + open + "]") == std::string::npos);
  CHECK(report.at("summary").at("counts").at("skipped") == 1);
  CHECK(report.at("summary").at("status") == "critical");
}

TEST_CASE("retries: a check that keeps failing is attempted 1 + retries times", "[run][retries]") {
  const TempDir dir;
  const std::string config = fill(R"(checks:
  - id: refused
    plugin: network
    type: tcp
    retries: 2
    params: { target: "${refused}" }
)",
                                  {{"refused", loopback(free_port())}});
  const auto report = run_to_report(dir, config, 2);
  INFO(report.dump(2));
  const auto& c = check_of(report, "refused");
  CHECK(c.at("attempts") == 3);
  CHECK(c.at("status") == "critical");
  CHECK(has_finding(c, "Connection refused"));
  // Only the last attempt's findings are kept, not one per attempt.
  CHECK(c.at("findings").size() == 1);
}
