// Bad configs end with exit code 78 and a message naming file, line and key;
// bad command lines end with exit code 64. Neither prints anything on stdout.
#include <catch2/catch.hpp>
#include <regex>
#include <string>

#include "helpers.hpp"

using triage::itest::describe;
using triage::itest::run_triage;
using triage::itest::RunResult;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

// Runs `triage run` and `triage list` on a config file; both must refuse it
// the same way. Returns the run's result.
RunResult refuse_config(const std::string& file) {
  const auto list = run_triage({"list", "--config", file});
  const auto run = run_triage({"run", "--config", file, "--format", "json"});
  INFO("run: " << describe(run));
  INFO("list: " << describe(list));
  CHECK(run.exit_code == 78);
  CHECK(list.exit_code == 78);
  CHECK(run.out.empty());
  CHECK(list.out.empty());
  CHECK(run.err.rfind("triage: config error: " + file, 0) == 0);
  CHECK(run.err == list.err);
  return run;
}

// A regular expression matching text literally.
std::string escaped(const std::string& text) {
  return std::regex_replace(text, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("config errors exit 78 naming file, line and key", "[config][errors]") {
  const TempDir dir;

  SECTION("unknown key, with a suggestion") {
    const auto file = write_file(dir.path(), "typo.yaml", R"(checks:
  - id: web
    plugin: network
    type: tcp
    timout: 5s
    params: { target: "127.0.0.1:1" }
)")
                          .string();
    const auto r = refuse_config(file);
    INFO(r.err);
    CHECK(contains(r.err, file + ":5: checks[0].timout: unknown key 'timout'"));
    CHECK(contains(r.err, "(did you mean 'timeout'?)"));
  }

  SECTION("a duration that is not one") {
    const auto file = write_file(dir.path(), "duration.yaml", R"(checks:
  - id: web
    plugin: network
    type: tcp
    timeout: 10 parsecs
    params: { target: "127.0.0.1:1" }
)")
                          .string();
    const auto r = refuse_config(file);
    INFO(r.err);
    CHECK(contains(r.err, file + ":5: checks[web].timeout: '10 parsecs' is not a duration"));
  }

  SECTION("unknown plugin, with a suggestion") {
    const auto file = write_file(dir.path(), "plugin.yaml", R"(checks:
  - id: web
    plugin: netwrk
    type: tcp
    params: { target: "127.0.0.1:1" }
)")
                          .string();
    const auto r = refuse_config(file);
    INFO(r.err);
    CHECK(contains(r.err, file + ":3: checks[web].plugin: unknown plugin 'netwrk'"));
    CHECK(contains(r.err, "(did you mean 'network'?)"));
  }

  SECTION("unknown check type: a suggestion when close, else the list") {
    const auto close = write_file(dir.path(), "type.yaml", R"(checks:
  - id: web
    plugin: network
    type: tpc
    params: { target: "127.0.0.1:1" }
)")
                           .string();
    const auto r = refuse_config(close);
    INFO(r.err);
    CHECK(
        contains(r.err, close + ":4: checks[web].type: plugin 'network' has no check type 'tpc'"));
    CHECK(contains(r.err, "(did you mean 'tcp'?)"));

    const auto far = write_file(dir.path(), "type2.yaml", R"(checks:
  - id: web
    plugin: network
    type: ping
)")
                         .string();
    const auto r2 = refuse_config(far);
    INFO(r2.err);
    CHECK(
        contains(r2.err, far + ":4: checks[web].type: plugin 'network' has no check type 'ping'"));
    for (const char* type : {"dns", "tcp", "http", "tls", "route", "loopback"})
      CHECK(contains(r2.err, type));
  }

  SECTION("a dependency cycle, named") {
    const auto file = write_file(dir.path(), "cycle.yaml", R"(checks:
  - id: a
    plugin: network
    type: loopback
    depends_on: [b]
    params: { target: "127.0.0.1" }
  - id: b
    plugin: network
    type: loopback
    depends_on: [a]
    params: { target: "127.0.0.1" }
)")
                          .string();
    const auto r = refuse_config(file);
    INFO(r.err);
    // The check that closes the cycle is named, at its depends_on line.
    CHECK(std::regex_search(r.err, std::regex(escaped(file) + R"(:10: checks\[b\]\.depends_on: )"
                                                              "dependency cycle a -> b -> a")));
  }

  SECTION("a dependency on an id that does not exist, with a suggestion") {
    const auto file = write_file(dir.path(), "dep.yaml", R"(checks:
  - id: database
    plugin: network
    type: loopback
    params: { target: "127.0.0.1" }
  - id: api
    plugin: network
    type: loopback
    depends_on: [databse]
    params: { target: "127.0.0.1" }
)")
                          .string();
    const auto r = refuse_config(file);
    INFO(r.err);
    CHECK(contains(r.err, file + ":9: checks[api].depends_on: depends on 'databse'"));
    CHECK(contains(r.err, "(did you mean 'database'?)"));
  }

  SECTION("a file that does not exist") {
    const auto file = (dir.path() / "missing.yaml").string();
    const auto r = refuse_config(file);
    INFO(r.err);
    CHECK(contains(r.err, file + ": cannot read the config file"));
  }

  SECTION("an empty file") {
    const auto file = write_file(dir.path(), "empty.yaml", "").string();
    const auto r = refuse_config(file);
    INFO(r.err);
    CHECK(contains(r.err, file + ": the config is empty"));
  }

  SECTION("a file that is not YAML") {
    const auto file =
        write_file(dir.path(), "broken.yaml", "checks:\n  - id: web\n    params: {target: [x\n")
            .string();
    const auto r = refuse_config(file);
    INFO(r.err);
    CHECK(std::regex_search(r.err, std::regex(escaped(file) + ":[0-9]+: not valid YAML or JSON")));
  }

  SECTION("a JSON config is read too, with the same errors") {
    const auto file = write_file(dir.path(), "checks.json", R"({
  "checks": [
    {"id": "web", "plugin": "network", "type": "loopback",
     "params": {"target": "127.0.0.1"}, "retires": 1}
  ]
})")
                          .string();
    const auto r = refuse_config(file);
    INFO(r.err);
    CHECK(contains(r.err, file + ":4: checks[0].retires: unknown key 'retires'"));
    CHECK(contains(r.err, "(did you mean 'retries'?)"));
  }
}

TEST_CASE("params the check type's schema rejects are config errors", "[config][errors][params]") {
  const TempDir dir;
  SECTION("an unknown param, with a suggestion") {
    const auto file = write_file(dir.path(), "p1.yaml", R"(checks:
  - id: lo
    plugin: network
    type: loopback
    params: { target: 127.0.0.1, tagret: x }
)")
                          .string();
    const auto r = refuse_config(file);
    CHECK(contains(r.err, file + ":5: checks[lo].params.tagret: network.loopback has no param "
                                 "'tagret' (did you mean 'target'?)"));
  }
  SECTION("a param of the wrong type") {
    const auto file = write_file(dir.path(), "p2.yaml", R"(checks:
  - id: api
    plugin: network
    type: http
    params: { target: "http://127.0.0.1/", samples: many }
)")
                          .string();
    const auto r = refuse_config(file);
    CHECK(contains(r.err, file + ":5: checks[api].params.samples:"));
    CHECK(contains(r.err, "integer"));
  }
  SECTION("a missing required param") {
    const auto file = write_file(dir.path(), "p3.yaml", R"(checks:
  - id: lo
    plugin: network
    type: loopback
)")
                          .string();
    const auto r = refuse_config(file);
    CHECK(contains(r.err, file + ":2: checks[lo].params.target: missing (network.loopback "
                                 "requires it)"));
  }
}

TEST_CASE("usage errors exit 64 with a hint", "[cli][errors]") {
  auto usage_error = [](const std::vector<std::string>& args) {
    const auto r = run_triage(args);
    INFO(describe(r));
    CHECK(r.exit_code == 64);
    CHECK(r.out.empty());
    return r;
  };

  SECTION("a misspelt option suggests the real one") {
    const auto r = usage_error({"run", "--jbos", "2"});
    CHECK(contains(r.err, "'--jbos'"));
    CHECK(contains(r.err, "(did you mean '--jobs'?)"));
    CHECK(contains(r.err, "triage run --help"));
  }

  SECTION("an unknown --format") {
    const auto r = usage_error({"run", "--format", "yaml"});
    CHECK(contains(r.err, "unknown --format 'yaml'"));
  }

  SECTION("a --timeout that is not a duration") {
    const auto r = usage_error({"run", "--timeout", "10 parsecs"});
    CHECK(contains(r.err, "--timeout '10 parsecs' is not a duration"));
  }

  SECTION("a negative --jobs") {
    const auto r = usage_error({"run", "--jobs", "-1"});
    CHECK(contains(r.err, "--jobs"));
  }

  SECTION("an unknown command, and a misspelt one") {
    const auto r = usage_error({"frobnicate"});
    CHECK(contains(r.err, "unknown command 'frobnicate'"));
    const auto near = usage_error({"rnu"});
    CHECK(contains(near.err, "unknown command 'rnu' (did you mean 'run'?)"));
  }

  SECTION("a usage error wins over a config that does not exist") {
    const auto r = usage_error({"run", "--config", "/nonexistent/checks.yaml", "--format", "xml"});
    CHECK(contains(r.err, "unknown --format 'xml'"));
  }

  SECTION("no command at all prints the usage") {
    const auto r = run_triage({});
    INFO(describe(r));
    CHECK(r.exit_code == 64);
    CHECK(contains(r.out + r.err, "Usage: triage <command>"));
  }
}
