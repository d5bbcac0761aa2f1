// The consumer_lag check against librdkafka's mock cluster: a group with
// known committed offsets and message timestamps, a partition it never
// committed, a group that committed nothing, several groups.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "checks.hpp"
#include "cluster.hpp"

using triage::Severity;
using triage::Status;
using namespace triage::streaming;
using namespace triage::streaming::test;

namespace {
std::int64_t ms_ago(int seconds) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() -
         seconds * 1000LL;
}
}  // namespace

TEST_CASE("consumer_lag: messages behind, time behind, partitions never committed",
          "[streaming][consumer_lag]") {
  Cluster c;
  c.topic("events", 3);
  // 10 messages per partition, written two minutes ago.
  for (int p = 0; p < 3; ++p) c.mock.produce("events", p, 10, ms_ago(120));
  c.mock.commit("billing", "events", 0, 10);  // caught up
  c.mock.commit("billing", "events", 1, 4);   // 6 behind; oldest unread is 2 minutes old
  // partition 2: never committed

  const auto r = run<ConsumerLagCheck>(c.params({{"group", "billing"}, {"topic", "events"}}));
  INFO(r.summary << " | " << r.error);
  REQUIRE(r.error.empty());
  CHECK(r.metric("lag_messages")->value == 6);
  CHECK(r.metric("max_partition_lag")->value == 6);
  CHECK(r.metric("partitions_without_commit")->value == 1);
  const auto* age = r.metric("lag_seconds");
  REQUIRE(age != nullptr);
  CHECK(age->value >= 119);
  CHECK(age->value < 600);
  // 120 s: above the warning (60), under the critical (300, the Kafka RPO).
  CHECK(r.status() == Status::warning);
  const auto* never = r.finding(Severity::warning, "Group billing never committed 1 partition(s)");
  REQUIRE(never != nullptr);
  CHECK(never->detail.find("events/2") != std::string::npos);
  const auto* lags = r.finding(Severity::info, "Group billing lags on 1 partition(s)");
  REQUIRE(lags != nullptr);
  CHECK(lags->detail.find("events/1 lag 6") != std::string::npos);
  CHECK(lags->remediation.find("scale up") != std::string::npos);

  // Without a topic: only the partitions the group committed.
  const auto committed = run<ConsumerLagCheck>(c.params({{"group", "billing"}}));
  CHECK(committed.metric("lag_messages")->value == 6);
  CHECK(committed.metric("partitions_without_commit")->value == 0);
}

TEST_CASE("consumer_lag: past the Kafka RPO is critical; caught up is ok with lag 0",
          "[streaming][consumer_lag]") {
  Cluster c;
  c.topic("events", 2);
  c.mock.produce("events", 0, 5, ms_ago(600));
  c.mock.produce("events", 1, 5, ms_ago(600));
  c.mock.commit("late", "events", 0, 0);
  c.mock.commit("late", "events", 1, 5);
  c.mock.commit("done", "events", 0, 5);
  c.mock.commit("done", "events", 1, 5);
  const auto late = run<ConsumerLagCheck>(c.params({{"group", "late"}, {"topic", "events"}}));
  INFO(late.summary << " | " << late.error);
  CHECK(late.metric("lag_seconds")->value >= 599);
  CHECK(late.status() == Status::critical);

  const auto done = run<ConsumerLagCheck>(c.params({{"group", "done"}, {"topic", "events"}}));
  INFO(done.summary << " | " << done.error);
  CHECK(done.status() == Status::ok);
  CHECK(done.metric("lag_messages")->value == 0);
  CHECK(done.metric("lag_seconds")->value == 0);

  // Two groups: totals, the worst time lag, and one figure per group.
  const auto both =
      run<ConsumerLagCheck>(c.params({{"groups", {"late", "done"}}, {"topic", "events"}}));
  CHECK(both.metric("lag_messages")->value == 5);
  CHECK(both.metric("group_lag_messages[late]")->value == 5);
  CHECK(both.metric("group_lag_messages[done]")->value == 0);
  CHECK(both.status() == Status::critical);
}

TEST_CASE("consumer_lag: a group that committed nothing is critical, not lag 0",
          "[streaming][consumer_lag]") {
  Cluster c;
  c.topic("events", 2);
  c.mock.produce("events", 0, 3);
  const auto r = run<ConsumerLagCheck>(c.params({{"group", "nobody-home"}}));
  INFO(r.summary << " | " << r.error);
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "Group nobody-home has no committed offsets") != nullptr);
  // Named with its topic, each partition shows as never committed.
  const auto t = run<ConsumerLagCheck>(c.params({{"group", "nobody-home"}, {"topic", "events"}}));
  CHECK(t.metric("partitions_without_commit")->value == 2);
  CHECK(t.metric("lag_messages")->value == 0);
  // Params: a group is required.
  const auto none = run<ConsumerLagCheck>(c.params());
  CHECK(none.status() == Status::unknown);
  CHECK(none.error.find("group") != std::string::npos);
}
