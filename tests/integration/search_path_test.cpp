// The plugin search path through the real binary: a plugin in the user's
// ~/.local/lib/triage/plugins is found (HOME points at a temporary folder),
// earlier folders win over it, and the plugin-file security rules apply there
// as everywhere. The order itself is unit-tested in tests/unit/search_path_test.cpp.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::run_triage;
using triage::itest::RunEnv;
using triage::itest::test_plugin_dir;
using triage::itest::write_file;
using triage::test::TempDir;

namespace fs = std::filesystem;

namespace {

// A HOME with the C test plugin installed in its user plugin folder.
struct UserHome {
  TempDir home;
  fs::path folder = home.path() / ".local" / "lib" / "triage" / "plugins";
  fs::path plugin = folder / "c_echo.so";

  UserHome() {
    fs::create_directories(folder);
    // Owned by us, writable by us only: what the security rules accept.
    for (auto p = folder; p != home.path().parent_path(); p = p.parent_path())
      fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    fs::copy_file(TRIAGE_TEST_C_PLUGIN, plugin);
    fs::permissions(plugin, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  }
  RunEnv env() const { return RunEnv{{{"HOME", home.path().string()}}}; }
};

// The "file" of the plugin named `name` in `triage plugins -f json`, or "".
std::string file_of(const nlohmann::json& doc, const std::string& name) {
  for (const auto& p : doc.at("plugins"))
    if (p.at("name") == name) return p.at("file").get<std::string>();
  return {};
}

}  // namespace

TEST_CASE("a plugin in ~/.local/lib/triage/plugins is found and runs", "[plugins][search-path]") {
  const UserHome user;
  const auto listed = run_triage({"plugins", "--format", "json"}, user.env());
  INFO(describe(listed));
  REQUIRE(listed.exit_code == 0);
  const auto doc = parse_json(listed.out);
  CHECK(file_of(doc, "c-echo") == user.plugin.string());
  CHECK(file_of(doc, "network").find("/lib/triage/plugins/") != std::string::npos);

  const auto config = write_file(user.home.path(), "echo.yaml", R"(checks:
  - id: hello
    plugin: c-echo
    type: echo
    params: { target: "from the user folder" }
)");
  const auto r = run_triage({"run", "--config", config.string(), "--format", "json"}, user.env());
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(check_of(parse_json(r.out), "hello").at("status") == "ok");
}

TEST_CASE("without that HOME the user plugin is not found", "[plugins][search-path]") {
  const UserHome user;
  const TempDir other_home;
  const auto r =
      run_triage({"plugins", "--format", "json"}, RunEnv{{{"HOME", other_home.path().string()}}});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(file_of(parse_json(r.out), "c-echo").empty());
}

TEST_CASE("--plugin-dir wins over the user folder for a plugin of the same name",
          "[plugins][search-path]") {
  const UserHome user;
  const auto r =
      run_triage({"plugins", "--format", "json", "--plugin-dir", test_plugin_dir()}, user.env());
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const auto doc = parse_json(r.out);
  CHECK(fs::path(file_of(doc, "c-echo")).parent_path() == fs::path(test_plugin_dir()));
}

TEST_CASE("a user-folder plugin others can modify is refused", "[plugins][search-path]") {
  const UserHome user;
  ::chmod(user.plugin.c_str(), 0666);
  const auto r = run_triage({"plugins", "--format", "json"}, user.env());
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const auto doc = parse_json(r.out);
  CHECK(file_of(doc, "c-echo").empty());
  bool refused = false;
  for (const auto& p : doc.at("refused"))
    refused = refused ||
              (p.at("file") == user.plugin.string() &&
               p.at("reason").get<std::string>().find("writable by others") != std::string::npos);
  CHECK(refused);
}
