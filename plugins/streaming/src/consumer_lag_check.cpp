// The consumer_lag check: for each consumer group, per partition, the high
// watermark less the committed offset, and how old the oldest message the
// group has not consumed is (read at the committed offset, never committing).
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>

#include "checks.hpp"
#include "kafka.hpp"

namespace triage::streaming {

namespace {
const std::string kSchema = schema_with_connection("consumer_lag check params", R"json(
    "group": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "description": "The consumer group (its group.id). Groups are named, never listed: give group or groups."
    },
    "groups": {
      "type": "array",
      "minItems": 1,
      "maxItems": 50,
      "items": {"type": "string", "minLength": 1, "maxLength": 255},
      "description": "Several consumer groups, checked alike; metrics are their totals (lag_seconds: the worst), per-group figures are group_lag_messages[GROUP]."
    },
    "topic": {
      "type": "string",
      "minLength": 1,
      "maxLength": 249,
      "description": "Only this topic's partitions (then a partition the group never committed counts in partitions_without_commit). Default: every topic the group has committed offsets for."
    },
    "max_time_lag_partitions": {
      "type": "integer",
      "minimum": 0,
      "maximum": 1000,
      "default": 20,
      "description": "How many of the most-lagging partitions are read to measure lag_seconds (one message each). 0 skips the time lag."
    })json");

constexpr const char* kLagging =
    "The consumers fall behind (runbook: High latency > 10 s, Kafka RPO 5 min): check that the "
    "group's consumers run and are not restarting (kafka-consumer-groups.sh --describe --group "
    "G: members and their partitions), their processing time and errors; if they are healthy "
    "and still behind, the cluster or the consumers are undersized: scale up (more consumer "
    "instances, up to one per partition, or more partitions).";

constexpr MetricDecl kMetrics[] = {
    metric("lag_messages", "",
           "Messages produced but not yet committed by the group(s), summed over partitions")
        .remediation(kLagging),
    metric("max_partition_lag", "", "The largest lag of one partition").remediation(kLagging),
    metric("lag_seconds", "s",
           "Age of the oldest message the group has not consumed: now less the timestamp of "
           "the message at the committed offset (the worst partition)")
        .warning("60")
        .critical("300")
        .remediation(kLagging),
    metric("partitions_without_commit", "",
           "Partitions of the topic the group has never committed an offset for")
        .remediation("The group never consumed these partitions: a consumer is missing, or "
                     "the partitions were added after it started (check auto.offset.reset and "
                     "the group's assignment)."),
    metric("group_lag_messages[*]", "", "lag_messages of one group (with `groups`)")
        .remediation(kLagging),
};

struct PartitionLag {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t committed = -1;  // -1: no commit
  std::int64_t high = -1;
  std::int64_t lag = 0;
};

struct GroupOffsets {
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::vector<PartitionLag> partitions;
};

// The group's committed offsets (of `only` when given, else every partition
// it committed), through the admin API's OffsetFetch.
GroupOffsets committed_offsets(Context& ctx, Session& s, const std::string& group,
                               const std::vector<std::pair<std::string, std::int32_t>>& only) {
  GroupOffsets out;
  rd_kafka_t* rk = s.client->rk();
  rd_kafka_topic_partition_list_t* list = nullptr;
  if (!only.empty()) {
    list = rd_kafka_topic_partition_list_new(static_cast<int>(only.size()));
    for (const auto& [t, p] : only) rd_kafka_topic_partition_list_add(list, t.c_str(), p);
  }
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), list);
  rd_kafka_AdminOptions_t* opts =
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
  const int wait = budget_ms(ctx);
  char err[256];
  rd_kafka_AdminOptions_set_request_timeout(opts, wait, err, sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_ListConsumerGroupOffsets(rk, &request, 1, opts, q);
  out.err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  if (rd_kafka_event_t* ev = poll_admin(ctx, q, wait + 100)) {
    out.err = rd_kafka_event_error(ev);
    const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(ev);
    if (out.err == RD_KAFKA_RESP_ERR_NO_ERROR && result != nullptr) {
      std::size_t n = 0;
      const auto** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(result, &n);
      for (std::size_t i = 0; i < n; ++i) {
        if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[i])) {
          out.err = rd_kafka_error_code(e);
          continue;
        }
        const auto* parts = rd_kafka_group_result_partitions(groups[i]);
        for (int j = 0; parts != nullptr && j < parts->cnt; ++j) {
          const auto& tp = parts->elems[j];
          if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR && out.err == RD_KAFKA_RESP_ERR_NO_ERROR)
            out.err = tp.err;
          PartitionLag pl;
          pl.topic = tp.topic;
          pl.partition = tp.partition;
          pl.committed = tp.offset >= 0 ? tp.offset : -1;
          out.partitions.push_back(pl);
        }
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  if (list != nullptr) rd_kafka_topic_partition_list_destroy(list);
  return out;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* const ConsumerLagCheck::params_schema = kSchema.c_str();
const Metrics ConsumerLagCheck::metrics{kMetrics};

void ConsumerLagCheck::run(Context& ctx) {
  std::vector<std::string> groups;
  if (ctx.has("group")) groups.push_back(ctx.required<std::string>("group"));
  if (ctx.has("groups"))
    for (const auto& g : ctx.required<std::vector<std::string>>("groups")) groups.push_back(g);
  if (groups.empty()) throw ParamError("missing required param 'group' (or 'groups')");
  for (const auto& g : groups)
    if (g.empty()) throw ParamError("param 'groups' has an empty group name");
  const std::string topic = ctx.param<std::string>("topic", "");
  const auto max_read = ctx.param<std::int64_t>("max_time_lag_partitions", 20);
  if (max_read < 0 || max_read > 1000)
    throw ParamError("param 'max_time_lag_partitions' must be from 0 to 1000");

  auto session = open_session(ctx);
  Session& s = *session;
  // With a topic: its partitions, so that those never committed show.
  std::vector<std::pair<std::string, std::int32_t>> only;
  if (!topic.empty()) {
    const Metadata md = read_metadata(ctx, s);
    if (!md) return;
    const auto* t = require_topic(ctx, s, *md, topic, "topic");
    if (t == nullptr) return;
    for (int p = 0; p < t->partition_cnt; ++p) only.emplace_back(topic, t->partitions[p].id);
  }

  std::int64_t total_lag = 0, max_lag = 0;
  int without_commit = 0;
  double worst_age_s = 0;
  bool age_known = false;
  std::vector<std::string> summary_parts;
  std::vector<std::pair<std::string, std::int32_t>> all_partitions;  // read once, if needed
  for (const auto& group : groups) {
    GroupOffsets offsets = committed_offsets(ctx, s, group, only);
    if (offsets.err == RD_KAFKA_RESP_ERR_NO_ERROR && offsets.partitions.empty() && only.empty()) {
      // "Every partition it committed" is a null topic list in OffsetFetch,
      // which some brokers (before v2; librdkafka's mock cluster) answer with
      // nothing: ask again naming every topic's partitions, keep the committed.
      if (all_partitions.empty()) {
        const Metadata md = read_metadata(ctx, s);
        if (!md) return;
        for (const auto* t : select_topics(*md, "*"))
          for (int p = 0; p < t->partition_cnt; ++p)
            all_partitions.emplace_back(t->topic, t->partitions[p].id);
      }
      if (!all_partitions.empty()) {
        offsets = committed_offsets(ctx, s, group, all_partitions);
        std::erase_if(offsets.partitions, [](const PartitionLag& pl) { return pl.committed < 0; });
      }
    }
    if (offsets.err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return report_failure(ctx, s, offsets.err, "reading the committed offsets of group " + group);
    if (offsets.partitions.empty()) {
      ctx.finding(Severity::critical, "Group " + group + " has no committed offsets",
                  "The cluster knows no committed offset of group " + group +
                      ": the name is wrong, the group never committed, or its offsets expired "
                      "(offsets.retention.minutes) after its consumers stopped",
                  "Check the group name (kafka-consumer-groups.sh --list) and that its consumers "
                  "run and commit; name a topic to see its partitions.");
      summary_parts.push_back(group + ": no committed offsets");
      continue;
    }
    // Watermarks per topic, batched by topic.
    std::map<std::string, std::vector<std::size_t>> by_topic;
    for (std::size_t i = 0; i < offsets.partitions.size(); ++i)
      by_topic[offsets.partitions[i].topic].push_back(i);
    for (const auto& [t, idx] : by_topic) {
      std::vector<std::int32_t> parts;
      for (auto i : idx) parts.push_back(offsets.partitions[i].partition);
      const auto marks = read_watermarks(ctx, s, t, parts);
      for (std::size_t k = 0; k < idx.size(); ++k) {
        if (marks[k].err != RD_KAFKA_RESP_ERR_NO_ERROR)
          return report_failure(ctx, s, marks[k].err,
                                "reading the watermarks of " + t + "/" + std::to_string(parts[k]));
        offsets.partitions[idx[k]].high = marks[k].high;
      }
    }
    std::int64_t group_lag = 0;
    std::vector<std::string> uncommitted;
    std::vector<PartitionLag*> lagging;
    for (auto& pl : offsets.partitions) {
      const std::string label = pl.topic + "/" + std::to_string(pl.partition);
      if (pl.committed < 0) {
        uncommitted.push_back(label);
        continue;
      }
      pl.lag = std::max<std::int64_t>(0, pl.high - pl.committed);
      group_lag += pl.lag;
      max_lag = std::max(max_lag, pl.lag);
      if (pl.lag > 0) lagging.push_back(&pl);
    }
    without_commit += static_cast<int>(uncommitted.size());
    total_lag += group_lag;
    if (groups.size() > 1) ctx.metric(kMetrics[4], group, static_cast<double>(group_lag));
    if (!uncommitted.empty())
      ctx.finding(Severity::warning,
                  "Group " + group + " never committed " + std::to_string(uncommitted.size()) +
                      " partition(s)",
                  list_some(uncommitted) + ": no committed offset (not the same as lag 0)",
                  kMetrics[3].c_decl().remediation);
    // Time lag: the oldest unconsumed message of the most-lagging partitions.
    std::sort(lagging.begin(), lagging.end(), [](auto* a, auto* b) { return a->lag > b->lag; });
    if (lagging.size() > static_cast<std::size_t>(max_read))
      lagging.resize(static_cast<std::size_t>(max_read));
    std::vector<std::string> lag_lines;
    for (auto* pl : lagging) {
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(std::min(budget_ms(ctx), 3000));
      const Message m = read_at(ctx, s, pl->topic, pl->partition, pl->committed, until);
      std::string line =
          pl->topic + "/" + std::to_string(pl->partition) + " lag " + std::to_string(pl->lag);
      if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR && m.timestamp_ms > 0) {
        const double age =
            std::max<double>(0, static_cast<double>(now_ms() - m.timestamp_ms) / 1000.0);
        worst_age_s = std::max(worst_age_s, age);
        age_known = true;
        line += " (oldest unread " + one_decimal(age) + " s old)";
      }
      lag_lines.push_back(line);
      if (ctx.cancelled()) break;
    }
    if (!lag_lines.empty())
      ctx.finding(Severity::info,
                  "Group " + group + " lags on " + std::to_string(lagging.size()) + " partition(s)",
                  list_some(lag_lines, 10), kLagging);
    summary_parts.push_back(group + ": lag " + std::to_string(group_lag) +
                            (uncommitted.empty()
                                 ? ""
                                 : ", " + std::to_string(uncommitted.size()) + " never committed"));
  }
  if (ctx.cancelled() && std::chrono::steady_clock::now() < ctx.deadline())
    return ctx.error("cancelled while reading the group's offsets");
  ctx.metric(kMetrics[0], static_cast<double>(total_lag));
  ctx.metric(kMetrics[1], static_cast<double>(max_lag));
  if (age_known || total_lag == 0)
    ctx.metric(kMetrics[2], age_known ? worst_age_s : 0.0);
  else if (max_read > 0)
    // Lagging, but no message could be read at a committed offset (deleted
    // by retention, or not read in time): say so rather than stay silent.
    ctx.finding(Severity::warning, "Time lag unknown",
                "No message at the committed offsets of the lagging partitions could be read, so "
                "lag_seconds (the RPO measure) is not reported",
                "Check that the committed offsets are still within the topics' retention "
                "(kafka-consumer-groups.sh --describe: a committed offset below the log start "
                "means data was lost to retention) and give the check more time.");
  ctx.metric(kMetrics[3], without_commit);
  std::string summary;
  for (const auto& p : summary_parts) summary += (summary.empty() ? "" : "; ") + p;
  if (age_known) summary += "; oldest unread message " + one_decimal(worst_age_s) + " s old";
  ctx.status(Status::ok, summary);
}

}  // namespace triage::streaming
