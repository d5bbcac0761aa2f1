// Plugin files others could have written are refused, with the fix: a
// group/world-writable file or folder, a file owned by another user, and what
// a symbolic link leads to. The registry refuses them unless told otherwise.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>

#include "services.hpp"
#include "triage/core/plugin_loader.hpp"
#include "triage/core/plugin_security.hpp"

using namespace triage::core;
namespace fs = std::filesystem;
using triage::test::as_nobody;
using triage::test::TempDir;

namespace {

// dir/name with mode `mode`; dir gets mode `dir_mode`.
fs::path make_file(const fs::path& dir, const std::string& name, mode_t mode, mode_t dir_mode) {
  fs::create_directories(dir);
  const fs::path file = dir / name;
  std::ofstream(file) << "not a library\n";
  REQUIRE(::chmod(file.c_str(), mode) == 0);
  REQUIRE(::chmod(dir.c_str(), dir_mode) == 0);
  return file;
}

std::string reason_of(const fs::path& file) {
  return insecure_plugin_reason(file).value_or("(accepted)");
}

}  // namespace

TEST_CASE("plugin files only root or we could write are accepted", "[plugins][security]") {
  const TempDir scratch;
  const auto dir = scratch.path() / "plugins";
  CHECK(reason_of(make_file(dir, "a.so", 0755, 0755)) == "(accepted)");
  CHECK(reason_of(make_file(dir, "b.so", 0644, 0755)) == "(accepted)");
  CHECK(reason_of(make_file(dir, "c.so", 0600, 0700)) == "(accepted)");
  CHECK(reason_of(make_file(dir, "d.so", 0444, 0555)) == "(accepted)");
}

TEST_CASE("a writable plugin file is refused with the fix", "[plugins][security]") {
  const TempDir scratch;
  const auto dir = scratch.path() / "plugins";
  const auto others = make_file(dir, "x.so", 0666, 0755);
  CHECK(reason_of(others) == "writable by others (mode 0666); fix with: chmod go-w " +
                                 others.string() + ", or pass --allow-insecure-plugins");
  const auto group = make_file(dir, "g.so", 0664, 0755);
  CHECK(reason_of(group) == "writable by group (mode 0664); fix with: chmod go-w " +
                                group.string() + ", or pass --allow-insecure-plugins");
  const auto only_others = make_file(dir, "o.so", 0602, 0755);
  CHECK_THAT(reason_of(only_others), Catch::StartsWith("writable by others (mode 0602)"));
}

TEST_CASE("a plugin in a writable folder is refused with the fix", "[plugins][security]") {
  const TempDir scratch;
  const auto dir = scratch.path() / "plugins";
  const auto file = make_file(dir, "x.so", 0755, 0775);
  CHECK(reason_of(file) == "its folder " + dir.string() +
                               " is writable by group (mode 0775); fix with: chmod go-w " +
                               dir.string() + ", or pass --allow-insecure-plugins");
  REQUIRE(::chmod(dir.c_str(), 01777) == 0);  // sticky, like /tmp: still refused
  CHECK_THAT(reason_of(file), Catch::Contains("is writable by others (mode 1777)"));
  REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  CHECK(reason_of(file) == "(accepted)");

  SECTION("a relative path names the folder '.'-relative as given") {
    const auto cwd = fs::current_path();
    fs::current_path(dir);
    REQUIRE(::chmod(dir.c_str(), 0777) == 0);
    const std::string reason = reason_of("x.so");
    fs::current_path(cwd);
    CHECK(reason ==
          "its folder . is writable by others (mode 0777); fix with: chmod go-w ., or "
          "pass --allow-insecure-plugins");
  }
}

TEST_CASE("a symbolic link is judged by what it leads to", "[plugins][security]") {
  const TempDir scratch;
  const auto safe = scratch.path() / "safe";
  const auto target = make_file(scratch.path() / "elsewhere", "real.so", 0666, 0755);
  fs::create_directories(safe);
  REQUIRE(::chmod(safe.c_str(), 0755) == 0);
  const auto link = safe / "link.so";
  fs::create_symlink(target, link);
  CHECK(reason_of(link) == "its link target " + fs::canonical(target).string() +
                               " is writable by others (mode 0666); fix with: chmod go-w " +
                               fs::canonical(target).string() +
                               ", or pass --allow-insecure-plugins");
  REQUIRE(::chmod(target.c_str(), 0644) == 0);
  CHECK(reason_of(link) == "(accepted)");
  REQUIRE(::chmod(target.parent_path().c_str(), 0777) == 0);
  CHECK_THAT(reason_of(link), Catch::StartsWith("the folder of its link target " +
                                                fs::canonical(target.parent_path()).string() +
                                                " is writable by others"));
  REQUIRE(::chmod(target.parent_path().c_str(), 0755) == 0);
  fs::remove(target);
  CHECK_THAT(reason_of(link), Catch::StartsWith("a symbolic link that cannot be followed"));
  CHECK_THAT(reason_of(safe / "missing.so"), Catch::StartsWith("cannot be checked ("));
}

TEST_CASE("a plugin file owned by another user is refused", "[plugins][security]") {
  if (geteuid() != 0) {
    WARN("SKIPPED: changing a file's owner needs root; the other-owner case was not tested");
    return;
  }
  const TempDir scratch;
  const auto dir = scratch.path() / "plugins";
  const auto file = make_file(dir, "x.so", 0755, 0755);
  REQUIRE(::chown(file.c_str(), 65534, static_cast<gid_t>(-1)) == 0);
  CHECK_THAT(reason_of(file),
             Catch::StartsWith("owned by uid 65534") &&
                 Catch::Contains(", not by root or the user running triage (uid 0 (root)); fix "
                                 "with: chown root " +
                                 file.string() + ", or pass --allow-insecure-plugins"));
  REQUIRE(::chown(file.c_str(), 0, static_cast<gid_t>(-1)) == 0);
  REQUIRE(::chown(dir.c_str(), 65534, static_cast<gid_t>(-1)) == 0);
  CHECK_THAT(reason_of(file),
             Catch::StartsWith("its folder " + dir.string() + " is owned by uid 65534"));
}

