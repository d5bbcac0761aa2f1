// The conventions operators and monitoring systems rely on, through the real
// binary: one status rule for every view and the exit code, each view checked
// by its own validator (xmllint against junit-10.xsd, promtool, the report
// schema for every NDJSON line, a perfdata regex), colour and quiet, text that
// cannot be spoofed, several outputs from one run, saved reports rendered
// again, config discovery and ad-hoc checks.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
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
using triage::itest::RunResult;
using triage::itest::schema_errors;
using triage::itest::services;
using triage::itest::write_file;
using triage::test::free_port;
using triage::test::TempDir;

namespace {

const std::string kChaosDir = TRIAGE_CHAOS_PLUGIN_DIR;
const std::string kSchemaDir = std::string(TRIAGE_SOURCE_DIR) + "/tests/integration/schemas";

// 2 critical (closed ports) and 1 unknown (a malformed target) and 1 ok.
std::string mixed_config(const TempDir& dir) {
  return write_file(dir.path(), "mixed.yaml",
                    fill(R"(checks:
  - id: lo
    plugin: network
    type: loopback
    params: { target: "127.0.0.1" }
  - id: closed-a
    plugin: network
    type: tcp
    params: { target: "${a}" }
  - id: closed-b
    plugin: network
    type: tcp
    params: { target: "${b}" }
  - id: bad-target
    plugin: network
    type: tcp
    params: { target: "no-port-here" }
)",
                         {{"a", "127.0.0.1:" + std::to_string(free_port())},
                          {"b", "127.0.0.1:" + std::to_string(free_port())}}))
      .string();
}

std::string loopback_config(const TempDir& dir) {
  return write_file(dir.path(), "lo.yaml", R"(checks:
  - id: lo
    plugin: network
    type: loopback
    tags: [local]
    params: { target: "127.0.0.1" }
)")
      .string();
}

// Runs a program (no shell) and returns its exit status and output.
RunResult run_tool(const std::string& command) {
  RunResult r;
  const std::string line = command + " 2>&1";
  FILE* pipe = ::popen(line.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// text cut at `separator` (a line feed, a space), without the separators.
std::vector<std::string> split(const std::string& text, char separator = '\n') {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find(separator, start), text.size());
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("2 critical and 1 unknown is CRITICAL, exit 2, in every view", "[conventions][status]") {
  const TempDir dir;
  const std::string config = mixed_config(dir);
  const auto text = run_triage({"run", "-c", config});
  INFO(describe(text));
  CHECK(text.exit_code == 2);
  CHECK(text.out.find("\nCRITICAL — 2 critical, 1 unknown, 1 ok\n") != std::string::npos);
  const auto nagios = run_triage({"run", "-c", config, "-f", "nagios"});
  CHECK(nagios.exit_code == 2);
  CHECK(nagios.out.rfind("TRIAGE CRITICAL - 2 critical, 1 unknown, 1 ok", 0) == 0);
  const auto json = run_triage({"run", "-c", config, "-f", "json"});
  CHECK(json.exit_code == 2);
  CHECK(parse_json(json.out).at("summary").at("status") == "critical");
}

TEST_CASE("a run cut by --deadline that found no failure is UNKNOWN everywhere",
          "[conventions][partial]") {
  const TempDir dir;
  // `nap` runs until the deadline cancels it and then says ok; `after`
  // waits for it and never runs. Nothing failed, but nothing vouches for
  // `after` either.
  const std::string config = write_file(dir.path(), "nap.yaml", R"(checks:
  - id: nap
    plugin: chaos
    type: nap
    timeout: 60s
  - id: after
    plugin: network
    type: loopback
    depends_on: [nap]
    params: { target: "127.0.0.1" }
)")
                                 .string();
  const auto txt = (dir.path() / "run.txt").string();
  const auto prom = (dir.path() / "run.prom").string();
  const auto json = (dir.path() / "run.json").string();
  const auto r = run_triage({"run", "-c", config, "--plugin-dir", kChaosDir, "--deadline", "300ms",
                             "-f", "nagios", "-o", txt, "-o", prom, "-o", json});
  INFO(describe(r));
  const auto doc = parse_json(read_file(json));
  CHECK(check_of(doc, "nap").at("status") == "ok");
  CHECK(check_of(doc, "after").at("status") == "skipped");
  CHECK(doc.at("run").at("partial") == true);
  CHECK(doc.at("summary").at("status") == "unknown");
  CHECK(doc.at("summary").at("message") == "run deadline: 1 check not run, 1 cut short");
  CHECK(r.exit_code == 3);
  CHECK(r.out.rfind("TRIAGE UNKNOWN - run deadline: 1 check not run, 1 cut short; 1 ok, 1 skipped",
                    0) == 0);
  CHECK(read_file(txt).find("\nUNKNOWN — run deadline: 1 check not run, 1 cut short; 1 ok, 1 "
                            "skipped\n") != std::string::npos);
  CHECK(read_file(prom).find("\ntriage_run_status 3\n") != std::string::npos);
  CHECK(r.err.find("the report is partial") != std::string::npos);
}

TEST_CASE("selecting nothing with --tag is a usage error naming the tag",
          "[conventions][selection]") {
  const TempDir dir;
  const std::string config = loopback_config(dir);
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"run", "-c", config, "--tag", "prod"},
                                             {"run", "-c", config, "--only", "lo", "--tag", "prod"},
                                             {"list", "-c", config, "--tag", "prod"}}) {
    const auto r = run_triage(args);
    INFO(describe(r));
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("'prod'") != std::string::npos);
    CHECK(r.out.empty());
  }
  CHECK(run_triage({"run", "-c", config, "--tag", "local"}).exit_code == 0);
}

