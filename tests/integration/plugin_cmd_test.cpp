// `triage plugin new|info|validate` through the real binary: the scaffold is
// written (and refused over an existing project), info shows real plugin
// files and the loader's reason for broken ones, and validate fails the
// chaos plugins for the right reasons. (That the built-in plugins pass
// validate is its own ctest per plugin: integration.validate.*.)
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <string>

#include "helpers.hpp"

using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::run_triage;
using triage::itest::RunResult;
using triage::itest::test_plugin_dir;
using triage::itest::write_file;
using triage::test::as_nobody;
using triage::test::TempDir;

namespace {

const std::string kNetwork =
    std::string(TRIAGE_BINARY_DIR) + "/lib/triage/plugins/triage_network.so";
const std::string kChaos = std::string(TRIAGE_CHAOS_PLUGIN_DIR) + "/chaos.so";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The verdict of one cell of `validate -f json`, and its reason.
std::pair<std::string, std::string> cell(const nlohmann::json& report, const std::string& type,
                                         const std::string& test) {
  for (const auto& r : report.at("results"))
    if (r.at("check_type") == type && r.at("test") == test)
      return {r.at("verdict").get<std::string>(), r.value("reason", "")};
  return {"missing", ""};
}

// A file only its owner may read and write, like one of root's.
std::filesystem::path make_victim(const std::filesystem::path& dir) {
  const auto victim = write_file(dir, "victim", "root's secret\n");
  REQUIRE(::chmod(victim.c_str(), 0600) == 0);
  return victim;
}

// The victim's content and mode, as make_victim left them.
void check_untouched(const std::filesystem::path& victim) {
  CHECK(read_file(victim) == "root's secret\n");
  struct stat st {};
  REQUIRE(::lstat(victim.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == ::geteuid());
}

}  // namespace

TEST_CASE("plugin new writes a project and refuses to overwrite one", "[plugin]") {
  TempDir tmp;
  const auto dir = tmp.path() / "disk-age";
  const RunResult r = run_triage({"plugin", "new", "disk-age", "--dir", dir.string()});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "cmake -B build -DCMAKE_PREFIX_PATH="));
  CHECK(contains(r.out, "ctest --test-dir build"));
  CHECK(contains(r.out, "triage plugin validate build/disk-age.so"));
  const std::string cmake = read_file(dir / "CMakeLists.txt");
  CHECK(contains(cmake, "find_package(TriageSDK 1 REQUIRED)"));
  CHECK(contains(cmake, "triage_add_plugin(disk-age "));
  CHECK(contains(read_file(dir / "src/plugin.cpp"), "TRIAGE_PLUGIN(\"disk-age\""));
  CHECK(contains(read_file(dir / "src/file_check.hpp"), "namespace disk_age"));
  CHECK(contains(read_file(dir / "tests/file_check_test.cpp"), "triage/testing.hpp"));
  CHECK(contains(read_file(dir / "README.md"), "# disk-age"));

  const RunResult again = run_triage({"plugin", "new", "disk-age", "--dir", dir.string()});
  CHECK(again.exit_code == 73);
  CHECK(contains(again.err, "not empty"));
  CHECK(read_file(dir / "CMakeLists.txt") == cmake);
}

TEST_CASE("plugin new never writes through a planted symbolic link", "[plugin]") {
  TempDir tmp;
  const auto victim = make_victim(tmp.path());
  const auto dir = tmp.path() / "disk-age";
  std::filesystem::create_directories(dir);
  std::filesystem::create_symlink("../victim", dir / "README.md");
  const RunResult r = run_triage({"plugin", "new", "disk-age", "--dir", dir.string()});
  INFO(describe(r));
  CHECK(r.exit_code == 73);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "triage plugin new: " + dir.string() + " is not empty: " +
                            (dir / "README.md").string() + " already exists (a symbolic link)"));
  check_untouched(victim);
  CHECK(std::filesystem::read_symlink(dir / "README.md") == "../victim");
  CHECK_FALSE(std::filesystem::exists(dir / "CMakeLists.txt"));
}

