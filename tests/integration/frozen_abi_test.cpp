// The ABI promise, end to end: a plugin compiled from the FROZEN 1.0 headers
// (tests/abi/frozen-1.0) is listed by and runs in the current `triage`, in
// both isolation modes, with the core's thresholds applied to its metric.
#include <catch2/catch.hpp>
#include <string>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::has_finding;
using triage::itest::metric_of;
using triage::itest::parse_json;
using triage::itest::run_triage;
using triage::itest::schema_errors;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

const std::string kAbiPluginDir = TRIAGE_ABI_PLUGIN_DIR;

}  // namespace

TEST_CASE("triage plugins lists the plugin built from the frozen 1.0 headers", "[abi][plugins]") {
  const auto r = run_triage({"plugins", "--plugin-dir", kAbiPluginDir, "--format", "json"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const auto doc = parse_json(r.out);
  const nlohmann::json* frozen = nullptr;
  for (const auto& p : doc.at("plugins"))
    if (p.at("name") == "frozen-abi") frozen = &p;
  REQUIRE(frozen != nullptr);
  CHECK(frozen->at("version") == "1.0.0");
  CHECK(frozen->at("abi") == "1.0");
  CHECK(frozen->at("sdk_version") == "1.0.0");
  REQUIRE(frozen->at("check_types").size() == 1);
  CHECK(frozen->at("check_types").at(0).at("name") == "probe");
  CHECK(frozen->at("check_types").at(0).at("params_schema").is_object());
  CHECK(doc.at("refused").empty());

  const auto text = run_triage({"plugins", "--plugin-dir", kAbiPluginDir});
  INFO(describe(text));
  CHECK(text.out.find("frozen-abi 1.0.0  (ABI 1.0, " + kAbiPluginDir) != std::string::npos);
  CHECK(text.out.find("\n    probe  ") != std::string::npos);
}

TEST_CASE("the frozen 1.0 plugin runs in the current core", "[abi][run]") {
  const TempDir dir;
  const auto config = write_file(dir.path(), "frozen.yaml", R"(checks:
  - id: low
    plugin: frozen-abi
    type: probe
    params: { target: "low", value: 5 }
  - id: mid
    plugin: frozen-abi
    type: probe
    params: { target: "mid", value: 42 }
  - id: high
    plugin: frozen-abi
    type: probe
    params: { target: "high", value: 500 }
  - id: relaxed
    plugin: frozen-abi
    type: probe
    params: { target: "relaxed", value: 42 }
    thresholds:
      probe_value: { warning: "50", critical: "1000" }
  - id: broken
    plugin: frozen-abi
    type: probe
    params: { target: "broken", mode: error }
)")
                          .string();
  const std::string isolation = GENERATE(as<std::string>{}, "process", "in-process");
  INFO("isolation " << isolation);
  const auto r = run_triage({"run", "--config", config, "--format", "json", "--isolation",
                             isolation, "--plugin-dir", kAbiPluginDir});
  INFO(describe(r));
  CHECK(r.exit_code == 2);  // worst status: high is critical, which outranks unknown
  const auto report = parse_json(r.out);
  CHECK(schema_errors(report).empty());

  const auto& low = check_of(report, "low");
  CHECK(low.at("status") == "ok");
  CHECK(low.at("summary") == "frozen 1.0 plugin ran");
  CHECK(has_finding(low, "Built against SDK 1.0"));
  CHECK(low.at("attributes").at("deadline") == "set");
  CHECK(low.at("attributes").at("params").get<std::string>().find("\"low\"") != std::string::npos);
  const auto* value = metric_of(low, "probe_value");
  REQUIRE(value != nullptr);
  CHECK(value->at("value") == 5.0);
  CHECK(value->at("warning") == "10");
  CHECK(value->at("critical") == "100");

  CHECK(check_of(report, "mid").at("status") == "warning");
  CHECK(check_of(report, "high").at("status") == "critical");
  CHECK(check_of(report, "relaxed").at("status") == "ok");

  const auto& broken = check_of(report, "broken");
  CHECK(broken.at("status") == "unknown");
  CHECK(broken.at("error").get<std::string>().find("probe asked to fail") != std::string::npos);
}