TEST_CASE("with -f nagios every failure is still one TRIAGE UNKNOWN line and exit 3",
          "[conventions][nagios]") {
  const TempDir dir;
  const auto broken = write_file(dir.path(), "broken.yaml", "checks:\n  - id: x\n    plugn: y\n");
  SECTION("a config error") {
    const auto r = run_triage({"run", "-c", broken.string(), "-f", "nagios"});
    INFO(describe(r));
    CHECK(r.exit_code == 3);
    CHECK(count_lines(r.out) == 1);
    CHECK(r.out.rfind("TRIAGE UNKNOWN - config error: " + broken.string() + ":3", 0) == 0);
    CHECK(r.err.find("config error") != std::string::npos);  // stderr keeps it too
  }
  SECTION("a usage error, in any spelling of the flag") {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"run", "--bogus", "-f", "nagios"},
             {"run", "--format=nagios", "--jobs", "0"},
             {"check", "network.nope", "x", "-fnagios"},
             {"report", "/no/such/report.json", "--format", "nagios"}}) {
      const auto r = run_triage(args);
      INFO(describe(r));
      CHECK(r.exit_code == 3);
      CHECK(count_lines(r.out) == 1);
      CHECK(r.out.rfind("TRIAGE UNKNOWN - ", 0) == 0);
    }
  }
  SECTION("an interruption prints the partial report's line") {
    const std::string config =
        write_file(dir.path(), "hang.yaml",
                   fill(R"(checks:
  - id: never
    plugin: network
    type: http
    timeout: 60s
    params: { target: "http://127.0.0.1:${port}/" }
)",
                        {{"port", std::to_string(services().blackhole.port())}}))
            .string();
    RunEnv env;
    env.interrupt_on_stderr = "never: started";
    const auto r = run_triage({"run", "-c", config, "-f", "nagios", "-v"}, env);
    INFO(describe(r));
    CHECK(r.exit_code == 3);
    CHECK(r.out.rfind("TRIAGE UNKNOWN - ", 0) == 0);
    CHECK(first_line(r.out).find('|') == std::string::npos);
    // Without nagios, an interruption is 130.
    const auto text = run_triage({"run", "-c", config, "-v"}, env);
    CHECK(text.exit_code == 130);
    CHECK(text.out.find("UNKNOWN — run cancelled") != std::string::npos);
  }
}

