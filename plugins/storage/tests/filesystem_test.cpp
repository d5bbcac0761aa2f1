// The filesystem check against real filesystems: the machine's own root, and
// tmpfs mounts of a known size plus a FUSE mount whose daemon never answers,
// made in a private mount namespace of a forked child (isolated.hpp) so no
// other process sees them.
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include <triage/testing.hpp>

#include "bounded_statvfs.hpp"
#include "checks.hpp"
#include "isolated.hpp"
#include "mounts.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::storage::FilesystemCheck;
using namespace triage::storage::test;
namespace fs = std::filesystem;

namespace {

triage::testing::Result check(const nlohmann::json& params, int timeout_ms = 5000) {
  return triage::testing::run<FilesystemCheck>(params,
                                               {std::chrono::milliseconds(timeout_ms), nullptr});
}

// The child's answer, or a test failure that says why there is none. Machines
// that refuse namespaces/mounts skip with a warning; this one and CI must not.
std::optional<nlohmann::json> answer(const Isolated& r) {
  if (!r.unavailable.empty()) {
    WARN("private mounts unavailable here, real-mount test skipped: " << r.unavailable);
    return std::nullopt;
  }
  INFO("child error: " << r.error);
  REQUIRE(r.error.empty());
  REQUIRE(r.value.has_value());
  return r.value;
}

void make_dir(const fs::path& p) {
  fs::create_directories(p);
}

}  // namespace

TEST_CASE("filesystem reports the usage of the root filesystem like statvfs", "[filesystem]") {
  const auto r = check({{"target", "/"}});
  INFO(r.summary << " " << r.error);
  REQUIRE(r.error.empty());
  REQUIRE(r.metric("used_pct") != nullptr);
  REQUIRE(r.metric("free_bytes") != nullptr);
  CHECK(r.metric("used_pct")->default_warning == "80");
  CHECK(r.metric("used_pct")->default_critical == "90");
  CHECK(r.attributes.at("mount_point") == "/");
  CHECK_FALSE(r.attributes.at("fs_type").empty());
  CHECK_FALSE(r.attributes.at("device").empty());

  struct statvfs st {};
  REQUIRE(::statvfs("/", &st) == 0);
  const double used = static_cast<double>(st.f_blocks - st.f_bfree);
  const double expected = 100.0 * used / (used + static_cast<double>(st.f_bavail));
  // Other processes write to the disk meanwhile: allow a small drift.
  CHECK(r.metric("used_pct")->value == Approx(expected).margin(1.0));
  CHECK(r.metric("free_bytes")->value > 0);
}

TEST_CASE("filesystem maps a path to its mount without touching it", "[filesystem]") {
  triage::test::TempDir dir;
  const auto r = check({{"target", (dir.path() / "sub" / ".." / ".").string()}});
  REQUIRE(r.error.empty());
  const auto mounts = triage::storage::read_mounts();
  const auto* m =
      triage::storage::mount_of(mounts, triage::storage::lexical_normal(dir.path().string()));
  REQUIRE(m != nullptr);
  CHECK(r.attributes.at("mount_point") == m->mount_point);
}

TEST_CASE("filesystem: a missing path is critical, bad params are unknown", "[filesystem]") {
  const auto missing = check({{"target", "/no/such/triage/path"}});
  CHECK(missing.status() == Status::critical);
  CHECK(missing.finding(Severity::critical, "Path not found") != nullptr);

  const auto relative = check({{"target", "var/lib"}});
  CHECK(relative.status() == Status::unknown);
  CHECK(relative.error.find("absolute") != std::string::npos);

  const auto misplaced = check({{"target", "/"}, {"include_tmpfs", true}});
  CHECK(misplaced.status() == Status::unknown);
  CHECK(misplaced.error.find("include_tmpfs") != std::string::npos);

  const auto wrong_type = check({{"target", "all"}, {"exclude_types", "nfs"}});
  CHECK(wrong_type.status() == Status::unknown);
  CHECK(wrong_type.error.find("exclude_types") != std::string::npos);
}