TEST_CASE("the registry refuses an insecure plugin unless allowed", "[plugins][security][loader]") {
  const TempDir scratch;
  const auto dir = scratch.path() / "plugins";
  fs::create_directories(dir);
  const auto file = dir / "test_c_plugin.so";
  fs::copy_file(fs::path(TRIAGE_TEST_PLUGIN_DIR) / "test_c_plugin.so", file);
  REQUIRE(::chmod(file.c_str(), 0755) == 0);
  REQUIRE(::chmod(dir.c_str(), 0777) == 0);

  PluginRegistry refused;
  refused.load_directory(dir);
  CHECK(refused.find("c-echo") == nullptr);
  REQUIRE(refused.problems().size() == 1);
  CHECK(refused.problems()[0].message() ==
        file.string() + ": its folder " + dir.string() +
            " is writable by others (mode 0777); fix with: chmod go-w " + dir.string() +
            ", or pass --allow-insecure-plugins");

  PluginRegistry allowed;
  allowed.set_allow_insecure(true);
  allowed.load_directory(dir);
  CHECK(allowed.find("c-echo") != nullptr);
  CHECK(allowed.problems().empty());

  // The registry warned about it already: once per file and process.
  CHECK_FALSE(first_insecure_warning(file));
  CHECK(first_insecure_warning(dir / "other.so"));
  CHECK_FALSE(first_insecure_warning(dir / "other.so"));
}

TEST_CASE("a plugin below a folder others can write is refused, up to /", "[plugins][security]") {
  const TempDir scratch;
  REQUIRE(::chmod(scratch.path().c_str(), 0755) == 0);  // nobody may pass through
  const auto open_folder = scratch.path() / "shared";
  const auto dir = open_folder / "plugins";
  fs::create_directories(dir);
  const auto file = dir / "test_c_plugin.so";
  fs::copy_file(fs::path(TRIAGE_TEST_PLUGIN_DIR) / "test_c_plugin.so", file);
  REQUIRE(::chmod(file.c_str(), 0755) == 0);
  REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  REQUIRE(::chmod(open_folder.c_str(), 0777) == 0);
  if (geteuid() == 0) {
    // The threat: an unprivileged user can swap the plugin's folder for one
    // of their own (and back) while root loads it.
    INFO("nobody renames the plugin folder under a world-writable parent");
    CHECK(as_nobody([&] {
      const auto moved = open_folder / "moved";
      return ::rename(dir.c_str(), moved.c_str()) == 0 && ::rename(moved.c_str(), dir.c_str()) == 0;
    }));
  }
  CHECK(reason_of(file) == "the folder above it " + open_folder.string() +
                               " is writable by others (mode 0777, not sticky); fix with: chmod "
                               "go-w " +
                               open_folder.string() + ", or pass --allow-insecure-plugins");
  PluginRegistry refused;
  refused.load_file(file);
  CHECK(refused.find("c-echo") == nullptr);

  // Sticky and root's, like /tmp: others cannot rename what is not theirs.
  if (geteuid() == 0) {
    REQUIRE(::chmod(open_folder.c_str(), 01777) == 0);
    CHECK(reason_of(file) == "(accepted)");
    PluginRegistry loaded;
    CHECK(loaded.load_file(file));
    CHECK(loaded.find("c-echo") != nullptr);
  }
}

TEST_CASE("a symbolic link is followed by hand, each folder on the way checked",
          "[plugins][security]") {
  const TempDir scratch;
  const auto real = scratch.path() / "real";
  fs::create_directories(real / "lib");
  const auto target = real / "lib" / "test_c_plugin.so";
  fs::copy_file(fs::path(TRIAGE_TEST_PLUGIN_DIR) / "test_c_plugin.so", target);
  REQUIRE(::chmod(target.c_str(), 0755) == 0);
  const auto links = scratch.path() / "links";
  fs::create_directories(links);
  // A relative link through "..", and a link to a link.
  fs::create_symlink("../real/lib/test_c_plugin.so", links / "one.so");
  fs::create_symlink(links / "one.so", links / "two.so");
  CHECK(reason_of(links / "one.so") == "(accepted)");
  CHECK(reason_of(links / "two.so") == "(accepted)");
  PluginRegistry registry;
  CHECK(registry.load_file(links / "two.so"));
  CHECK(registry.find("c-echo") != nullptr);
  REQUIRE(::chmod(real.c_str(), 0777) == 0);
  CHECK_THAT(reason_of(links / "two.so"),
             Catch::StartsWith("the folder above it " + real.string() + " is writable by others"));
  REQUIRE(::chmod(real.c_str(), 0755) == 0);
  fs::create_symlink("loop.so", links / "loop.so");
  CHECK_THAT(reason_of(links / "loop.so"), Catch::StartsWith("a symbolic link that cannot be "
                                                             "followed (too many links)"));
}

TEST_CASE("a FIFO named like a plugin is refused without blocking", "[plugins][security]") {
  const TempDir scratch;
  const auto fifo = scratch.path() / "x.so";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  CHECK(reason_of(fifo) ==
        "cannot be checked (not a regular file); pass "
        "--allow-insecure-plugins to load it anyway");
}