TEST_CASE("nagios perfdata and long output follow the plugin guidelines", "[conventions][nagios]") {
  const TempDir dir;
  const auto r = run_triage({"run", "-c", mixed_config(dir), "-f", "nagios"});
  INFO(describe(r));
  const auto line = first_line(r.out);
  CHECK(line.size() < 1024);
  const auto bar = line.find(" | ");
  REQUIRE(bar != std::string::npos);
  const std::regex token(
      "'([^']|'')+'=-?[0-9]+(\\.[0-9]+)?(s|ms|us|%|B|KB|MB|GB|TB|c)?"
      "(;[-0-9.:~@]*){0,4}");
  const std::string perf = line.substr(bar + 3);
  for (const auto& item : split(perf, ' ')) {
    INFO(item);
    CHECK(std::regex_match(item, token));
  }
  // Long output: each failing check, its finding and its remediation.
  const std::string rest = r.out.substr(line.size() + 1);
  CHECK(rest.find("CRITICAL closed-a: ") != std::string::npos);
  CHECK(rest.find("  [critical] ") != std::string::npos);
  CHECK(rest.find("    fix: ") != std::string::npos);
  CHECK(rest.find('|') == std::string::npos);
}

TEST_CASE("junit is valid against Jenkins' junit-10.xsd", "[conventions][junit]") {
  const TempDir dir;
  const std::string config = mixed_config(dir);
  const auto xml = (dir.path() / "report.xml").string();
  const auto r = run_triage({"run", "-c", config, "-o", xml});
  INFO(describe(r));
  REQUIRE(r.exit_code == 2);
  const auto lint = run_tool("xmllint --noout --schema " + kSchemaDir + "/junit-10.xsd " + xml);
  INFO(lint.out);
  CHECK(lint.exit_code == 0);
  // The check validates: the skipped attribute today's code put on
  // <testsuites> is refused by the schema.
  const auto bad = write_file(dir.path(), "bad.xml",
                              "<testsuites skipped=\"0\"><testsuite name=\"t\" tests=\"0\" "
                              "failures=\"0\" errors=\"0\"/></testsuites>\n");
  CHECK(run_tool("xmllint --noout --schema " + kSchemaDir + "/junit-10.xsd " + bad.string())
            .exit_code != 0);
}

TEST_CASE("prometheus output passes promtool and ndjson lines pass the report schema",
          "[conventions][prometheus][ndjson]") {
  const TempDir dir;
  const std::string config = write_file(dir.path(), "fs.yaml", R"(checks:
  - id: disks
    plugin: storage
    type: filesystem
    params: { target: all }
  - id: lo
    plugin: network
    type: loopback
    params: { target: "127.0.0.1" }
)")
                                 .string();
  const auto prom = (dir.path() / "triage.prom").string();
  const auto nd = (dir.path() / "triage.ndjson").string();
  const auto r = run_triage({"run", "-c", config, "-o", prom, "-o", nd});
  INFO(describe(r));
  REQUIRE(r.exit_code <= 2);
  CHECK(r.out.empty());  // -o without -f: nothing on stdout
  const std::string text = read_file(prom);
  const auto lint = run_tool("promtool check metrics < " + prom);
  INFO(text << "\n" << lint.out);
  CHECK(lint.exit_code == 0);
  CHECK(text.find("triage_check_status{check=\"lo\",plugin=\"network\",type=\"loopback\","
                  "target=\"127.0.0.1\"} 0\n") != std::string::npos);
  CHECK(std::regex_search(text, std::regex("triage_metric\\{check=\"disks\",name=\"used_pct\","
                                           "item=\"/[^\"]*\",unit=\"%\"\\} [0-9.]+\n")));
  CHECK(text.find("used_pct[") == std::string::npos);  // items are labels, not names
  CHECK(text.find("\ntriage_run_timestamp_seconds ") != std::string::npos);

  const std::string lines = read_file(nd);
  REQUIRE(count_lines(lines) == 2);
  for (const auto& text : split(lines)) {
    const auto line = parse_json(text);
    // Each line is a check of the report schema, with the run's context.
    auto as_report = nlohmann::json::parse(R"({"schema_version":1,"run":{"id":"","started_at":"",
      "finished_at":"","duration_ms":0,"host":"","triage_version":"","config_path":null},
      "summary":{"status":"ok","counts":{"ok":0,"warning":0,"critical":0,"unknown":0,
      "skipped":0}},"checks":[]})");
    auto check = line;
    for (const char* key : {"schema_version", "run_id", "host", "run_started_at", "run_finished_at",
                            "run_status", "run_partial"}) {
      CHECK(line.contains(key));
      check.erase(key);
    }
    as_report["checks"].push_back(check);
    as_report["run"]["id"] = line.at("run_id");
    as_report["run"]["started_at"] = line.at("run_started_at");
    as_report["run"]["finished_at"] = line.at("run_finished_at");
    INFO(line.dump());
    CHECK(schema_errors(as_report).empty());
  }
}

