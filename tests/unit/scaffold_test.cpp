// `triage plugin new` writes its project without ever overwriting anything
// or following a planted symbolic link: a link in the folder, a link in
// place of the folder, and a folder another user made (in a world-writable
// sticky folder, like /tmp) are refused with the name of what is in the way,
// and what they point to is left exactly as it was.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "services.hpp"
#include "triage/core/scaffold.hpp"

namespace scaffold = triage::core::scaffold;
namespace fs = std::filesystem;
using triage::test::as_nobody;
using triage::test::TempDir;

namespace {

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A file only its owner may read, like one of root's secrets.
fs::path make_victim(const fs::path& dir) {
  const fs::path victim = dir / "victim";
  std::ofstream(victim) << "root's secret\n";
  REQUIRE(::chmod(victim.c_str(), 0600) == 0);
  return victim;
}

void check_untouched(const fs::path& victim) {
  CHECK(read_text(victim) == "root's secret\n");
  struct stat st {};
  REQUIRE(::lstat(victim.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == ::geteuid());
}

// The message of the ScaffoldError write() throws ("" when it does not).
std::string refusal(const std::string& name, const fs::path& dir) {
  try {
    scaffold::write(name, dir);
  } catch (const scaffold::ScaffoldError& e) {
    return e.what();
  }
  return "";
}

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("plugin new writes every file into a new folder, and never twice", "[scaffold]") {
  const TempDir scratch;
  const auto dir = scratch.path() / "a" / "disk-age";
  const auto written = scaffold::write("disk-age", dir);
  REQUIRE(written.size() == scaffold::templates().size());
  for (const auto& f : scaffold::files("disk-age")) CHECK(read_text(dir / f.path) == f.content);

  const std::string cmake = read_text(dir / "CMakeLists.txt");
  const std::string why = refusal("disk-age", dir);
  INFO(why);
  CHECK_THAT(why, Catch::Contains(dir.string() + " is not empty: "));
  CHECK_THAT(why, Catch::Contains("already exists"));
  CHECK_THAT(why, Catch::Contains("nothing is ever overwritten"));
  CHECK(read_text(dir / "CMakeLists.txt") == cmake);
}

TEST_CASE("plugin new names a planted symbolic link and leaves its target alone", "[scaffold]") {
  const TempDir scratch;
  const auto victim = make_victim(scratch.path());
  const auto dir = scratch.path() / "disk-age";
  fs::create_directories(dir);
  fs::create_symlink("../victim", dir / "README.md");

  const std::string why = refusal("disk-age", dir);
  INFO(why);
  CHECK_THAT(why,
             Catch::Contains((dir / "README.md").string() + " already exists (a symbolic link)"));
  CHECK_THAT(why, Catch::Contains("nothing was written"));
  check_untouched(victim);
  // Nothing was added beside the link, and the link is as it was.
  CHECK(entries(dir) == 1);
  CHECK(fs::is_symlink(dir / "README.md"));
  CHECK(fs::read_symlink(dir / "README.md") == "../victim");
}

TEST_CASE("plugin new does not follow a symbolic link in place of its folder", "[scaffold]") {
  const TempDir scratch;
  const auto elsewhere = scratch.path() / "elsewhere";
  fs::create_directories(elsewhere);
  const auto dir = scratch.path() / "disk-age";
  fs::create_directory_symlink(elsewhere, dir);

  const std::string why = refusal("disk-age", dir);
  INFO(why);
  CHECK_THAT(why, Catch::Contains(dir.string() + " is a symbolic link: refusing to follow it"));
  CHECK(entries(elsewhere) == 0);
  // A trailing slash names the same link.
  CHECK_THAT(refusal("disk-age", dir.string() + "/"), Catch::Contains("is a symbolic link"));
  CHECK(entries(elsewhere) == 0);
}

TEST_CASE("plugin new as root refuses what nobody planted in a sticky folder", "[scaffold]") {
  if (::geteuid() != 0) {
    WARN("not root: the test needs to become nobody (uid 65534)");
    return;
  }
  const TempDir scratch;
  REQUIRE(::chmod(scratch.path().c_str(), 0755) == 0);  // nobody may pass through
  const auto victim = make_victim(scratch.path());
  const auto roots = scratch.path() / "roots";  // root's own, empty, private
  fs::create_directories(roots);
  REQUIRE(::chmod(roots.c_str(), 0700) == 0);
  const auto shared = scratch.path() / "tmp";  // like /tmp
  fs::create_directories(shared);
  REQUIRE(::chmod(shared.c_str(), 01777) == 0);

  // nobody prepares: a folder of theirs with README.md -> root's file, an
  // empty folder of theirs, and a link to root's private folder.
  REQUIRE(as_nobody([&] {
    return ::mkdir((shared / "planted").c_str(), 0755) == 0 &&
           ::symlink(victim.c_str(), (shared / "planted" / "README.md").c_str()) == 0 &&
           ::mkdir((shared / "empty").c_str(), 0777) == 0 &&
           ::symlink(roots.c_str(), (shared / "link").c_str()) == 0;
  }));

  SECTION("a folder of nobody's with a link to root's file") {
    const std::string why = refusal("disk-age", shared / "planted");
    INFO(why);
    CHECK_THAT(why, Catch::Contains((shared / "planted").string() + " belongs to uid 65534"));
    check_untouched(victim);
    CHECK(entries(shared / "planted") == 1);
    CHECK(fs::read_symlink(shared / "planted" / "README.md") == victim);
  }
  SECTION("an empty folder of nobody's: root writes nothing into it") {
    const std::string why = refusal("disk-age", shared / "empty");
    INFO(why);
    CHECK_THAT(why, Catch::Contains("belongs to uid 65534, not to you (uid 0)"));
    CHECK(entries(shared / "empty") == 0);
  }
  SECTION("a link of nobody's to root's folder") {
    const std::string why = refusal("disk-age", shared / "link");
    INFO(why);
    CHECK_THAT(why, Catch::Contains("is a symbolic link"));
    CHECK(entries(roots) == 0);
  }
  SECTION("a new folder beside them is written") {
    CHECK(scaffold::write("disk-age", shared / "mine").size() == scaffold::templates().size());
    struct stat st {};
    REQUIRE(::lstat((shared / "mine").c_str(), &st) == 0);
    CHECK(st.st_uid == 0);
  }
  check_untouched(victim);
}
