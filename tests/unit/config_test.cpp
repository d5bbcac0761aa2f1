// Config parsing: the documented shape, fan-out, and errors that name
// file:line and the key.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include "triage/core/config.hpp"

using namespace std::chrono_literals;
using triage::core::ConfigError;
using triage::core::parse_config;
using triage::core::resolve_references;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "c.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the documented config shape parses", "[config]") {
  const auto config = parse_config(R"(version: 1
defaults: { timeout: 10s, retries: 0, jobs: 8 }
checks:
  - id: api-dns
    plugin: network
    type: dns
    tags: [prod, api]
    timeout: 2s
    retries: 2
    depends_on: [web]
    params: { target: api.example.com, server: "127.0.0.1:5353", expect: ["10.0.0.5"], port: 53, ratio: 0.5, on: true, quoted: "42" }
    thresholds:
      latency_ms: { warning: "100", critical: 500 }
  - id: web
    plugin: network
    type: tcp
    targets: ["10.0.0.1:443", "10.0.0.2:443"]
)",
                                   "c.yaml");
  REQUIRE(config.checks.size() == 3);
  CHECK(config.defaults.jobs == 8);
  const auto& dns = config.checks[0];
  CHECK(dns.id == "api-dns");
  CHECK(dns.target == "api.example.com");
  CHECK(dns.timeout == 2s);
  CHECK(dns.retries == 2);
  CHECK(dns.tags == std::vector<std::string>{"prod", "api"});
  CHECK(dns.params["port"] == 53);
  CHECK(dns.params["ratio"] == 0.5);
  CHECK(dns.params["on"] == true);
  CHECK(dns.params["quoted"] == "42");
  CHECK(dns.thresholds.at("latency_ms").critical->alerts(501));
  CHECK(dns.location.line == 4);
  SECTION("fan-out makes one instance per target with params.target set") {
    CHECK(config.checks[1].id == "web[10.0.0.1:443]");
    CHECK(config.checks[2].id == "web[10.0.0.2:443]");
    CHECK(config.checks[2].params["target"] == "10.0.0.2:443");
    CHECK(config.checks[2].base_id == "web");
    CHECK(config.checks[2].timeout == 10s);
  }
}

TEST_CASE("JSON configs are accepted", "[config]") {
  const auto config = parse_config(
      R"({"checks": [{"id": "a", "plugin": "network", "type": "tcp", "params": {"target": "x:1"}}]})",
      "c.json");
  REQUIRE(config.checks.size() == 1);
  CHECK(config.checks[0].target == "x:1");
}

TEST_CASE("config errors name file, line and key", "[config][errors]") {
  CHECK(error_of("") == "c.yaml: the config is empty (expected a mapping with 'checks')");
  CHECK_THAT(error_of("checks: [\n  - id: a\n    plugin: [\n"),
             Catch::StartsWith("c.yaml:") && Catch::Contains("not valid YAML"));
  CHECK_THAT(error_of("- a\n- b\n"),
             Catch::StartsWith("c.yaml:1: (top level): expected a mapping"));
  CHECK_THAT(error_of("chekcs: []\n"),
             Catch::Contains("c.yaml:1: chekcs: unknown key 'chekcs' (did you mean 'checks'?)"));
  CHECK_THAT(error_of("checks: {}\n"), Catch::Contains("c.yaml:1: checks: expected a list"));
  CHECK_THAT(error_of("defaults: { jobs: -4 }\nchecks: []\n"),
             Catch::Contains("c.yaml:1: defaults.jobs: must be at least 1"));
  CHECK_THAT(error_of("defaults: { timeout: 10 parsecs }\nchecks: []\n"),
             Catch::Contains("defaults.timeout: '10 parsecs' is not a duration"));
  CHECK_THAT(error_of("version: 2\nchecks: []\n"), Catch::Contains("unsupported config version 2"));
  // Found by fuzz_config: a mapping used as a key.
  CHECK_THAT(error_of("{[a]: 1}\n"), Catch::StartsWith("c.yaml:1: not a valid config"));
}

TEST_CASE("check errors point at the check's line and key", "[config][errors]") {
  const std::string head = "checks:\n  - id: a\n    plugin: network\n    type: tcp\n";
  CHECK_THAT(error_of(head + "    timeout: soon\n"),
             Catch::Contains("c.yaml:5: checks[a].timeout: 'soon' is not a duration"));
  CHECK_THAT(error_of(head + "    retries: many\n"),
             Catch::Contains("c.yaml:5: checks[a].retries: 'many' is not a whole number"));
  CHECK_THAT(error_of(head + "    tiemout: 2s\n"),
             Catch::Contains("c.yaml:5: checks[0].tiemout: unknown key 'tiemout' (did you mean "
                             "'timeout'?)"));
  CHECK_THAT(error_of(head + "    params: [1, 2]\n"),
             Catch::Contains("c.yaml:5: checks[a].params: expected a mapping"));
  CHECK_THAT(error_of(head + "    thresholds: { latency_ms: { warning: \"10:5\" } }\n"),
             Catch::Contains("c.yaml:5: checks[a].thresholds.latency_ms.warning: invalid range "
                             "'10:5': start is greater than end"));
  CHECK_THAT(error_of("checks:\n  - id: a\n    type: tcp\n"),
             Catch::Contains("c.yaml:2: checks[0].plugin: missing"));
  CHECK_THAT(error_of("checks:\n  - id: A B\n    plugin: p\n    type: t\n"),
             Catch::Contains("c.yaml:2: checks[0].id: 'A B' is not a valid id"));
  CHECK_THAT(error_of(head + "    targets: []\n"),
             Catch::Contains("c.yaml:5: checks[a].targets: must not be empty"));
  CHECK_THAT(error_of(head + "    params: { target: x }\n    targets: [y]\n"),
             Catch::Contains("give either targets (fan-out) or params.target, not both"));
}