TEST_CASE("colour only where it belongs; -q leaves only the report", "[conventions][color]") {
  const TempDir dir;
  const std::string config = loopback_config(dir);
  // A --plugin-dir that does not exist logs a warning on stderr.
  const std::vector<std::string> warn{"--plugin-dir", (dir.path() / "none").string()};
  auto args = [&](std::vector<std::string> extra) {
    std::vector<std::string> a{"run", "-c", config};
    a.insert(a.end(), warn.begin(), warn.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto plain = run_triage(args({}));
  INFO(describe(plain));
  CHECK(plain.err.find("not a folder") != std::string::npos);
  CHECK_FALSE(has_escape_codes(plain.err));  // stderr is not a terminal
  CHECK_FALSE(has_escape_codes(plain.out));
  const auto always = run_triage(args({"--color", "always"}));
  CHECK(has_escape_codes(always.err));
  CHECK(has_escape_codes(always.out));
  const auto never = run_triage(args({"--color", "never"}), RunEnv{{{"NO_COLOR", "1"}}});
  CHECK_FALSE(has_escape_codes(never.err));
  const auto quiet = run_triage(args({"-q"}));
  INFO(describe(quiet));
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.err.empty());
  CHECK(quiet.out.find("OK        lo") != std::string::npos);
  const auto bad = run_triage(args({"--color", "sometimes"}));
  CHECK(bad.exit_code == 64);
  CHECK(bad.err.find("--color") != std::string::npos);
}

TEST_CASE("text is the default, also through a pipe; ASCII outside UTF-8; list counts",
          "[conventions][text]") {
  const TempDir dir;
  const std::string config = loopback_config(dir);
  const auto r = run_triage({"run", "-c", config});
  INFO(describe(r));
  CHECK(r.out.rfind("triage 1.0.0 · host ", 0) == 0);
  CHECK(r.out.find(" · 1 check in ") != std::string::npos);
  const auto ascii =
      run_triage({"run", "-c", config}, RunEnv{{{"LANG", "C"}, {"LC_ALL", "C"}, {"LC_CTYPE", ""}}});
  INFO(describe(ascii));
  for (const char c : ascii.out) CHECK(static_cast<unsigned char>(c) < 0x80);
  CHECK(ascii.out.find("\nOK - 1 ok\n") != std::string::npos);
  const auto narrow = run_triage({"run", "-c", mixed_config(dir)}, RunEnv{{{"COLUMNS", "60"}}});
  for (const auto& row : split(narrow.out)) {
    INFO(row);
    std::size_t width = 0;
    for (const char c : row) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    CHECK(width <= 60);
  }
  const auto list = run_triage({"list", "-c", config});
  INFO(describe(list));
  CHECK(list.out.find("\n1 check\n") != std::string::npos);
}

TEST_CASE("plugin text cannot forge a row of the text view or a log line", "[conventions][spoof]") {
  const TempDir dir;
  const std::string config = write_file(dir.path(), "spoof.yaml", R"(checks:
  - id: spoof
    plugin: chaos
    type: spoof
  - id: lo
    plugin: network
    type: loopback
    params: { target: "127.0.0.1" }
)")
                                 .string();
  for (const char* isolation : {"process", "in-process"}) {
    const auto r = run_triage(
        {"run", "-c", config, "--plugin-dir", kChaosDir, "--isolation", isolation, "-v"});
    INFO(isolation << "\n" << describe(r));
    CHECK(r.exit_code == 2);
    for (const auto& row : split(r.out)) {
      INFO(row);
      CHECK(row.rfind("OK        db-primary", 0) == std::string::npos);
      CHECK((row.empty() || row[0] == ' ' || row.rfind("triage ", 0) == 0 ||
             row.rfind("CRITICAL  spoof ", 0) == 0 || row.rfind("OK        lo ", 0) == 0 ||
             row.rfind("CRITICAL — ", 0) == 0));
    }
    CHECK(r.out.find("broken\\nOK        db-primary") != std::string::npos);
    CHECK(r.out.find("<U+202E>reversed") != std::string::npos);
    CHECK(r.out.find("\xE2\x80\xAE") == std::string::npos);
    CHECK(r.out.find('\r') == std::string::npos);
    // Every stderr line is a log line of ours, the plugin's one escaped.
    CHECK(r.err.find("spoofing\\nOK        db-primary") != std::string::npos);
    CHECK(r.err.find("\nOK        db-primary") == std::string::npos);
    CHECK(r.err.find('\r') == std::string::npos);
    CHECK(r.err.find("\xE2\x80\xAE") == std::string::npos);
  }
}

TEST_CASE("several outputs from one run, each in its extension's format", "[conventions][output]") {
  const TempDir dir;
  const std::string config = mixed_config(dir);
  const auto json = (dir.path() / "r.json").string();
  const auto xml = (dir.path() / "r.xml").string();
  const auto nagios = (dir.path() / "r.nagios").string();
  const auto txt = (dir.path() / "r.txt").string();
  const auto r = run_triage(
      {"run", "-c", config, "-o", json, "-o", xml, "-o", nagios, "-o", txt, "-f", "nagios"});
  INFO(describe(r));
  CHECK(r.exit_code == 2);
  CHECK(r.out.rfind("TRIAGE CRITICAL - ", 0) == 0);  // -f is for stdout
  const auto report = parse_json(read_file(json));
  CHECK(schema_errors(report).empty());
  CHECK(read_file(xml).rfind("<?xml", 0) == 0);
  CHECK(read_file(nagios).rfind("TRIAGE CRITICAL - ", 0) == 0);
  CHECK(read_file(txt).rfind("triage 1.0.0", 0) == 0);
  // The same run in every file.
  CHECK(read_file(xml).find(report.at("run").at("started_at").get<std::string>()) !=
        std::string::npos);

  SECTION("a name without a known extension gets -f's format, else text, never json unasked") {
    const auto plain = (dir.path() / "report.out").string();
    const auto json_too = (dir.path() / "json.out").string();
    REQUIRE(run_triage({"run", "-c", config, "-o", plain}).exit_code == 2);
    CHECK(read_file(plain).rfind("triage 1.0.0", 0) == 0);
    REQUIRE(run_triage({"run", "-c", config, "-o", json_too, "-f", "json"}).exit_code == 2);
    CHECK(schema_errors(parse_json(read_file(json_too))).empty());
  }

  SECTION("the same file twice, or an unknown format, is refused before running") {
    const auto twice = run_triage({"run", "-c", config, "-o", json, "-o", json});
    CHECK(twice.exit_code == 64);
    CHECK(twice.err.find("given twice") != std::string::npos);
    const auto unknown = run_triage({"run", "-c", config, "-f", "yaml"});
    CHECK(unknown.exit_code == 64);
    CHECK(unknown.err.find("prometheus") != std::string::npos);
  }
}

TEST_CASE("triage report renders a saved report again in any view", "[conventions][report]") {
  const TempDir dir;
  const std::string config = mixed_config(dir);
  const auto json = (dir.path() / "r.json").string();
  REQUIRE(run_triage({"run", "-c", config, "-o", json}).exit_code == 2);
  const auto text = run_triage({"report", json});
  INFO(describe(text));
  CHECK(text.exit_code == 2);  // the saved run's status
  CHECK(text.out.find("CRITICAL  closed-a") != std::string::npos);
  const auto nagios = run_triage({"report", json, "-f", "nagios"});
  CHECK(nagios.out.rfind("TRIAGE CRITICAL - 2 critical, 1 unknown, 1 ok", 0) == 0);
  RunEnv in;
  in.stdin_text = read_file(json);
  const auto again = run_triage({"report", "-", "-f", "json"}, in);
  CHECK(parse_json(again.out) == parse_json(read_file(json)));
  const auto prom = (dir.path() / "r.prom").string();
  CHECK(run_triage({"report", json, "-o", prom}).exit_code == 2);
  CHECK(run_tool("promtool check metrics < " + prom).exit_code == 0);

  SECTION("what is not a report is refused clearly") {
    const auto not_json = write_file(dir.path(), "x.json", "{ nope");
    const auto r1 = run_triage({"report", not_json.string()});
    CHECK(r1.exit_code == 65);
    CHECK(r1.err.find("not JSON") != std::string::npos);
    const auto other = write_file(dir.path(), "y.json", R"({"schema_version": 1, "run": {}})");
    const auto r2 = run_triage({"report", other.string()});
    CHECK(r2.exit_code == 65);
    CHECK(r2.err.find("not a triage report") != std::string::npos);
    const auto r3 = run_triage({"report", (dir.path() / "missing.json").string()});
    CHECK(r3.exit_code == 66);
    CHECK(run_triage({"report"}).exit_code == 64);
  }
}

TEST_CASE("config discovery: -c, TRIAGE_CONFIG, standard input", "[conventions][config]") {
  const TempDir dir;
  const std::string config = loopback_config(dir);
  const auto from_env = run_triage({"run", "-f", "json"}, RunEnv{{{"TRIAGE_CONFIG", config}}});
  INFO(describe(from_env));
  const auto report = parse_json(from_env.out);
  CHECK(report.at("run").at("config_path") == config);
  CHECK(report.at("checks").size() == 1);
  // -c wins over the environment.
  const auto other = write_file(dir.path(), "other.yaml",
                                "checks:\n  - {id: two, plugin: network, type: loopback, params: "
                                "{target: \"127.0.0.1\"}}\n");
  const auto flag =
      run_triage({"run", "-c", other.string(), "-f", "json"}, RunEnv{{{"TRIAGE_CONFIG", config}}});
  CHECK(check_of(parse_json(flag.out), "two").at("status") == "ok");
  RunEnv in;
  in.stdin_text = read_file(other);
  const auto piped = run_triage({"run", "-c", "-", "-f", "json"}, in);
  INFO(describe(piped));
  CHECK(check_of(parse_json(piped.out), "two").at("status") == "ok");
  in.stdin_text = "checks:\n  - id: x\n    plugn: y\n";
  const auto bad = run_triage({"run", "-c", "-"}, in);
  CHECK(bad.exit_code == 78);
  CHECK(bad.err.find("<stdin>:3") != std::string::npos);
  const auto missing =
      run_triage({"run"}, RunEnv{{{"TRIAGE_CONFIG", (dir.path() / "nope.yaml").string()}}});
  CHECK(missing.exit_code == 78);
  CHECK(missing.err.find("nope.yaml") != std::string::npos);
}

TEST_CASE("triage check runs one check without a config", "[conventions][check]") {
  const auto port = std::to_string(services().nginx.http_port());
  const auto ok = run_triage({"check", "network.http", "http://127.0.0.1:" + port + "/", "--param",
                              "samples=3", "-f", "json"});
  INFO(describe(ok));
  CHECK(ok.exit_code == 0);
  const auto report = parse_json(ok.out);
  CHECK(schema_errors(report).empty());
  CHECK(report.at("checks").size() == 1);
  CHECK(report.at("checks")[0].at("plugin") == "network");
  CHECK(report.at("checks")[0].at("type") == "http");

  const auto crit = run_triage({"check", "network.http", "http://127.0.0.1:" + port + "/",
                                "--critical", "latency_p50_ms=@0:", "-f", "nagios"});
  INFO(describe(crit));
  CHECK(crit.exit_code == 2);
  CHECK(crit.out.rfind("TRIAGE CRITICAL - ", 0) == 0);

  const auto typo = run_triage({"check", "network.htp", "http://x/"});
  CHECK(typo.exit_code == 64);
  CHECK(typo.err.find("did you mean 'network.http'") != std::string::npos);
  const auto bad_range = run_triage({"check", "network.tcp", "127.0.0.1:1", "--warning", "x=abc"});
  CHECK(bad_range.exit_code == 64);
  const auto bad_param =
      run_triage({"check", "network.tcp", "127.0.0.1:1", "--param", "no_such_param=1"});
  CHECK(bad_param.exit_code == 78);
  CHECK(bad_param.err.find("no_such_param") != std::string::npos);
}
