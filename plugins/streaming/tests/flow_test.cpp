// The skew, throughput and canary checks against librdkafka's mock cluster:
// partitions filled unevenly on purpose, a topic nobody writes to and one a
// producer keeps writing to, and a canary round trip with a broker's
// responses delayed past the runbook's 5 s.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "checks.hpp"
#include "cluster.hpp"

using triage::Severity;
using triage::Status;
using namespace triage::streaming;
using namespace triage::streaming::test;

TEST_CASE("skew: even partitions are fine, one hot partition crosses 20 % and 50 %",
          "[streaming][skew]") {
  Cluster c;
  c.topic("even", 4);
  c.topic("mild", 4);
  c.topic("hot", 4);
  for (int p = 0; p < 4; ++p) {
    c.mock.produce("even", p, 10);
    c.mock.produce("mild", p, p == 0 ? 12 : 10);  // mean 10.5, max 12: 14.3 %
    c.mock.produce("hot", p, p == 2 ? 40 : 10);   // mean 17.5, max 40: 128.6 %
  }
  const auto even = run<SkewCheck>(c.params({{"topic", "even"}, {"sample", 0}}));
  INFO(even.summary << " | " << even.error);
  CHECK(even.metric("skew_pct")->value == Approx(0));
  CHECK(even.status() == Status::ok);

  const auto mild = run<SkewCheck>(c.params({{"topic", "mild"}, {"sample", "0"}}));
  CHECK(mild.metric("skew_pct")->value == Approx(100.0 * 1.5 / 10.5));
  CHECK(mild.status() == Status::ok);

  const auto hot = run<SkewCheck>(c.params({{"topic", "hot"}, {"sample", 0}}));
  INFO(hot.summary);
  CHECK(hot.metric("skew_pct")->value == Approx(100.0 * 22.5 / 17.5));
  CHECK(hot.status() == Status::critical);
  CHECK(hot.metric("partition_messages[2]")->value == 40);
  const auto* f = hot.finding(Severity::info, "Hottest partitions of hot");
  REQUIRE(f != nullptr);
  CHECK(f->detail.rfind("hot/2: 40", 0) == 0);
  CHECK(f->remediation.find("poor partition key") != std::string::npos);
  CHECK(f->remediation.find("repartition") != std::string::npos);

  // 25 %: above the warning, under the critical.
  c.topic("warm", 4);
  for (int p = 0; p < 4; ++p) c.mock.produce("warm", p, p == 1 ? 16 : 12);  // mean 13, max 16
  const auto warm = run<SkewCheck>(c.params({{"topic", "warm"}, {"sample", 0}}));
  CHECK(warm.metric("skew_pct")->value == Approx(100.0 * 3 / 13));
  CHECK(warm.status() == Status::warning);
}

TEST_CASE("throughput: a silent topic is critical below min_rate; a written one is not",
          "[streaming][throughput]") {
  Cluster c;
  c.topic("quiet", 2);
  c.topic("busy", 2);
  const auto quiet =
      run<ThroughputCheck>(c.params({{"topic", "quiet"}, {"sample", "500ms"}, {"min_rate", 1}}));
  INFO(quiet.summary << " | " << quiet.error);
  CHECK(quiet.metric("messages_per_s")->value == 0);
  CHECK(quiet.status() == Status::critical);
  CHECK(quiet.finding(Severity::critical, "No messages written to quiet") != nullptr);

  // A producer writes to busy for as long as the check samples it.
  std::atomic<bool> done{false};
  std::thread producer([&] {
    while (!done.load()) c.mock.produce("busy", 0, 20);
  });
  const auto busy =
      run<ThroughputCheck>(c.params({{"topic", "busy"}, {"sample", "1s"}, {"min_rate", 1}}));
  done = true;
  producer.join();
  INFO(busy.summary << " | " << busy.error);
  CHECK(busy.metric("messages")->value > 0);
  CHECK(busy.metric("messages_per_s")->value > 1);
  CHECK(busy.status() == Status::ok);
  CHECK(std::stod(busy.attributes.at("sample_s")) > 0);

  // No min_rate: the rate is reported only.
  const auto plain = run<ThroughputCheck>(c.params({{"topic", "quiet"}, {"sample", "200ms"}}));
  CHECK(plain.status() == Status::ok);
  // A window longer than the check's time is shortened to fit, and says so.
  const auto cut = run<ThroughputCheck>(c.params({{"topic", "quiet"}, {"sample", "30s"}}),
                                        std::chrono::seconds(2));
  INFO(cut.summary << " | " << cut.error);
  CHECK(cut.error.empty());
  CHECK(std::stod(cut.attributes.at("sample_s")) < 2);
}

TEST_CASE("canary: every partition round-trips; a slow broker crosses 5 s", "[streaming][canary]") {
  Cluster c;
  c.topic("canary", 3);
  const auto r = run<CanaryCheck>(c.params({{"topic", "canary"}}));
  INFO(r.summary << " | " << r.error);
  REQUIRE(r.error.empty());
  CHECK(r.status() == Status::ok);
  CHECK(r.metric("partitions_checked")->value == 3);
  CHECK(r.metric("e2e_latency_ms")->value >= r.metric("produce_ms")->value);
  CHECK(r.metric("e2e_latency_ms")->value < 5000);
  // It wrote one message per partition and committed nothing anywhere.
  for (int p = 0; p < 3; ++p)
    CHECK(
        c.mock.command({{"cmd", "watermarks"}, {"topic", "canary"}, {"partition", p}}).at("high") ==
        1);

  // Partition 0's leader answers every request 5.5 s late.
  c.mock.set_rtt(c.leaders["canary"][0], 5500);
  const auto slow = run<CanaryCheck>(c.params({{"topic", "canary"}, {"partitions", {0}}}),
                                     std::chrono::seconds(30));
  INFO(slow.summary << " | " << slow.error);
  CHECK(slow.metric("partitions_checked")->value == 1);
  CHECK(slow.metric("e2e_latency_ms")->value > 5000);
  CHECK(slow.status() == Status::warning);
}

TEST_CASE("canary: a topic that does not exist is never created", "[streaming][canary]") {
  Cluster c;
  c.topic("orders", 1);
  const auto r = run<CanaryCheck>(c.params({{"topic", "canary-missing"}}));
  INFO(r.summary << " | " << r.error);
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "Unknown topic") != nullptr);
  const auto all = run<TopicCheck>(c.params({{"topic", "*"}}));
  CHECK(all.attributes.at("topics") == "1");
  // A partition the topic does not have is a param error.
  const auto bad = run<CanaryCheck>(c.params({{"topic", "orders"}, {"partitions", {5}}}));
  CHECK(bad.status() == Status::unknown);
  CHECK(bad.error.find("no partition 5") != std::string::npos);
}