TEST_CASE("filesystem all reports every real mount, / included", "[filesystem]") {
  const auto r = check({{"target", "all"}});
  INFO(r.summary << " " << r.error);
  REQUIRE(r.error.empty());
  REQUIRE(r.metric("used_pct[/]") != nullptr);
  CHECK(r.metric("used_pct[/]")->default_warning.empty());
  // The aggregate carries the thresholds, so config thresholds on used_pct apply.
  REQUIRE(r.metric("used_pct") != nullptr);
  CHECK(r.metric("used_pct")->default_warning == "80");
  CHECK(r.metric("used_pct")->value >= r.metric("used_pct[/]")->value);
  CHECK(r.attributes.count("fs_type[/]") == 1);
  for (const auto& m : r.metrics) {
    CHECK(m.name.find("[/proc") == std::string::npos);
    CHECK(m.name.find("[/sys") == std::string::npos);
  }
}

TEST_CASE("filesystem measures a tmpfs of known size and fill", "[filesystem][mount]") {
  triage::test::TempDir dir;
  const std::string small = (dir.path() / "small").string();
  const std::string other = (dir.path() / "other").string();
  make_dir(small);
  make_dir(other);
  const auto got = answer(in_private_mounts([&] {
    mount_tmpfs(small, "1m");
    mount_tmpfs(other, "2m");
    // Real data, not a sparse file: tmpfs counts the pages written.
    {
      const std::string data(600 * 1024, 'x');
      FILE* f = std::fopen((small + "/fill").c_str(), "w");
      if (f == nullptr) throw std::runtime_error("cannot write fill file");
      std::fwrite(data.data(), 1, data.size(), f);
      std::fclose(f);
    }
    return nlohmann::json{{"one", to_json(check({{"target", small + "/fill"}}))},
                          {"all", to_json(check({{"target", "all"}, {"include_tmpfs", true}}))},
                          {"no_tmpfs", to_json(check({{"target", "all"}}))}};
  }));
  if (!got) return;
  const auto one = from_json(got->at("one"));
  INFO(one.summary << " " << one.error);
  REQUIRE(one.metric("used_pct") != nullptr);
  CHECK(one.metric("used_pct")->value == Approx(600.0 / 1024 * 100).margin(4));
  CHECK(one.metric("free_bytes")->value == Approx(424.0 * 1024).margin(40 * 1024));
  CHECK(one.attributes.at("mount_point") == small);
  CHECK(one.attributes.at("fs_type") == "tmpfs");
  CHECK(one.attributes.at("read_only") == "false");
  CHECK(one.status() == Status::ok);

  const auto all = from_json(got->at("all"));
  REQUIRE(all.metric("used_pct[" + small + "]") != nullptr);
  CHECK(all.metric("used_pct[" + small + "]")->value == Approx(one.metric("used_pct")->value));
  REQUIRE(all.metric("used_pct[" + other + "]") != nullptr);
  CHECK(all.metric("used_pct[" + other + "]")->value < 5);
  CHECK(all.metric("used_pct")->value >= one.metric("used_pct")->value);

  const auto no_tmpfs = from_json(got->at("no_tmpfs"));
  CHECK(no_tmpfs.metric("used_pct[" + small + "]") == nullptr);
  CHECK(no_tmpfs.metric("used_pct[/]") != nullptr);
}

