#include <catch2/catch.hpp>

#include "triage/core/selection.hpp"

using triage::core::parse_config;
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
