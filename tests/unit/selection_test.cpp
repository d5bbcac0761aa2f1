#include <stdlib.h>

#include <catch2/catch.hpp>

#include "triage/core/selection.hpp"

using triage::core::ConfigError;
using triage::core::parse_config;
using triage::core::resolve_references;
using triage::core::select_checks;

namespace {

const auto kConfig = parse_config(R"(checks:
  - {id: resolver, plugin: network, type: dns, tags: [infra]}
  - {id: api-dns, plugin: network, type: dns, tags: [prod], depends_on: [resolver]}
  - {id: web, plugin: network, type: tcp, tags: [prod], targets: [a, b]}
  - {id: other, plugin: storage, type: filesystem}
)",
                                  "s.yaml");

std::vector<std::string> ids(const std::vector<triage::core::CheckSpec>& checks) {
  std::vector<std::string> out;
  for (const auto& c : checks) out.push_back(c.id);
  return out;
}

}  // namespace

TEST_CASE("no selection runs everything", "[selection]") {
  CHECK(select_checks(kConfig, {}).size() == 5);
}

TEST_CASE("--only matches ids, config ids, plugin.type and globs", "[selection]") {
  CHECK(ids(select_checks(kConfig, {{"web[a]"}, {}})) == std::vector<std::string>{"web[a]"});
  CHECK(ids(select_checks(kConfig, {{"web"}, {}})) == std::vector<std::string>{"web[a]", "web[b]"});
  CHECK(ids(select_checks(kConfig, {{"storage.filesystem"}, {}})) ==
        std::vector<std::string>{"other"});
  CHECK(ids(select_checks(kConfig, {{"network.*"}, {}})).size() == 4);
}

TEST_CASE("selected checks bring their dependencies along", "[selection][dag]") {
  CHECK(ids(select_checks(kConfig, {{"api-dns"}, {}})) ==
        std::vector<std::string>{"resolver", "api-dns"});
  CHECK(ids(select_checks(kConfig, {{}, {"prod"}})) ==
        std::vector<std::string>{"resolver", "api-dns", "web[a]", "web[b]"});
}

TEST_CASE("an --only that matches nothing is an error naming it", "[selection]") {
  CHECK_THROWS_WITH(select_checks(kConfig, {{"nope"}, {}}), "--only 'nope' matches no check");
}

TEST_CASE("only the selected checks need their references resolved", "[selection][secrets]") {
  unsetenv("TRIAGE_UT_SEL_MISSING");
  setenv("TRIAGE_UT_SEL_HOST", "b.example", 1);
  const auto config = parse_config(R"(checks:
  - {id: a, plugin: network, type: http, tags: [x], params: {token: "${env:TRIAGE_UT_SEL_MISSING}"}}
  - {id: b, plugin: network, type: tcp, tags: [y], params: {target: "${var:TRIAGE_UT_SEL_HOST}:1"}}
  - {id: c, plugin: network, type: tcp, tags: [y], depends_on: [b]}
  - {id: fan, plugin: network, type: tcp, targets: [ok, "${env:TRIAGE_UT_SEL_MISSING}"]}
)",
                                   "s.yaml");
  // Run selected checks as a command does: select, then resolve what was selected.
  auto run = [&](const triage::core::Selection& selection) {
    auto copy = config;
    copy.checks = select_checks(copy, selection);
    resolve_references(copy);
    return copy.checks;
  };
  const auto by_only = run({{"b"}, {}});
  REQUIRE(ids(by_only) == std::vector<std::string>{"b"});
  CHECK(by_only[0].target == "b.example:1");
  CHECK(ids(run({{}, {"y"}})) == std::vector<std::string>{"b", "c"});
  // A fan-out is selected on its instance ids, made from resolved targets.
  CHECK(ids(run({{"fan[ok]"}, {}})) == std::vector<std::string>{"fan[ok]"});
  CHECK_THROWS_WITH(run({{"fan"}, {}}),
                    "s.yaml:5: checks[fan].targets[1]: environment variable TRIAGE_UT_SEL_MISSING "
                    "is not set");
  CHECK_THROWS_AS(run({{"a"}, {}}), ConfigError);
  CHECK_THROWS_WITH(run({}),
                    "s.yaml:2: checks[a].params.token: environment variable "
                    "TRIAGE_UT_SEL_MISSING is not set");
  unsetenv("TRIAGE_UT_SEL_HOST");
}