TEST_CASE("filesystem: a read-only mount expected writable is critical", "[filesystem][mount]") {
  triage::test::TempDir dir;
  const std::string ro = (dir.path() / "ro").string();
  make_dir(ro);
  const auto got = answer(in_private_mounts([&] {
    mount_tmpfs(ro, "1m");
    if (::mount(nullptr, ro.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0)
      throw std::runtime_error("unavailable: remount read-only refused");
    return nlohmann::json{{"expect", to_json(check({{"target", ro}, {"expect_writable", true}}))},
                          {"plain", to_json(check({{"target", ro}}))}};
  }));
  if (!got) return;
  const auto expect = from_json(got->at("expect"));
  CHECK(expect.status() == Status::critical);
  const auto* f = expect.finding(Severity::critical, "Read-only filesystem");
  REQUIRE(f != nullptr);
  CHECK(f->remediation.find("remount,rw") != std::string::npos);
  CHECK(expect.attributes.at("read_only") == "true");

  const auto plain = from_json(got->at("plain"));
  CHECK(plain.status() == Status::ok);
  CHECK(plain.attributes.at("read_only") == "true");
}

TEST_CASE("filesystem never waits for a mount that does not answer", "[filesystem][mount][hang]") {
  triage::test::TempDir dir;
  const std::string hung = (dir.path() / "hung").string();
  const std::string fine = (dir.path() / "fine").string();
  make_dir(hung);
  make_dir(fine);
  const auto got = answer(in_private_mounts([&] {
    mount_tmpfs(fine, "1m");
    const int fuse_fd = mount_hung_fuse(hung);
    nlohmann::json out;
    out["one"] = to_json(check({{"target", hung}}, 800));
    out["in_flight_after_one"] = triage::storage::statvfs_in_flight();
    // Again: the stuck call is joined, no second thread piles up on it.
    out["again"] = to_json(check({{"target", hung}}, 300));
    out["in_flight_after_again"] = triage::storage::statvfs_in_flight();
    out["all"] = to_json(check({{"target", "all"}, {"include_tmpfs", true}}, 800));
    ::close(fuse_fd);
    return out;
  }));
  if (!got) return;
  for (const char* key : {"one", "again"}) {
    const auto r = from_json(got->at(key));
    INFO(key << ": " << r.summary << " " << r.error);
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Mount not responding");
    REQUIRE(f != nullptr);
    CHECK(f->title.find(hung) != std::string::npos);
    CHECK(f->remediation.find("umount -l " + hung) != std::string::npos);
    CHECK(r.attributes.at("fs_type") == "fuse.triagetest");
    CHECK(r.summary.find("not responding") != std::string::npos);
  }
  CHECK(got->at("in_flight_after_one") == 1);
  CHECK(got->at("in_flight_after_again") == 1);

  // In `all`, the hung mount is reported and every other mount still is.
  const auto all = from_json(got->at("all"));
  INFO(all.summary);
  CHECK(all.status() == Status::critical);
  REQUIRE(all.finding(Severity::critical, "Mount not responding: " + hung) != nullptr);
  CHECK(all.metric("used_pct[" + fine + "]") != nullptr);
  CHECK(all.metric("used_pct[/]") != nullptr);
  CHECK(all.metric("used_pct[" + hung + "]") == nullptr);
  CHECK(all.summary.find("not responding: " + hung) != std::string::npos);
}

TEST_CASE("mountinfo parsing: escapes, read-only, longest prefix", "[filesystem][unit]") {
  using namespace triage::storage;
  const auto mounts = parse_mountinfo(
      "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
      "40 27 0:50 / /mnt/my\\040disk ro,nosuid shared:5 - ext4 /dev/sdb1 rw\n"
      "41 27 0:51 / /mnt rw - nfs4 server:/export rw,vers=4.2\n"
      "42 27 0:52 /sub /data rw - xfs /dev/sdc ro\n"
      "garbage line\n"
      "43 27 0:53 / /proc rw - proc proc rw\n");
  REQUIRE(mounts.size() == 5);
  CHECK(mounts[1].mount_point == "/mnt/my disk");
  CHECK(mounts[1].read_only);
  CHECK(mounts[2].device == "server:/export");
  CHECK_FALSE(mounts[2].read_only);
  CHECK(mounts[3].read_only);  // from the superblock options
  CHECK(mounts[3].root == "/sub");

  CHECK(mount_of(mounts, "/mnt/my disk/x")->fs_type == "ext4");
  CHECK(mount_of(mounts, "/mnt/other")->fs_type == "nfs4");
  CHECK(mount_of(mounts, "/mnt")->fs_type == "nfs4");
  CHECK(mount_of(mounts, "/mntx")->mount_point == "/");
  CHECK(mount_of(mounts, "/")->mount_point == "/");

  CHECK(lexical_normal("/a//b/./c/../d/") == "/a/b/d");
  CHECK(lexical_normal("/../..") == "/");
  CHECK(unescape_mount_path("a\\011b\\134c") == "a\tb\\c");

  CHECK(is_pseudo(mounts[4], true));
  CHECK_FALSE(is_pseudo(mounts[2], false));
  const Mount tmp{"/run", "tmpfs", "tmpfs", "0:9", "/", false};
  CHECK(is_pseudo(tmp, false));
  CHECK_FALSE(is_pseudo(tmp, true));
  const Mount layer{"/var/lib/docker/overlay2/x/merged", "overlay", "overlay", "0:9", "/", false};
  CHECK(is_pseudo(layer, false));
  const Mount root_overlay{"/", "overlay", "overlay", "0:9", "/", false};
  CHECK_FALSE(is_pseudo(root_overlay, false));
}

namespace {

// A stand-in for statvfs at the syscall boundary that blocks until released,
// like a call on a stale NFS mount. Test-only static state: a plain function
// pointer cannot capture.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  int calls = 0;
};
Gate& gate() {
  static Gate g;
  return g;
}
int blocking_statvfs(const char*, struct statvfs* st) {
  std::unique_lock lock(gate().mutex);
  ++gate().calls;
  gate().cv.notify_all();
  gate().cv.wait(lock, [] { return gate().open; });
  *st = {};
  st->f_blocks = 100;
  return 0;
}

}  // namespace

