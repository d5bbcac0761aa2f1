// The node check against this machine's /proc, and its readers against
// fixture trees for what this machine cannot produce: it runs a hybrid
// cgroup v1/v2 layout whose v2 tree has no memory controller (no
// memory.current, memory.max or memory.events), has no swap, and no OOM
// kill or CPU throttling happens on purpose in a test.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include <triage/testing.hpp>

#include "checks.hpp"
#include "proc_readers.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using namespace triage::cluster;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

triage::testing::Result node(nlohmann::json params = nlohmann::json::object()) {
  params["target"] = "localhost";
  return triage::testing::run<NodeCheck>(params, {std::chrono::seconds(10)});
}

// A cgroup v2 folder as the kernel lays it out, with the given contents.
fs::path cgroup_tree(const fs::path& dir, const std::string& current, const std::string& max,
                     int oom_kills) {
  write(dir / "cgroup.controllers", "cpu io memory pids\n");
  write(dir / "memory.current", current + "\n");
  write(dir / "memory.max", max + "\n");
  write(dir / "memory.events",
        "low 0\nhigh 0\nmax 4\noom 2\noom_kill " + std::to_string(oom_kills) + "\n");
  write(dir / "cpu.stat",
        "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 50\nnr_throttled 5\n"
        "throttled_usec 2000\n");
  return dir;
}

}  // namespace

TEST_CASE("node: this machine's CPU, load, memory, swap and file handles", "[node]") {
  const auto r = node({{"sample", "200ms"}});
  INFO(r.summary << " | " << r.error);
  REQUIRE(r.error.empty());
  for (const char* m : {"cpu_used_pct", "memory_used_pct", "swap_used_pct", "fd_used_pct"}) {
    INFO(m);
    REQUIRE(r.metric(m) != nullptr);
    CHECK(r.metric(m)->value >= 0);
    CHECK(r.metric(m)->value <= 100);
    CHECK(r.metric(m)->unit == "%");
  }
  CHECK(r.metric("load_per_cpu")->value >= 0);
  CHECK(r.metric("cpu_used_pct")->default_warning == "85");
  CHECK(r.metric("cpu_used_pct")->default_critical == "95");
  CHECK(r.attributes.at("cpus") == std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)));
  CHECK(r.summary.find("CPU ") == 0);
  // PSI where the kernel has it (this one does), each a percentage.
  if (fs::exists("/proc/pressure/io")) {
    REQUIRE(r.metric("io_some_avg10_pct") != nullptr);
    CHECK(r.metric("io_full_avg10_pct")->default_warning == "10");
  }
  REQUIRE(r.metric("oom_kills") != nullptr);
}

TEST_CASE("node: OOM kills are counted since boot, then since the previous check", "[node]") {
  (void)node({{"sample", "100ms"}});
  const auto r = node({{"sample", "100ms"}});
  CHECK(r.attributes.at("oom_kills_since") == "the previous node check");
  // Since the previous check, any kill warns.
  CHECK(r.metric("oom_kills")->default_warning == "0");
}

TEST_CASE("node: a cgroup's memory against its limit, OOM kills and throttling", "[node]") {
  triage::test::TempDir dir;
  const auto limited = cgroup_tree(dir.path() / "kafka.service", "900", "1000", 2);
  const auto r = node({{"sample", "100ms"}, {"cgroup", limited.string()}});
  INFO(r.summary << " | " << r.error);
  REQUIRE(r.error.empty());
  CHECK(r.metric("cgroup_memory_used_pct")->value == Approx(90));
  CHECK(r.metric("cgroup_oom_kills")->value == 2);
  // The fixture's counters do not move in the window: no throttling in it.
  CHECK(r.metric("cgroup_cpu_throttled_pct")->value == 0);
  CHECK(r.status() >= Status::warning);  // 90 % of its limit, and OOM kills
  CHECK(r.attributes.at("cgroup") == limited.string());

  const auto unlimited = cgroup_tree(dir.path() / "free.service", "900", "max", 0);
  const auto u = node({{"sample", "100ms"}, {"cgroup", unlimited.string()}});
  CHECK(u.metric("cgroup_memory_used_pct") == nullptr);
  CHECK(u.attributes.at("cgroup_memory_max") == "max (no limit)");
  CHECK(u.metric("cgroup_oom_kills")->value == 0);

  // This machine's own unified hierarchy has no memory controller: no memory
  // figures, and no error either.
  if (fs::exists("/sys/fs/cgroup/unified/cgroup.controllers")) {
    const auto real = node({{"sample", "100ms"}, {"cgroup", "/sys/fs/cgroup/unified"}});
    CHECK(real.error.empty());
  }
}