TEST_CASE("duplicate ids, missing dependencies and cycles are refused", "[config][errors][dag]") {
  CHECK_THAT(
      error_of("checks:\n  - {id: a, plugin: p, type: t}\n  - {id: a, plugin: p, type: t}\n"),
      Catch::Contains("c.yaml:3: checks[1].id: duplicate id 'a'"));
  CHECK_THAT(error_of("checks:\n  - {id: dns, plugin: p, type: t}\n"
                      "  - {id: b, plugin: p, type: t, depends_on: [dsn]}\n"),
             Catch::Contains("c.yaml:3: checks[b].depends_on: depends on 'dsn', which is not a "
                             "check id (did you mean 'dns'?)"));
  CHECK_THAT(error_of("checks:\n  - {id: a, plugin: p, type: t, depends_on: [c]}\n"
                      "  - {id: b, plugin: p, type: t, depends_on: [a]}\n"
                      "  - {id: c, plugin: p, type: t, depends_on: [b]}\n"),
             Catch::Contains("dependency cycle a -> c -> b -> a"));
  CHECK_THAT(error_of("checks:\n  - {id: a, plugin: p, type: t, depends_on: [a]}\n"),
             Catch::Contains("dependency cycle a -> a"));
}

TEST_CASE("the built-in default config parses and targets this machine", "[config]") {
  const auto config = triage::core::default_config();
  CHECK(config.path.empty());
  CHECK(config.checks.size() >= 4);
  for (const auto& c : config.checks)
    CHECK((c.plugin == "network" || c.plugin == "storage" || c.plugin == "cluster"));
  auto copy = config;
  resolve_references(copy);  // it holds no references: nothing to resolve, nothing fails
  REQUIRE(copy.checks.size() == config.checks.size());
  for (std::size_t i = 0; i < copy.checks.size(); ++i) {
    CHECK(copy.checks[i].resolved());
    CHECK(copy.checks[i].params == config.checks[i].params);
  }
}

TEST_CASE("references: targets are resolved as the config is read, params later", "[config]") {
  setenv("TRIAGE_UT_CFG_SITE", "eu-west.example", 1);
  auto config = parse_config(R"(checks:
  - id: web
    plugin: network
    type: tcp
    targets: ["${var:TRIAGE_UT_CFG_SITE}:443", "plain:80"]
    params: { timeout_hint: "${var:TRIAGE_UT_CFG_SITE}" }
  - id: api
    plugin: network
    type: http
    params: { target: "https://${var:TRIAGE_UT_CFG_SITE}/", n: 3, note: "no reference" }
)",
                             "c.yaml");
  unsetenv("TRIAGE_UT_CFG_SITE");
  REQUIRE(config.checks.size() == 3);
  CHECK(config.checks[0].id == "web[eu-west.example:443]");
  CHECK(config.checks[0].params["timeout_hint"] == "${var:TRIAGE_UT_CFG_SITE}");
  CHECK(config.checks[1].resolved() == false);  // its params still hold one
  CHECK(config.checks[2].target == "https://${var:TRIAGE_UT_CFG_SITE}/");
  REQUIRE(config.checks[2].references.size() == 1);
  CHECK(config.checks[2].references[0].key == "checks[api].params.target");
  CHECK(config.checks[2].references[0].location.line == 10);
  // Resolution reads the environment when it runs, not when the config was read.
  CHECK_THROWS_WITH(resolve_references(config),
                    "c.yaml:6: checks[web].params.timeout_hint: environment variable "
                    "TRIAGE_UT_CFG_SITE is not set");
  setenv("TRIAGE_UT_CFG_SITE", "us-east.example", 1);
  resolve_references(config);
  unsetenv("TRIAGE_UT_CFG_SITE");
  CHECK(config.checks[0].params["timeout_hint"] == "us-east.example");
  CHECK(config.checks[2].target == "https://us-east.example/");
  CHECK(config.checks[2].params["n"] == 3);
  CHECK(config.checks[2].params["note"] == "no reference");
  CHECK(config.secrets.empty());
}

TEST_CASE("a repeated params key replaces the earlier value and its references", "[config]") {
  unsetenv("TRIAGE_UT_MISSING");
  auto config = parse_config(
      "checks:\n  - id: a\n    plugin: p\n    type: t\n    params:\n"
      "      x: \"${env:TRIAGE_UT_MISSING}\"\n      x: 5\n"
      "      y: { deep: \"${env:TRIAGE_UT_MISSING}\" }\n      y: plain\n",
      "c.yaml");
  resolve_references(config);
  CHECK(config.checks[0].params["x"] == 5);
  CHECK(config.checks[0].params["y"] == "plain");
}