TEST_CASE("plugin new as root writes nothing where nobody planted a link", "[plugin]") {
  if (::geteuid() != 0) {
    WARN("not root: the test needs to become nobody (uid 65534)");
    return;
  }
  TempDir tmp;
  REQUIRE(::chmod(tmp.path().c_str(), 0755) == 0);  // nobody may pass through
  const auto victim = make_victim(tmp.path());
  const auto shared = tmp.path() / "tmp";  // world-writable and sticky, like /tmp
  std::filesystem::create_directories(shared);
  REQUIRE(::chmod(shared.c_str(), 01777) == 0);
  const auto planted = shared / "disk-age";
  // nobody makes the folder root is about to use, with README.md -> root's
  // file; another one, empty for now (nobody could plant a link in it while
  // root writes); and a link to root's file's folder.
  const auto empty = shared / "empty";
  REQUIRE(as_nobody([&] {
    return ::mkdir(planted.c_str(), 0777) == 0 &&
           ::symlink(victim.c_str(), (planted / "README.md").c_str()) == 0 &&
           ::mkdir(empty.c_str(), 0777) == 0 &&
           ::symlink(tmp.path().c_str(), (shared / "linked").c_str()) == 0;
  }));

  const RunResult r = run_triage({"plugin", "new", "disk-age", "--dir", planted.string()});
  INFO(describe(r));
  CHECK(r.exit_code == 73);
  CHECK(contains(r.err, planted.string() + " belongs to uid 65534, not to you (uid 0)"));
  check_untouched(victim);
  CHECK(std::filesystem::read_symlink(planted / "README.md") == victim);
  CHECK_FALSE(std::filesystem::exists(planted / "CMakeLists.txt"));

  const RunResult into_empty = run_triage({"plugin", "new", "disk-age", "--dir", empty.string()});
  INFO(describe(into_empty));
  CHECK(into_empty.exit_code == 73);
  CHECK(contains(into_empty.err, empty.string() + " belongs to uid 65534"));
  CHECK(std::filesystem::is_empty(empty));

  const RunResult linked =
      run_triage({"plugin", "new", "disk-age", "--dir", (shared / "linked").string()});
  INFO(describe(linked));
  CHECK(linked.exit_code == 73);
  CHECK(contains(linked.err, "is a symbolic link: refusing to follow it"));
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "CMakeLists.txt"));
  check_untouched(victim);
}

TEST_CASE("plugin new rejects bad names and missing arguments", "[plugin]") {
  TempDir tmp;
  for (const std::string bad : {"Disk", "9lives", "a b", "x/y", "-dash"}) {
    const RunResult r = run_triage({"plugin", "new", bad, "--dir", (tmp.path() / "p").string()});
    INFO(bad << ": " << describe(r));
    CHECK(r.exit_code == 64);
    CHECK_FALSE(std::filesystem::exists(tmp.path() / "p"));
  }
  CHECK(run_triage({"plugin", "new"}).exit_code == 64);
  CHECK(run_triage({"plugin", "nwe"}).exit_code == 64);
  CHECK(run_triage({"plugin"}).exit_code == 64);
  const RunResult help = run_triage({"plugin", "new", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "--dir"));
}

TEST_CASE("plugin info shows the descriptor, types and params", "[plugin]") {
  const RunResult text = run_triage({"plugin", "info", kNetwork});
  INFO(describe(text));
  REQUIRE(text.exit_code == 0);
  CHECK(contains(text.out, "network "));
  CHECK(contains(text.out, "built for plugin ABI 1."));
  CHECK(contains(text.out, "network.tcp  [thread-safe]"));
  CHECK(contains(text.out, "target (string, required)"));

  const RunResult json = run_triage({"plugin", "info", kNetwork, "-f", "json"});
  REQUIRE(json.exit_code == 0);
  const auto info = parse_json(json.out);
  CHECK(info.at("name") == "network");
  CHECK_FALSE(info.at("sdk_version").get<std::string>().empty());
  bool tcp = false;
  for (const auto& t : info.at("check_types"))
    if (t.at("name") == "tcp") {
      tcp = true;
      CHECK(t.at("thread_safe") == true);
      CHECK(t.at("params_schema").at("properties").contains("target"));
    }
  CHECK(tcp);
}