TEST_CASE("node: bad params are unknown and say why", "[node]") {
  CHECK(node({{"sample", "5h"}}).status() == Status::unknown);
  CHECK(node({{"sample", 0}}).status() == Status::unknown);
  const auto relative = node({{"cgroup", "system.slice"}});
  CHECK(relative.status() == Status::unknown);
  CHECK(relative.error.find("absolute") != std::string::npos);
  triage::test::TempDir dir;
  const auto plain = node({{"cgroup", dir.path().string()}});
  CHECK(plain.status() == Status::unknown);
  CHECK(plain.error.find("not a cgroup v2 folder") != std::string::npos);
}

TEST_CASE("pressure files: some and full avg10, and a cpu file with no full line", "[node][unit]") {
  triage::test::TempDir dir;
  write(dir.path() / "io",
        "some avg10=1.50 avg60=0.80 avg300=0.20 total=12345\n"
        "full avg10=12.00 avg60=3.00 avg300=1.00 total=999\n");
  write(dir.path() / "cpu", "some avg10=7.25 avg60=1.00 avg300=0.00 total=1\n");
  write(dir.path() / "bad", "nothing here\n");
  const auto io = read_pressure((dir.path() / "io").string());
  REQUIRE(io);
  CHECK(io->some_avg10 == Approx(1.5));
  REQUIRE(io->full_avg10);
  CHECK(*io->full_avg10 == Approx(12.0));
  const auto cpu = read_pressure((dir.path() / "cpu").string());
  REQUIRE(cpu);
  CHECK(cpu->some_avg10 == Approx(7.25));
  CHECK_FALSE(cpu->full_avg10);
  CHECK_FALSE(read_pressure((dir.path() / "bad").string()));
  CHECK_FALSE(read_pressure((dir.path() / "missing").string()));
}

TEST_CASE("meminfo, stat, file-nr and loadavg readers", "[node][unit]") {
  triage::test::TempDir dir;
  write(dir.path() / "meminfo",
        "MemTotal:       1000 kB\nMemFree:         100 kB\n"
        "MemAvailable:    250 kB\nSwapTotal:       400 kB\n"
        "SwapFree:        100 kB\n");
  write(dir.path() / "old-meminfo", "MemTotal:       1000 kB\nMemFree:         100 kB\n");
  const auto m = read_meminfo((dir.path() / "meminfo").string());
  REQUIRE(m);
  CHECK(m->total_kb == 1000);
  CHECK(m->available_kb == 250);
  CHECK(m->swap_total_kb - m->swap_free_kb == 300);
  CHECK_FALSE(read_meminfo((dir.path() / "old-meminfo").string()));  // no MemAvailable

  write(dir.path() / "stat1", "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n");
  write(dir.path() / "stat2", "cpu  200 0 200 800 100 0 0 0 0 0\ncpu0 1 2 3 4\n");
  const auto a = read_cpu_times((dir.path() / "stat1").string());
  const auto b = read_cpu_times((dir.path() / "stat2").string());
  REQUIRE(a);
  REQUIRE(b);
  // 300 jiffies passed, 100 of them idle.
  CHECK(cpu_used_pct(*a, *b) == Approx(100.0 * 200 / 300));
  CHECK(cpu_used_pct(*b, *a) == 0);

  write(dir.path() / "file-nr", "2048\t0\t8192\n");
  const auto f = read_file_nr((dir.path() / "file-nr").string());
  REQUIRE(f);
  CHECK(f->allocated == 2048);
  CHECK(f->max == 8192);
  write(dir.path() / "loadavg", "3.50 2.00 1.00 2/345 6789\n");
  CHECK(read_load1((dir.path() / "loadavg").string()) == Approx(3.5));
  write(dir.path() / "vmstat", "pgfault 10\noom_kill 3\n");
  CHECK(read_keyed_value((dir.path() / "vmstat").string(), "oom_kill") == 3);
  CHECK_FALSE(read_keyed_value((dir.path() / "vmstat").string(), "nope"));
}

TEST_CASE("processes are read with their names, also names with spaces and parentheses",
          "[node][unit]") {
  triage::test::TempDir dir;
  write(dir.path() / "42" / "stat",
        "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 70 30 0 0 20 0 1 0 100 1000 "
        "250 18446744073709551615\n");
  const auto procs = read_processes(dir.path().string(), 10);
  REQUIRE(procs.size() == 1);
  CHECK(procs[0].pid == 42);
  CHECK(procs[0].name == "my (odd) name");
  CHECK(procs[0].cpu_ticks == 100);
  CHECK(procs[0].rss_pages == 250);
  // And this very process is among the real ones.
  bool self = false;
  for (const auto& p : read_processes("/proc", 100000)) self = self || p.pid == ::getpid();
  CHECK(self);
}
