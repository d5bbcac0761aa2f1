// Plugin discovery through the real binary: the built-in network plugin, the
// test plugins from --plugin-dir or TRIAGE_PLUGIN_PATH (with the broken ones
// refused, not fatal), and a run of a plugin written in C.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::has_finding;
using triage::itest::metric_of;
using triage::itest::parse_json;
using triage::itest::run_triage;
using triage::itest::RunEnv;
using triage::itest::RunResult;
using triage::itest::schema_errors;
using triage::itest::test_plugin_dir;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The line of text that contains `part`, or "".
std::string line_with(const std::string& text, const std::string& part) {
  const auto at = text.find(part);
  if (at == std::string::npos) return {};
  const auto begin = text.rfind('\n', at);
  const auto end = text.find('\n', at);
  const auto from = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(from, end == std::string::npos ? std::string::npos : end - from);
}

// What `triage plugins` must show when the test plugins are on the path.
void check_test_plugins_listed(const RunResult& r) {
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "network "));
  CHECK(contains(r.out, "c-echo 0.1.0"));
  CHECK(contains(r.out, "test-cxx 0.1.0"));
  CHECK(contains(r.out, "    echo  "));
  for (const std::string file : {"test_abi2_plugin.so", "test_no_entry.so", "text_file.so"}) {
    INFO(file);
    const std::string line = line_with(r.out, "/" + file + ": ");
    CHECK(line.rfind("refused: " + test_plugin_dir() + "/" + file + ": ", 0) == 0);
  }
  CHECK(contains(line_with(r.out, "test_abi2_plugin.so"), "ABI 2"));
  CHECK(contains(line_with(r.out, "test_no_entry.so"), "not a Triage plugin"));
  CHECK(contains(line_with(r.out, "text_file.so"), "not a loadable shared library"));
}

}  // namespace

TEST_CASE("triage plugins lists the network plugin and its six check types", "[plugins]") {
  const auto r = run_triage({"plugins"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  // In name order: cluster comes first.
  CHECK(r.out.rfind("cluster ", 0) == 0);
  CHECK(contains(r.out, "\nnetwork 1.0.0 "));
  CHECK_FALSE(contains(r.out, "refused:"));
  CHECK_FALSE(contains(r.out, "c-echo"));
  for (const std::string type : {"dns", "tcp", "http", "tls", "route", "loopback"}) {
    INFO(type);
    CHECK(contains(r.out, "\n    " + type + "  "));
  }

  const auto json = run_triage({"plugins", "--format", "json"});
  INFO(describe(json));
  CHECK(json.exit_code == 0);
  const auto doc = parse_json(json.out);
  // The built-in plugins, found in name order.
  REQUIRE(doc.at("plugins").size() == 4);
  CHECK(doc.at("plugins").at(0).at("name") == "cluster");
  const auto& network = doc.at("plugins").at(1);
  CHECK(network.at("name") == "network");
  CHECK(doc.at("plugins").at(2).at("name") == "storage");
  CHECK(doc.at("plugins").at(3).at("name") == "streaming");
  CHECK(network.at("abi").get<std::string>().rfind("1.", 0) == 0);
  std::set<std::string> types;
  for (const auto& t : network.at("check_types")) {
    types.insert(t.at("name").get<std::string>());
    // Every schema is real JSON, not a string the plugin could not get parsed.
    CHECK(t.at("params_schema").is_object());
  }
  CHECK(types == std::set<std::string>{"dns", "tcp", "http", "tls", "route", "loopback"});
  CHECK(doc.at("refused").empty());
}

TEST_CASE("--plugin-dir adds plugins and reports the files it refused", "[plugins]") {
  check_test_plugins_listed(run_triage({"plugins", "--plugin-dir", test_plugin_dir()}));
}

TEST_CASE("TRIAGE_PLUGIN_PATH works like --plugin-dir", "[plugins]") {
  check_test_plugins_listed(run_triage(
      {"plugins"}, RunEnv{{{"TRIAGE_PLUGIN_PATH", "/nonexistent:" + test_plugin_dir()}}}));
}

TEST_CASE("a plugin written in C runs from a plugin folder", "[plugins][run]") {
  const TempDir dir;
  const std::string config = write_file(dir.path(), "echo.yaml", R"(checks:
  - id: hello
    plugin: c-echo
    type: echo
    params: { target: "greetings" }
  - id: lo
    plugin: network
    type: loopback
    params: { target: "127.0.0.1" }
)")
                                 .string();

  auto check_report = [](const RunResult& r) {
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    const auto report = parse_json(r.out);
    CHECK(schema_errors(report).empty());
    const auto& c = check_of(report, "hello");
    CHECK(c.at("status") == "ok");
    CHECK(c.at("plugin") == "c-echo");
    CHECK(c.at("type") == "echo");
    CHECK(c.at("target") == "greetings");
    CHECK(c.at("summary") == "echo from C");
    CHECK(has_finding(c, "Hello from C"));
    CHECK(contains(c.at("attributes").at("params").get<std::string>(), "\"greetings\""));
    const auto* bytes = metric_of(c, "params_bytes");
    REQUIRE(bytes != nullptr);
    CHECK(bytes->at("critical") == "1000");
    CHECK(bytes->at("unit") == "B");
    CHECK(check_of(report, "lo").at("status") == "ok");
  };

  SECTION("through --plugin-dir") {
    check_report(run_triage(
        {"run", "--config", config, "--format", "json", "--plugin-dir", test_plugin_dir()}));
  }
  SECTION("through TRIAGE_PLUGIN_PATH") {
    check_report(run_triage({"run", "--config", config, "--format", "json"},
                            RunEnv{{{"TRIAGE_PLUGIN_PATH", test_plugin_dir()}}}));
  }
  SECTION("without either, the plugin is unknown: a config error") {
    const auto r = run_triage({"run", "--config", config, "--format", "json"});
    INFO(describe(r));
    CHECK(r.exit_code == 78);
    CHECK(r.out.empty());
    CHECK(contains(r.err, config + ":3: checks[hello].plugin: unknown plugin 'c-echo'"));
  }
}
