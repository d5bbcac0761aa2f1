// The report's views (text, nagios, junit, json), --output, and --version.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <string>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::fill;
using triage::itest::has_escape_codes;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::run_triage;
using triage::itest::RunEnv;
using triage::itest::schema_errors;
using triage::itest::write_file;
using triage::test::free_port;
using triage::test::TempDir;

namespace {

// One check of each of ok, critical and unknown; no service is needed.
std::string mixed_config() {
  return fill(R"(checks:
  - id: lo
    plugin: network
    type: loopback
    params: { target: "127.0.0.1" }
  - id: closed-port
    plugin: network
    type: tcp
    params: { target: "${closed}" }
  - id: bad-target
    plugin: network
    type: tcp
    params: { target: "no-port-here" }
)",
              {{"closed", "127.0.0.1:" + std::to_string(free_port())}});
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The value of attribute `name` in the first element `tag` of an XML text.
std::string xml_attribute(const std::string& xml, const std::string& tag, const std::string& name) {
  std::smatch m;
  const std::regex element("<" + tag + "\\b[^>]*>");
  if (!std::regex_search(xml, m, element)) return "(no <" + tag + ">)";
  const std::string text = m.str();
  const std::regex attr("\\b" + name + "=\"([^\"]*)\"");
  std::smatch a;
  if (!std::regex_search(text, a, attr)) return "(no " + name + ")";
  return a[1].str();
}

// dir/checks.yaml with one check, `lo`: loopback on 127.0.0.1.
std::string loopback_config(const TempDir& dir) {
  return write_file(dir.path(), "checks.yaml", R"(checks:
  - id: lo
    plugin: network
    type: loopback
    params: { target: "127.0.0.1" }
)")
      .string();
}

}  // namespace

TEST_CASE("every format renders the same run", "[run][formats]") {
  const TempDir dir;
  const std::string config = write_file(dir.path(), "checks.yaml", mixed_config()).string();
  auto run = [&](const std::string& format, RunEnv env = {}) {
    return run_triage({"run", "--config", config, "--format", format}, env);
  };

  SECTION("text: no colour, failures before ok, remediation lines") {
    const auto r = run("text", RunEnv{{{"NO_COLOR", "1"}}});
    INFO(describe(r));
    CHECK(r.exit_code == 2);  // critical outranks unknown (max_state_alt)
    CHECK_FALSE(has_escape_codes(r.out));
    CHECK(r.out.rfind("triage 1.0.0", 0) == 0);
    const auto critical = r.out.find("CRITICAL  closed-port");
    const auto unknown = r.out.find("UNKNOWN   bad-target");
    const auto ok = r.out.find("OK        lo ");
    REQUIRE(critical != std::string::npos);
    REQUIRE(unknown != std::string::npos);
    REQUIRE(ok != std::string::npos);
    CHECK(critical < unknown);
    CHECK(unknown < ok);
    // The finding, then its remediation on the next line.
    const auto finding = r.out.find("Connection refused", critical);
    const auto remediation = r.out.find("→ ", critical);
    CHECK(finding < ok);
    CHECK(remediation < ok);
    CHECK(finding < remediation);
    CHECK(r.out.find("error: ", unknown) < ok);
    CHECK(r.out.find("CRITICAL — 1 critical, 1 unknown, 1 ok") != std::string::npos);
  }

  SECTION("text without NO_COLOR is also plain when stdout is not a terminal") {
    const auto r = run("text");
    INFO(describe(r));
    CHECK_FALSE(has_escape_codes(r.out));
  }

  SECTION("nagios: a status line with perfdata after ' | ', then the evidence") {
    const auto r = run("nagios");
    INFO(describe(r));
    CHECK(r.exit_code == 2);
    CHECK(r.out.back() == '\n');
    const std::string first = r.out.substr(0, r.out.find('\n'));
    CHECK(first.rfind("TRIAGE CRITICAL - 1 critical, 1 unknown, 1 ok", 0) == 0);
    const auto bar = first.find(" | ");
    REQUIRE(bar != std::string::npos);
    CHECK(r.out.find('|', bar + 2) == std::string::npos);
    const std::string status = first.substr(0, bar);
    CHECK(status.find("closed-port: ") != std::string::npos);
    CHECK(status.find("bad-target: ") != std::string::npos);
    const std::string perf = first.substr(bar + 3);
    CHECK(std::regex_search(perf, std::regex("'lo\\.latency_ms'=[0-9.]+ms( |$)")));
    // Long output, one line each: the failing checks with their evidence.
    CHECK(lines(r.out) > 2);
    CHECK(r.out.find("\nCRITICAL closed-port: ") != std::string::npos);
    CHECK(r.out.find("\nUNKNOWN bad-target: ") != std::string::npos);
  }

  SECTION("junit: counts in attributes, one testcase per check") {
    const auto r = run("junit");
    INFO(describe(r));
    CHECK(r.exit_code == 2);
    CHECK(r.out.rfind("<?xml", 0) == 0);
    CHECK(xml_attribute(r.out, "testsuites", "tests") == "3");
    CHECK(xml_attribute(r.out, "testsuites", "failures") == "1");
    CHECK(xml_attribute(r.out, "testsuites", "errors") == "1");
    // junit-10.xsd has no `skipped` on <testsuites>; <testsuite> keeps it.
    CHECK(xml_attribute(r.out, "testsuites", "skipped") == "(no skipped)");
    CHECK(xml_attribute(r.out, "testsuite", "skipped") == "0");
    CHECK(xml_attribute(r.out, "testsuite", "failures") == "1");
    CHECK(xml_attribute(r.out, "testsuite", "errors") == "1");
    const std::regex testcase("<testcase ");
    CHECK(std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), testcase),
                        std::sregex_iterator()) == 3);
    CHECK(r.out.find("<failure type=\"critical\"") != std::string::npos);
    CHECK(r.out.find("<error type=\"unknown\"") != std::string::npos);
    CHECK(r.out.find("</testsuites>") != std::string::npos);
  }

  SECTION("json on stdout, valid against the schema") {
    const auto r = run("json");
    INFO(describe(r));
    CHECK(r.exit_code == 2);
    const auto report = parse_json(r.out);
    CHECK(schema_errors(report).empty());
    CHECK(report.at("summary").at("status") == "critical");
    CHECK(check_of(report, "lo").at("status") == "ok");
    CHECK(check_of(report, "closed-port").at("status") == "critical");
    const auto& bad = check_of(report, "bad-target");
    CHECK(bad.at("status") == "unknown");
    CHECK(bad.at("error").is_string());
  }

  SECTION("without --format, stdout that is not a terminal still gets the table") {
    const auto r = run_triage({"run", "--config", config});
    INFO(describe(r));
    CHECK(r.out.rfind("triage 1.0.0", 0) == 0);
    CHECK(r.out.find("\nCRITICAL  closed-port") != std::string::npos);
  }
}

