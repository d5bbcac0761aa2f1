// Plugin files others could have modified are refused by the real binary:
// `triage plugins` lists them as refused with the reason and the fix, a run
// that needs one is a config error, and --allow-insecure-plugins loads them
// with a warning.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::run_triage;
using triage::itest::test_plugin_dir;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a plugin in a group-writable folder is refused unless allowed", "[plugins][security]") {
  const TempDir scratch;
  const auto dir = scratch.path() / "shared-plugins";
  std::filesystem::create_directories(dir);
  const auto plugin = dir / "test_c_plugin.so";
  std::filesystem::copy_file(std::filesystem::path(test_plugin_dir()) / "test_c_plugin.so", plugin);
  REQUIRE(::chmod(plugin.c_str(), 0755) == 0);
  REQUIRE(::chmod(dir.c_str(), 0775) == 0);
  const std::string reason = "its folder " + dir.string() +
                             " is writable by group (mode 0775); fix with: chmod go-w " +
                             dir.string() + ", or pass --allow-insecure-plugins";
  const std::string config = write_file(scratch.path(), "echo.yaml", R"(checks:
  - id: hello
    plugin: c-echo
    type: echo
    params: { target: "greetings" }
)")
                                 .string();

  SECTION("triage plugins lists it as refused, with the reason and the fix") {
    const auto r = run_triage({"plugins", "--plugin-dir", dir.string()});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "refused: " + plugin.string() + ": " + reason + "\n"));
    CHECK_FALSE(contains(r.out, "c-echo"));

    const auto json = run_triage({"plugins", "--plugin-dir", dir.string(), "-f", "json"});
    INFO(describe(json));
    const auto doc = parse_json(json.out);
    REQUIRE(doc.at("refused").size() == 1);
    CHECK(doc.at("refused").at(0).at("file") == plugin.string());
    CHECK(doc.at("refused").at(0).at("reason") == reason);
  }

  SECTION("a run that needs it is a config error: the plugin is unknown") {
    for (const std::string isolation : {"process", "in-process"}) {
      const auto r = run_triage({"run", "-c", config, "-f", "json", "--plugin-dir", dir.string(),
                                 "--isolation", isolation});
      INFO(describe(r));
      CHECK(r.exit_code == 78);
      CHECK(r.out.empty());
      CHECK(contains(r.err, "checks[hello].plugin: unknown plugin 'c-echo'"));
      CHECK(contains(r.err, reason));  // the warning says why it is missing
    }
  }

  SECTION("--allow-insecure-plugins loads it, with a warning") {
    const auto listed =
        run_triage({"plugins", "--plugin-dir", dir.string(), "--allow-insecure-plugins"});
    INFO(describe(listed));
    CHECK(listed.exit_code == 0);
    CHECK(contains(listed.out, "c-echo 0.1.0"));
    CHECK_FALSE(contains(listed.out, "refused:"));
    CHECK(contains(listed.err,
                   "triage: warning: --allow-insecure-plugins: loading plugins others can modify"));
    CHECK(contains(listed.err, plugin.string()));

    for (const std::string isolation : {"process", "in-process"}) {
      const auto r = run_triage({"run", "-c", config, "-f", "json", "--plugin-dir", dir.string(),
                                 "--allow-insecure-plugins", "--isolation", isolation});
      INFO(describe(r));
      CHECK(r.exit_code == 0);
      CHECK(check_of(parse_json(r.out), "hello").at("status") == "ok");
      CHECK(contains(r.err,
                     "triage: warning: --allow-insecure-plugins: loading plugins others "
                     "can modify"));
    }
  }

  SECTION("fixed as the reason says, it loads without the option") {
    REQUIRE(::chmod(dir.c_str(), 0755) == 0);
    const auto r = run_triage({"plugins", "--plugin-dir", dir.string()});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "c-echo 0.1.0"));
    CHECK_FALSE(contains(r.out, "refused:"));
  }
}
