// The loopback check on this machine's real loopback interface.
#include <atomic>
#include <catch2/catch.hpp>
#include <string>

#include <triage/testing.hpp>

#include "checks.hpp"

using triage::Severity;
using triage::Status;
using triage::network::LoopbackCheck;

namespace {

std::string dump(const triage::testing::Result& r) {
  std::string out = "summary: " + r.summary + "\nerror: " + r.error + "\n";
  for (const auto& f : r.findings) out += "finding: " + f.title + " | " + f.detail + "\n";
  return out;
}

}  // namespace

TEST_CASE("loopback: 127.0.0.1 round trip", "[loopback]") {
  const auto r = triage::testing::run<LoopbackCheck>({{"target", "127.0.0.1"}});
  INFO(dump(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.findings.empty());
  const auto* latency = r.metric("latency_ms");
  REQUIRE(latency != nullptr);
  CHECK(latency->unit == "ms");
  CHECK(latency->value >= 0);
  CHECK(r.attributes.at("address").rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("loopback: another 127.0.0.0/8 address", "[loopback]") {
  const auto r = triage::testing::run<LoopbackCheck>({{"target", "127.0.0.2"}});
  INFO(dump(r));
  // lo carries the whole 127.0.0.0/8 on Linux.
  CHECK(r.status() == Status::ok);
}

TEST_CASE("loopback: ::1 round trip, or a clear finding without it", "[loopback]") {
  for (const std::string target : {"::1", "[::1]"}) {
    const auto r = triage::testing::run<LoopbackCheck>({{"target", target}});
    INFO(target << " -> " << dump(r));
    CHECK(r.error.empty());
    if (r.status() == Status::ok) {
      CHECK(r.metric("latency_ms") != nullptr);
      CHECK(r.attributes.at("address").rfind("[::1]:", 0) == 0);
    } else {
      WARN("no usable ::1 here: " << r.summary);
      CHECK(r.status() == Status::critical);
      const auto* f = r.finding(Severity::critical, "Loopback address missing");
      REQUIRE(f != nullptr);
      CHECK(f->remediation.find("lo") != std::string::npos);
    }
  }
}

TEST_CASE("loopback: targets that are not loopback addresses", "[loopback]") {
  for (const std::string target : {"10.0.0.1", "localhost", "::2", "127.0.0.1:80", ""}) {
    const auto r = triage::testing::run<LoopbackCheck>({{"target", target}});
    INFO(target << " -> " << dump(r));
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("'" + target + "'") != std::string::npos);
  }
}

TEST_CASE("loopback: cancelled before it starts", "[loopback][cancel]") {
  std::atomic<bool> cancel{true};
  const auto r = triage::testing::run<LoopbackCheck>({{"target", "127.0.0.1"}},
                                                     {std::chrono::seconds(30), &cancel});
  INFO(dump(r));
  CHECK((r.status() == Status::unknown || r.status() == Status::critical));
}