// Runs everywhere (no mounts needed): the same bounded path with a call that
// blocks at the syscall boundary. Where private mounts are refused, this is
// what still covers the hang handling.
TEST_CASE("a stuck statvfs is waited for only until the deadline, and joined",
          "[filesystem][hang][unit]") {
  using triage::storage::PendingStatvfs;
  using State = triage::storage::StatvfsOutcome::State;
  const std::string path = "/triage-test/stand-in";
  const auto before = triage::storage::statvfs_in_flight();
  const PendingStatvfs first(path, &blocking_statvfs);
  const auto soon = [] { return std::chrono::steady_clock::now() + std::chrono::milliseconds(50); };
  CHECK(first.wait_until(soon()).state == State::not_responding);
  CHECK(triage::storage::statvfs_in_flight() == before + 1);

  // A second caller on the same path joins the stuck call.
  const PendingStatvfs second(path, &blocking_statvfs);
  CHECK(second.wait_until(soon()).state == State::not_responding);
  CHECK(triage::storage::statvfs_in_flight() == before + 1);
  {
    std::unique_lock lock(gate().mutex);
    CHECK(gate().calls == 1);
    gate().open = true;
    gate().cv.notify_all();
  }
  const auto far = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const auto answered = second.wait_until(far);
  CHECK(answered.state == State::answered);
  CHECK(answered.st.f_blocks == 100);
  CHECK(first.wait_until(far).state == State::answered);
  // Once answered, the path is free again: a new call starts a new thread.
  const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (triage::storage::statvfs_in_flight() != before &&
         std::chrono::steady_clock::now() < settle)
    std::this_thread::yield();
  CHECK(triage::storage::statvfs_in_flight() == before);
}

// What the non-hanging statvfs costs: run by hand with
//   build/h1/bin/triage_storage_tests "[.bench]" -s
TEST_CASE("bench: statvfs direct vs on a helper thread", "[.bench]") {
  constexpr int kCalls = 10'000;
  struct statvfs st {};
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) REQUIRE(::statvfs("/", &st) == 0);
  const auto t1 = std::chrono::steady_clock::now();
  const auto far = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; i < kCalls; ++i)
    REQUIRE(triage::storage::PendingStatvfs("/").wait_until(far).state ==
            triage::storage::StatvfsOutcome::State::answered);
  const auto t2 = std::chrono::steady_clock::now();
  const auto us = [](auto d) {
    return std::chrono::duration<double, std::micro>(d).count() / kCalls;
  };
  WARN("statvfs direct: " << us(t1 - t0) << " us/call; on a helper thread: " << us(t2 - t1)
                          << " us/call (" << kCalls << " calls each)");
}
