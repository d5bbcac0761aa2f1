// Selecting checks: --only and --tag on `triage run`, and `triage list`
// showing the instances a run would execute (fan-out included).
#include <algorithm>
#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>

#include "helpers.hpp"

using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::run_triage;
using triage::itest::schema_errors;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

// Loopback checks only: selection is the core's job, no service is needed.
constexpr const char* kConfig = R"(checks:
  - id: lo-web
    plugin: network
    type: loopback
    tags: [web, prod]
    params: { target: "127.0.0.1" }
  - id: lo-db
    plugin: network
    type: loopback
    tags: [db]
    params: { target: "127.0.0.2" }
  - id: lo-many
    plugin: network
    type: loopback
    tags: [web]
    targets: ["127.0.0.3", "127.0.0.4"]
  - id: lo-after
    plugin: network
    type: loopback
    tags: [late]
    depends_on: [lo-db]
    params: { target: "127.0.0.5" }
)";

// The ids of the checks a JSON report contains.
std::set<std::string> run_ids(const std::string& config,
                              const std::vector<std::string>& selection) {
  std::vector<std::string> args{"run", "--config", config, "--format", "json"};
  args.insert(args.end(), selection.begin(), selection.end());
  const auto r = run_triage(args);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  const auto report = parse_json(r.out);
  CHECK(schema_errors(report).empty());
  std::set<std::string> ids;
  for (const auto& c : report.at("checks")) {
    CHECK(c.at("status") == "ok");
    ids.insert(c.at("id").get<std::string>());
  }
  return ids;
}

using Ids = std::set<std::string>;

}  // namespace

TEST_CASE("--only and --tag select the checks a run executes", "[run][selection]") {
  const TempDir dir;
  const std::string config = write_file(dir.path(), "checks.yaml", kConfig).string();

  CHECK(run_ids(config, {}) ==
        Ids{"lo-web", "lo-db", "lo-many[127.0.0.3]", "lo-many[127.0.0.4]", "lo-after"});
  CHECK(run_ids(config, {"--only", "lo-web"}) == Ids{"lo-web"});
  // A fan-out check is selected by its base id or by one instance's full id.
  CHECK(run_ids(config, {"--only", "lo-many"}) == Ids{"lo-many[127.0.0.3]", "lo-many[127.0.0.4]"});
  CHECK(run_ids(config, {"--only", "lo-many[127.0.0.4]"}) == Ids{"lo-many[127.0.0.4]"});
  // Globs, and repeated --only adding up.
  CHECK(run_ids(config, {"--only", "lo-w*", "--only", "lo-db"}) == Ids{"lo-web", "lo-db"});
  CHECK(run_ids(config, {"--tag", "web"}) ==
        Ids{"lo-web", "lo-many[127.0.0.3]", "lo-many[127.0.0.4]"});
  CHECK(run_ids(config, {"--tag", "prod", "--tag", "db"}) == Ids{"lo-web", "lo-db"});
  // --only and --tag together: both must hold.
  CHECK(run_ids(config, {"--only", "lo-*", "--tag", "prod"}) == Ids{"lo-web"});
  // A selected check brings its prerequisites, whatever their tags.
  CHECK(run_ids(config, {"--tag", "late"}) == Ids{"lo-after", "lo-db"});
}

TEST_CASE("--only matching nothing is a usage error", "[run][selection]") {
  const TempDir dir;
  const std::string config = write_file(dir.path(), "checks.yaml", kConfig).string();
  for (const std::string command : {"run", "list"}) {
    const auto r = run_triage({command, "--config", config, "--only", "nomatch"});
    INFO(describe(r));
    CHECK(r.exit_code == 64);
    CHECK(r.out.empty());
    CHECK(r.err.find("--only 'nomatch' matches no check") != std::string::npos);
  }
}

TEST_CASE("triage list shows the instances after fan-out and selection", "[list]") {
  const TempDir dir;
  const std::string config = write_file(dir.path(), "checks.yaml", kConfig).string();

  SECTION("text: an aligned row per instance with plugin.type, target and dependencies") {
    const auto r = run_triage({"list", "--config", config});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    // A header, 5 rows, a blank line and the count.
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 8);
    CHECK(r.out.rfind("ID  ", 0) == 0);
    CHECK(r.out.find("\n5 checks\n") != std::string::npos);
    CHECK(std::regex_search(r.out, std::regex("\nlo-many\\[127\\.0\\.0\\.3\\] +network\\.loopback +"
                                              "127\\.0\\.0\\.3 ")));
    // Columns line up: every row's CHECK column starts where the header's does.
    const auto column = r.out.find("CHECK");
    std::size_t start = r.out.find('\n') + 1;
    for (int row = 0; row < 5; ++row) {
      const auto end = r.out.find('\n', start);
      const auto line = r.out.substr(start, end - start);
      INFO(line);
      CHECK(line.substr(column, 8) == "network.");
      CHECK(line[column - 1] == ' ');
      start = end + 1;
    }
    CHECK(std::regex_search(r.out, std::regex(" lo-db +late\\n")));
    CHECK(r.out.find(" web,prod\n") != std::string::npos);
  }

  SECTION("json, with a tag selection") {
    const auto r = run_triage({"list", "--config", config, "--format", "json", "--tag", "web"});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    const auto list = parse_json(r.out);
    REQUIRE(list.is_array());
    Ids ids;
    for (const auto& c : list) {
      ids.insert(c.at("id").get<std::string>());
      CHECK(c.at("plugin") == "network");
      CHECK(c.at("type") == "loopback");
    }
    CHECK(ids == Ids{"lo-web", "lo-many[127.0.0.3]", "lo-many[127.0.0.4]"});
    for (const auto& c : list)
      if (c.at("id") == "lo-many[127.0.0.4]") CHECK(c.at("target") == "127.0.0.4");
  }
}
