// Params are checked against each check type's JSON Schema at config load; a
// plugin whose own schema is broken must not take the core down with it.
#include <catch2/catch.hpp>
#include <string>

#include "triage/core/config.hpp"
#include "triage/core/params_check.hpp"
#include "triage/core/plugin_loader.hpp"

using namespace triage::core;

namespace {

CheckType type_with_schema(std::string schema) {
  CheckType type;
  type.name = "probe";
  type.params_schema = std::move(schema);
  return type;
}

const CheckSpec& only_check(const Config& config) {
  REQUIRE(config.checks.size() == 1);
  return config.checks.front();
}

}  // namespace

TEST_CASE("params of the wrong type are a config error naming file, line and key",
          "[params][schema]") {
  const auto config = parse_config(R"(checks:
  - id: a
    plugin: p
    type: probe
    params: {target: db, port: "eighty"}
)",
                                   "p.yaml");
  const CheckType type = type_with_schema(
      R"({"type":"object","properties":{"target":{"type":"string"},"port":{"type":"integer"}}})");
  ParamsChecker checker;
  CHECK_THROWS_WITH(checker.check(only_check(config), type),
                    Catch::Contains("p.yaml:5") && Catch::Contains("port"));
}

TEST_CASE("a plugin's malformed schema is ignored, not fatal", "[params][schema]") {
  // valijson aborts on such schemas unless built with VALIJSON_USE_EXCEPTIONS:
  // this case would end the test process with SIGABRT.
  const auto config = parse_config(
      "checks:\n  - {id: a, plugin: p, type: probe, params: {target: db}}\n", "p.yaml");
  ParamsChecker checker;
  for (const std::string schema : {R"({"type": 7})", R"({"properties": {"x": {"minimum": "a"}}})",
                                   R"({"required": "target"})", "{not json"}) {
    INFO(schema);
    const CheckType type = type_with_schema(schema);
    CHECK_NOTHROW(checker.check(only_check(config), type));
  }
}
