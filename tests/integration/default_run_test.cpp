// `triage run` with no --config diagnoses the machine it runs on; the shipped
// example config is valid.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::recount;
using triage::itest::run_triage;
using triage::itest::schema_errors;

namespace {

// The report of a default run (run once, shared by the test cases below).
const nlohmann::json& default_report() {
  static const nlohmann::json report = [] {
    const auto r = run_triage({"run", "--format", "json"});
    INFO(describe(r));
    CHECK((r.exit_code >= 0 && r.exit_code <= 3));
    return parse_json(r.out);
  }();
  return report;
}

}  // namespace

TEST_CASE("the default run diagnoses this machine", "[run][default]") {
  const auto& report = default_report();
  INFO(report.dump(2));
  CHECK(schema_errors(report).empty());
  CHECK(report.at("run").at("config_path").is_null());
  CHECK(report.at("summary").at("counts") == recount(report));

  std::set<std::string> ids;
  for (const auto& c : report.at("checks")) ids.insert(c.at("id").get<std::string>());
  CHECK(ids == std::set<std::string>{"loopback", "hostname", "default-route", "resolver",
                                     "filesystems", "node"});

  const auto& loopback = check_of(report, "loopback");
  CHECK(loopback.at("status") == "ok");
  CHECK(loopback.at("plugin") == "network");
  CHECK(loopback.at("type") == "loopback");
  CHECK(loopback.at("error").is_null());
}

TEST_CASE("the default run shows local filesystem usage", "[run][default]") {
  const auto& report = default_report();
  const auto& fs = check_of(report, "filesystems");
  INFO(fs.dump(2));
  CHECK(fs.at("plugin") == "storage");
  CHECK(fs.at("type") == "filesystem");
  CHECK(fs.at("error").is_null());
  bool root = false, aggregate = false;
  for (const auto& m : fs.at("metrics")) {
    if (m.at("name") == "used_pct[/]") {
      root = true;
      CHECK(m.at("unit") == "%");
      CHECK(m.at("value").get<double>() >= 0);
      CHECK(m.at("value").get<double>() <= 100);
    }
    // The worst mount carries the runbook's default levels.
    if (m.at("name") == "used_pct") {
      aggregate = true;
      CHECK_FALSE(m.at("warning").is_null());
      CHECK_FALSE(m.at("critical").is_null());
    }
  }
  CHECK(root);
  CHECK(aggregate);
  CHECK(fs.at("attributes").at("fs_type[/]").is_string());
}

TEST_CASE("the default run shows this node's CPU and memory against the runbook's levels",
          "[run][default]") {
  const auto& node = check_of(default_report(), "node");
  INFO(node.dump(2));
  CHECK(node.at("plugin") == "cluster");
  CHECK(node.at("error").is_null());
  std::set<std::string> names;
  for (const auto& m : node.at("metrics")) {
    names.insert(m.at("name").get<std::string>());
    if (m.at("name") == "cpu_used_pct" || m.at("name") == "memory_used_pct") {
      CHECK(m.at("value").get<double>() >= 0);
      CHECK(m.at("value").get<double>() <= 100);
      CHECK(m.at("warning") == "85");
      CHECK(m.at("critical") == "95");
    }
  }
  for (const char* name :
       {"cpu_used_pct", "load_per_cpu", "memory_used_pct", "swap_used_pct", "fd_used_pct"})
    CHECK(names.count(name) == 1);
}

// The built-in config must only give params the built-in checks know: an
// unknown one would make every default run end `unknown`.
TEST_CASE("every built-in check accepts the params the built-in config gives it",
          "[run][default]") {
  const auto& report = default_report();
  for (const auto& c : report.at("checks")) {
    INFO(c.dump(2));
    if (c.at("error").is_string())
      CHECK(c.at("error").get<std::string>().find("unknown param") == std::string::npos);
  }
}

TEST_CASE("the shipped example config is valid", "[list][examples]") {
  const std::string config = std::string(TRIAGE_SOURCE_DIR) + "/examples/localhost.yaml";
  const auto r = run_triage({"list", "--config", config, "--format", "json"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  const auto list = parse_json(r.out);
  std::set<std::string> ids;
  for (const auto& c : list) ids.insert(c.at("id").get<std::string>());
  CHECK(ids.count("web-ports[127.0.0.1:80]") == 1);
  CHECK(ids.count("web-ports[127.0.0.1:443]") == 1);
  CHECK(ids.count("loopback") == 1);
}
