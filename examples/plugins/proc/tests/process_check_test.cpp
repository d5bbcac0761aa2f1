// The process check, run in-process through triage/testing.hpp against real
// processes this test forks and names. Thresholds are the core's job, so the
// tests assert the metrics and their default thresholds, and the findings.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <triage/testing.hpp>

#include "child.hpp"
#include "process_check.hpp"
#include "procfs.hpp"

using proc::ProcessCheck;
using proc::test::Child;
using proc::test::unique_name;
using triage::Severity;
using triage::Status;

TEST_CASE("two running processes are found and counted") {
  const auto name = unique_name("tp-two-");
  const Child a({name});
  const Child b({name});
  const auto r = triage::testing::run<ProcessCheck>({{"target", name}});
  INFO(r.summary << r.error);
  CHECK(r.status() == Status::ok);
  const auto* count = r.metric("process_count");
  REQUIRE(count != nullptr);
  CHECK(count->value == 2);
  CHECK(count->default_critical == "1:");
  CHECK(r.attributes.at("pids") == std::to_string(std::min(a.pid(), b.pid())) + "," +
                                       std::to_string(std::max(a.pid(), b.pid())));
  // Our own children: their descriptors are readable.
  const auto* usage = r.metric("fd_usage_pct");
  REQUIRE(usage != nullptr);
  CHECK(usage->default_warning == "80");
  CHECK(usage->default_critical == "90");
  CHECK(usage->unit == "%");
  CHECK(r.undeclared.empty());  // every metric it emitted is in ProcessCheck::metrics
}

TEST_CASE("a process that is not running is critical with a remediation") {
  const auto name = unique_name("tp-none-");
  const auto r = triage::testing::run<ProcessCheck>({{"target", name}});
  CHECK(r.status() == Status::critical);
  CHECK(r.metric("process_count")->value == 0);
  const auto* f = r.finding(Severity::critical, "is running");
  REQUIRE(f != nullptr);
  CHECK(f->remediation.find("systemctl start " + name) != std::string::npos);
  CHECK(r.metric("fd_usage_pct") == nullptr);
}

TEST_CASE("fewer than min_count or more than max_count is critical") {
  const auto name = unique_name("tp-count-");
  const Child a({name});
  const Child b({name});
  SECTION("min_count 3") {
    const auto r = triage::testing::run<ProcessCheck>({{"target", name}, {"min_count", 3}});
    CHECK(r.status() == Status::critical);
    CHECK(r.metric("process_count")->default_critical == "3:");
    CHECK(r.finding(Severity::critical, "Only 2 of 3") != nullptr);
  }
  SECTION("max_count 1") {
    const auto r = triage::testing::run<ProcessCheck>({{"target", name}, {"max_count", 1}});
    CHECK(r.status() == Status::critical);
    CHECK(r.metric("process_count")->default_critical == "1:1");
    CHECK(r.finding(Severity::critical, "at most 1 expected") != nullptr);
  }
  SECTION("min_count 2, max_count 2") {
    const auto r =
        triage::testing::run<ProcessCheck>({{"target", name}, {"min_count", 2}, {"max_count", 2}});
    CHECK(r.status() == Status::ok);
    CHECK(r.findings.empty());
  }
}

TEST_CASE("open files against RLIMIT_NOFILE, with the worst process named") {
  const auto name = unique_name("tp-fds-");
  // At least 60 descriptors open of a limit of 64: 93 %.
  const Child quiet({name});
  const Child busy({name, 64, 60});
  const auto r = triage::testing::run<ProcessCheck>({{"target", name}});
  INFO(r.summary);
  const auto* usage = r.metric("fd_usage_pct");
  REQUIRE(usage != nullptr);
  CHECK(usage->value >= 90.0);
  CHECK(r.metric("fd_limit")->value == 64);
  CHECK(r.metric("open_fds")->value >= 60);
  CHECK(r.attributes.at("fd_worst_pid") == std::to_string(busy.pid()));
  const auto* f = r.finding(Severity::info, "of its open-file limit");
  REQUIRE(f != nullptr);
  CHECK(f->remediation.find("LimitNOFILE=") != std::string::npos);
  // The check itself says ok; the declared default thresholds (warning 80,
  // critical 90) raise it, as a run would.
  CHECK(r.reported_status == Status::ok);
  CHECK(usage->status == Status::critical);
  CHECK(r.status() == Status::critical);
}

TEST_CASE("procfs reads the limit and descriptors of a real process") {
  const Child c({unique_name("tp-limit-"), 128, 13});
  CHECK(proc::open_file_limit(c.pid()) == 128u);
  std::string why;
  const auto open = proc::open_fds(c.pid(), why);
  REQUIRE(open.has_value());
  CHECK(*open >= 13u);
  CHECK_FALSE(proc::open_fds(0, why).has_value());
  CHECK_FALSE(why.empty());
}

TEST_CASE("a long name matches through argv[0] when comm is cut at 15 bytes") {
  proc::Process p{1, "a-very-long-dae", "a-very-long-daemon-name"};
  CHECK(proc::matches(p, "a-very-long-daemon-name"));
  CHECK(proc::matches(p, "a-very-long-dae"));
  CHECK_FALSE(proc::matches(p, "a-very-long"));
  CHECK_FALSE(proc::matches(p, ""));
}

TEST_CASE("bad params end unknown with a clear message") {
  CHECK(triage::testing::run<ProcessCheck>(nlohmann::json::object()).error ==
        "missing required param 'target'");
  const auto negative = triage::testing::run<ProcessCheck>({{"target", "x"}, {"min_count", -1}});
  CHECK(negative.status() == Status::unknown);
  CHECK(negative.error == "min_count must be 0 or more");
  const auto inverted =
      triage::testing::run<ProcessCheck>({{"target", "x"}, {"min_count", 3}, {"max_count", 2}});
  CHECK(inverted.error.find("max_count must be") == 0);
  CHECK(triage::testing::run<ProcessCheck>({{"target", "x"}, {"min_count", "two"}}).error ==
        "param 'min_count' has the wrong type");
}
