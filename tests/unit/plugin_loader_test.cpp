// The loader against real shared libraries built for the tests: a pure C
// plugin, a C++ one, one of another ABI major, one without the entry point,
// and a text file named .so.
#include <catch2/catch.hpp>

#include "triage/core/plugin_loader.hpp"
#include "triage/core/runner.hpp"

using namespace std::chrono_literals;
using namespace triage::core;

namespace {

const std::filesystem::path kDir = TRIAGE_TEST_PLUGIN_DIR;

std::string problem_for(const PluginRegistry& r, const std::string& file) {
  for (const auto& p : r.problems())
    if (p.file.filename() == file) return p.message();
  return "(no problem recorded)";
}

}  // namespace

TEST_CASE("a folder of mixed files loads the plugins and refuses the rest", "[loader]") {
  PluginRegistry registry;
  registry.load_directory(kDir);
  REQUIRE(registry.find("c-echo") != nullptr);
  REQUIRE(registry.find("test-cxx") != nullptr);
  CHECK(registry.find("future") == nullptr);
  const Plugin& c = *registry.find("c-echo");
  CHECK(c.version == "0.1.0");
  CHECK(c.abi_major == 1);
  REQUIRE(c.types.size() == 1);
  CHECK(c.types[0].name == "echo");
  CHECK((c.types[0].flags & TRIAGE_CHECK_THREAD_SAFE) != 0);

  CHECK_THAT(problem_for(registry, "test_abi2_plugin.so"),
             Catch::Contains("test_abi2_plugin.so: built for plugin ABI 2.0, this triage speaks "
                             "ABI 1.x"));
  CHECK_THAT(problem_for(registry, "test_no_entry.so"),
             Catch::Contains("not a Triage plugin: it does not export triage_plugin_v1()"));
  CHECK_THAT(problem_for(registry, "text_file.so"),
             Catch::Contains("text_file.so: not a loadable shared library"));
}

TEST_CASE("a missing folder is not an error", "[loader]") {
  PluginRegistry registry;
  registry.load_directory(kDir / "does-not-exist");
  CHECK(registry.plugins().empty());
  CHECK(registry.problems().empty());
}

TEST_CASE("checks of loaded plugins run through the host API", "[loader][runner]") {
  PluginRegistry registry;
  registry.load_directory(kDir);
  auto config = parse_config(R"(checks:
  - {id: c, plugin: c-echo, type: echo, params: {target: here}}
  - {id: throws, plugin: test-cxx, type: throws}
  - {id: report, plugin: test-cxx, type: report, params: {value: 75}}
  - {id: waits, plugin: test-cxx, type: waits, timeout: 20ms}
)",
                             "l.yaml");
  validate_plugins(config, registry);
  InProcessExecutor executor(registry);
  RunOptions options;
  options.grace = 5s;
  const auto out = run_checks(config.checks, executor, options);
  REQUIRE(out.results.size() == 4);

  const auto& c = out.results[0];
  CHECK(c.status == Status::ok);
  CHECK(c.summary == "echo from C");
  REQUIRE(c.metrics.size() == 1);
  CHECK(c.metrics[0].critical->text() == "1000");
  CHECK(c.findings.at(0).title == "Hello from C");
  CHECK_THAT(c.attributes.at(0).second, Catch::Contains("\"target\":\"here\""));

  CHECK(out.results[1].status == Status::unknown);
  CHECK(out.results[1].error == "boom from a check");

  CHECK(out.results[2].status == Status::warning);  // 75 is past the default warning 50
  CHECK(out.results[3].status == Status::critical);
  CHECK(out.results[3].summary == "gave up at the deadline");
  CHECK(out.abandoned == 0);
}

TEST_CASE("unknown plugins and check types are config errors with a suggestion",
          "[loader][errors]") {
  PluginRegistry registry;
  registry.load_directory(kDir);
  auto error_of = [&](const std::string& text) {
    try {
      auto config = parse_config(text, "v.yaml");
      validate_plugins(config, registry);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(error_of("checks:\n  - id: a\n    plugin: c-ecoh\n    type: echo\n") ==
        "v.yaml:3: checks[a].plugin: unknown plugin 'c-ecoh' (did you mean 'c-echo'?)");
  CHECK(error_of("checks:\n  - id: a\n    plugin: c-echo\n    type: ehco\n") ==
        "v.yaml:4: checks[a].type: plugin 'c-echo' has no check type 'ehco' (did you mean "
        "'echo'?)");
  CHECK(error_of("checks:\n  - id: a\n    plugin: c-echo\n    type: zzzzzz\n") ==
        "v.yaml:4: checks[a].type: plugin 'c-echo' has no check type 'zzzzzz' (it has: echo)");
}
