// The io_probe check against real folders: a temp folder, a read-only and a
// full tmpfs (private mount namespace, isolated.hpp), and a folder the user
// `nobody` may not write (forked child with dropped privileges). EDQUOT
// cannot be produced without quota tooling on a real block device, so its
// mapping is tested as a unit.
#include <sys/mount.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <string>

#include <triage/testing.hpp>

#include "checks.hpp"
#include "io_errors.hpp"
#include "isolated.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::storage::IoProbeCheck;
using namespace triage::storage::test;
namespace fs = std::filesystem;

namespace {

triage::testing::Result probe(const nlohmann::json& params) {
  return triage::testing::run<IoProbeCheck>(params);
}

bool is_empty(const std::string& dir) {
  return fs::is_empty(dir);
}

std::optional<nlohmann::json> answer(const Isolated& r) {
  if (!r.unavailable.empty()) {
    WARN("isolation unavailable here, test skipped: " << r.unavailable);
    return std::nullopt;
  }
  INFO("child error: " << r.error);
  REQUIRE(r.error.empty());
  REQUIRE(r.value.has_value());
  return r.value;
}

}  // namespace

TEST_CASE("io_probe writes, fsyncs, reads back and deletes its file", "[io_probe]") {
  triage::test::TempDir dir;
  for (const long long size : {1LL, 65536LL + 17, 3LL << 20}) {
    const auto r = probe({{"target", dir.path().string()}, {"size", size}});
    INFO(r.summary << " " << r.error);
    CHECK(r.status() == Status::ok);
    for (const char* m : {"write_ms", "fsync_ms", "read_ms"}) {
      REQUIRE(r.metric(m) != nullptr);
      CHECK(r.metric(m)->value >= 0);
      CHECK(r.metric(m)->unit == "ms");
    }
    CHECK(r.attributes.at("size_bytes") == std::to_string(size));
    CHECK(is_empty(dir.path().string()));
  }
}

TEST_CASE("io_probe: bad params are unknown, a missing folder is critical", "[io_probe]") {
  triage::test::TempDir dir;
  CHECK(probe({{"target", "relative/dir"}}).status() == Status::unknown);
  const auto zero = probe({{"target", dir.path().string()}, {"size", 0}});
  CHECK(zero.status() == Status::unknown);
  CHECK(zero.error.find("size") != std::string::npos);
  CHECK(probe({{"target", dir.path().string()}, {"size", "big"}}).status() == Status::unknown);

  const auto missing = probe({{"target", (dir.path() / "nope").string()}});
  CHECK(missing.status() == Status::critical);
  CHECK(missing.finding(Severity::critical, "Folder not found") != nullptr);
  CHECK(is_empty(dir.path().string()));
}

TEST_CASE("io_probe on a read-only filesystem is critical EROFS", "[io_probe][mount]") {
  triage::test::TempDir dir;
  const std::string ro = (dir.path() / "ro").string();
  fs::create_directories(ro);
  const auto got = answer(in_private_mounts([&] {
    mount_tmpfs(ro, "1m", MS_RDONLY);
    return to_json(probe({{"target", ro}}));
  }));
  if (!got) return;
  const auto r = from_json(*got);
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Read-only filesystem");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("EROFS") != std::string::npos);
  CHECK(f->remediation.find("remount,rw") != std::string::npos);
}

TEST_CASE("io_probe on a full filesystem is critical ENOSPC and leaves nothing",
          "[io_probe][mount]") {
  triage::test::TempDir dir;
  const std::string tiny = (dir.path() / "tiny").string();
  fs::create_directories(tiny);
  const auto got = answer(in_private_mounts([&] {
    mount_tmpfs(tiny, "64k");
    nlohmann::json out;
    out["result"] = to_json(probe({{"target", tiny}, {"size", 1 << 20}}));
    out["left"] = std::distance(fs::directory_iterator(tiny), fs::directory_iterator());
    return out;
  }));
  if (!got) return;
  const auto r = from_json(got->at("result"));
  INFO(r.summary);
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "No space left on device");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("ENOSPC") != std::string::npos);
  CHECK(f->remediation.find("df -h") != std::string::npos);
  CHECK(got->at("left") == 0);
}

TEST_CASE("io_probe in a folder the user may not write is critical EACCES", "[io_probe]") {
  triage::test::TempDir dir;
  const std::string locked = (dir.path() / "locked").string();
  fs::create_directories(locked);
  // nobody may enter the temp folder and list `locked`, but not write in it.
  fs::permissions(dir.path(), fs::perms(0755));
  fs::permissions(locked, fs::perms(0555));
  const auto got = answer(as_nobody([&] { return to_json(probe({{"target", locked}})); }));
  if (!got) return;
  const auto r = from_json(*got);
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Permission denied");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("EACCES") != std::string::npos);
  CHECK(f->remediation.find("ls -ld " + locked) != std::string::npos);
  CHECK(is_empty(locked));
}