TEST_CASE("--output writes the report to a file, replacing it whole", "[run][output]") {
  const TempDir dir;
  const std::string config = loopback_config(dir);

  SECTION("an existing, longer file is replaced, not overwritten in place") {
    const auto report_file =
        write_file(dir.path(), "report.json", std::string(100'000, 'x') + "\nOLD REPORT\n");
    const auto r = run_triage({"run", "--config", config, "--output", report_file.string()});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    const std::string text = read_file(report_file);
    CHECK(text.find("OLD REPORT") == std::string::npos);
    CHECK(text.find("xxxx") == std::string::npos);
    const auto report = parse_json(text);
    CHECK(schema_errors(report).empty());
    CHECK(check_of(report, "lo").at("status") == "ok");
  }

  SECTION("the format follows the extension: .xml is junit, .txt is text") {
    const auto xml = dir.path() / "report.xml";
    const auto txt = dir.path() / "report.txt";
    CHECK(run_triage({"run", "--config", config, "--output", xml.string()}).exit_code == 0);
    CHECK(run_triage({"run", "--config", config, "--output", txt.string()}).exit_code == 0);
    CHECK(read_file(xml).rfind("<?xml", 0) == 0);
    CHECK(read_file(txt).rfind("triage 1.0.0", 0) == 0);
    CHECK_FALSE(has_escape_codes(read_file(txt)));
  }

  SECTION("a folder that does not exist fails, naming the path") {
    const auto missing = dir.path() / "no-such-folder" / "report.json";
    const auto r = run_triage({"run", "--config", config, "--output", missing.string()});
    INFO(describe(r));
    CHECK(r.exit_code == 64);  // refused before any check runs
    CHECK(r.out.empty());
    CHECK(r.err.find(missing.string()) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(missing.parent_path()));
  }
}

TEST_CASE("--version prints the version", "[cli]") {
  const auto r = run_triage({"--version"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("triage 1.0.0", 0) == 0);
  CHECK(lines(r.out) == 1);
  CHECK(r.err.empty());
}

TEST_CASE("--log-format json makes every stderr line a JSON object", "[run][logging]") {
  const TempDir dir;
  const std::string config = loopback_config(dir);
  const auto report_file = dir.path() / "report.json";
  const auto r = run_triage(
      {"run", "--config", config, "--output", report_file.string(), "-v", "--log-format", "json"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  REQUIRE_FALSE(r.err.empty());
  bool said_written = false;
  std::size_t from = 0;
  while (from < r.err.size()) {
    const auto end = r.err.find('\n', from);
    REQUIRE(end != std::string::npos);
    const auto line = parse_json(r.err.substr(from, end - from));
    CHECK(line.is_object());
    CHECK(line.contains("time"));
    CHECK(line.contains("level"));
    said_written = said_written || line.at("message").get<std::string>().find(
                                       report_file.string()) != std::string::npos;
    from = end + 1;
  }
  CHECK(said_written);

  const auto bad = run_triage({"run", "--config", config, "--log-format", "xml"});
  INFO(describe(bad));
  CHECK(bad.exit_code == 64);
  CHECK(bad.err.find("--log-format") != std::string::npos);
}