TEST_CASE("plugin info gives the loader's reason for files it cannot load", "[plugin]") {
  const std::string chaos_loader = std::string(TRIAGE_CHAOS_PLUGIN_DIR) + "/loader/";
  const RunResult not_elf = run_triage({"plugin", "info", chaos_loader + "not_elf.so"});
  CHECK(not_elf.exit_code == 70);
  CHECK(contains(not_elf.err, "not_elf.so"));
  CHECK(contains(not_elf.err, "ELF"));
  const RunResult abi2 = run_triage({"plugin", "info", chaos_loader + "abi_major2.so"});
  CHECK(abi2.exit_code == 70);
  CHECK(contains(abi2.err, "ABI 2"));
  const RunResult missing = run_triage({"plugin", "info", "/nonexistent/x.so"});
  CHECK(missing.exit_code == 70);
  CHECK(contains(missing.err, "no such file"));
  CHECK(run_triage({"plugin", "info"}).exit_code == 64);
  CHECK(run_triage({"plugin", "info", kNetwork, "-f", "yaml"}).exit_code == 64);
}

TEST_CASE("plugin validate fails each chaos check for its own reason", "[plugin][slow]") {
  const RunResult r = run_triage({"plugin", "validate", kChaos, "-f", "json"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 1);
  const auto report = parse_json(r.out);
  CHECK(report.at("passed") == false);
  CHECK(cell(report, "(plugin)", "descriptor").first == "pass");
  // A well-behaved check type in the same plugin passes everything.
  for (const char* test : {"schema", "params", "crash", "deadline", "cancel", "concurrency",
                           "limits", "text", "processes", "result"})
    CHECK(cell(report, "healthy", test).first == "pass");
  // A daemon left behind (setsid, double fork) is counted after the call.
  const auto daemon = cell(report, "daemon", "processes");
  CHECK(daemon.first == "fail");
  CHECK(contains(daemon.second, "still running after run() returned"));
  // Text the core had to clean is said to be cleaned, not truncated.
  const auto bad_utf8 = cell(report, "bad_utf8", "text");
  CHECK(bad_utf8.first == "fail");
  CHECK(contains(bad_utf8.second, "cleaned"));
  CHECK(cell(report, "bad_utf8", "limits").first == "pass");
  const auto segfault = cell(report, "segfault", "crash");
  CHECK(segfault.first == "fail");
  CHECK(contains(segfault.second, "SIGSEGV"));
  CHECK(cell(report, "abort", "crash").first == "fail");
  CHECK(cell(report, "terminate", "crash").first == "fail");
  CHECK(cell(report, "exit0", "crash").first == "fail");
  // Exceptions the SDK wrapper catches end unknown: not a crash.
  CHECK(cell(report, "throw_std", "crash").first == "pass");
  const auto spin = cell(report, "spin", "deadline");
  CHECK(spin.first == "fail");
  CHECK(contains(spin.second, "after its deadline"));
  CHECK(cell(report, "sleep", "deadline").first == "fail");
  CHECK(cell(report, "ignore_sigterm", "deadline").first == "fail");
  const auto flood = cell(report, "flood", "limits");
  CHECK(flood.first == "fail");
  CHECK(contains(flood.second, "truncated"));
  CHECK(cell(report, "huge_summary", "limits").first == "fail");
  const auto alloc = cell(report, "alloc", "schema");
  CHECK(alloc.first == "fail");
  CHECK(contains(alloc.second, "limit_mb"));
}

TEST_CASE("plugin validate prints a table and takes sample params", "[plugin]") {
  TempDir tmp;
  // tcp against a port nothing listens on: critical, and every test passes.
  const auto params =
      write_file(tmp.path(), "params.json", R"({"tcp": {"target": "127.0.0.1:1"}})");
  const RunResult r = run_triage({"plugin", "validate", kNetwork, "--params", params.string()});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "check type"));
  CHECK(contains(r.out, "PASS:"));

  const auto bad = write_file(tmp.path(), "bad.json", R"({"tcp": "127.0.0.1:1"})");
  const RunResult rejected = run_triage({"plugin", "validate", kNetwork, "--params", bad.string()});
  CHECK(rejected.exit_code == 64);
  CHECK(contains(rejected.err, "'tcp'"));
  CHECK(run_triage({"plugin", "validate"}).exit_code == 64);
  CHECK(run_triage({"plugin", "validate", kNetwork, "--timeout", "soon"}).exit_code == 64);
  const RunResult missing = run_triage({"plugin", "validate", "/nonexistent/x.so"});
  CHECK(missing.exit_code == 70);
  const RunResult no_entry =
      run_triage({"plugin", "validate", test_plugin_dir() + "/test_no_entry.so"});
  CHECK(no_entry.exit_code == 70);
  CHECK(contains(no_entry.err, "triage_plugin_v1"));
}