TEST_CASE("io_probe maps each errno to its finding", "[io_probe][unit]") {
  using triage::storage::io_error_finding;
  const auto quota = io_error_finding(EDQUOT, "write", "/d/f", "/d");
  CHECK(quota.severity == Severity::critical);
  CHECK(quota.title == "Disk quota exceeded");
  CHECK(quota.detail.find("EDQUOT") != std::string::npos);
  CHECK(quota.remediation.find("quota") != std::string::npos);
  CHECK(io_error_finding(ENOSPC, "fsync", "/d/f", "/d").title == "No space left on device");
  CHECK(io_error_finding(EROFS, "create", "/d/f", "/d").title == "Read-only filesystem");
  CHECK(io_error_finding(EACCES, "create", "/d/f", "/d").title == "Permission denied");
  CHECK(io_error_finding(EIO, "read", "/d/f", "/d").title == "Read-back failed: I/O error");
  const auto other = io_error_finding(EMFILE, "create", "/d/f", "/d");
  CHECK(other.title == "I/O failed");
  CHECK(other.detail.find("EMFILE") != std::string::npos);
}

TEST_CASE("io_probe stops when cancelled and still cleans up", "[io_probe]") {
  triage::test::TempDir dir;
  std::atomic<bool> cancel{true};
  const auto r = triage::testing::run<IoProbeCheck>(
      {{"target", dir.path().string()}, {"size", 4 << 20}}, {std::chrono::seconds(5), &cancel});
  CHECK(r.status() == Status::unknown);
  CHECK(r.error.find("cancelled") != std::string::npos);
  CHECK(is_empty(dir.path().string()));
}

namespace {

// A pid that no process has: a child's, once it is reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

std::string probe_file_name(pid_t pid) {
  return ".triage-io-probe-" + std::to_string(pid) + "-0123456789abcdef";
}

}  // namespace

TEST_CASE("io_probe removes the probe file an earlier, vanished probe left, and says so",
          "[io_probe]") {
  triage::test::TempDir dir;
  const auto d = dir.path();
  const std::string left = probe_file_name(dead_pid());
  make_file((d / left).string(), 3 << 20, 60);
  // Not leftovers: a live process's (pid 1 always exists), a fresh one (its
  // probe may still be writing), a name that is not ours, and a symlink.
  const std::string live = probe_file_name(1);
  make_file((d / live).string(), 10, 60);
  const std::string fresh = probe_file_name(dead_pid());
  make_file((d / fresh).string(), 10, 0);
  const std::string other = ".triage-io-probe-12-notours";
  make_file((d / other).string(), 10, 60);
  const std::string link = probe_file_name(dead_pid());
  make_file((d / "victim").string(), 10, 60);
  fs::create_symlink(d / "victim", d / link);

  const auto r = probe({{"target", d.string()}});
  INFO(r.summary << " " << r.error);
  CHECK(r.status() == Status::warning);
  CHECK(r.attributes.at("leftover_probe_files_removed") == "1");
  const auto* f = r.finding(Severity::warning, "Removed 1 probe file(s)");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find(left) != std::string::npos);
  CHECK(f->detail.find("3.0 MiB") != std::string::npos);
  CHECK(f->remediation.find("dmesg") != std::string::npos);
  CHECK_FALSE(fs::exists(d / left));
  for (const auto& kept : {live, fresh, other, link, std::string("victim")})
    CHECK(fs::exists(fs::symlink_status(d / kept)));
  // The probe's own metrics are there as always.
  CHECK(r.metric("fsync_ms") != nullptr);

  // Once removed, the next probe has nothing to say.
  const auto again = probe({{"target", d.string()}});
  CHECK(again.status() == Status::ok);
  CHECK(again.attributes.at("leftover_probe_files_removed") == "0");
}

TEST_CASE("io_probe never removes another user's file named like a leftover", "[io_probe]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot make a file of another user, test skipped");
    return;
  }
  triage::test::TempDir dir;
  const auto d = dir.path();
  const std::string planted = probe_file_name(dead_pid());
  make_file((d / planted).string(), 10, 60);
  REQUIRE(::chown((d / planted).c_str(), 65534, 65534) == 0);
  const auto r = probe({{"target", d.string()}});
  CHECK(r.status() == Status::ok);
  CHECK(fs::exists(d / planted));
}
