// The topic check: for one topic or all, the partitions without a working
// leader, those whose in-sync replicas fell below the replica count (or below
// min.insync.replicas), and how evenly leadership is spread over the brokers.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "checks.hpp"
#include "kafka.hpp"
#include "probe.hpp"

namespace triage::streaming {

namespace {
const std::string kSchema = schema_with_connection("topic check params", R"json(
    "topic": {
      "type": "string",
      "minLength": 1,
      "maxLength": 249,
      "description": "A topic name, or * for every topic whose name does not start with __ (Kafka's internal topics)."
    },
    "min_insync_replicas": {
      "type": "integer",
      "minimum": 1,
      "maximum": 100,
      "description": "The topic's min.insync.replicas: partitions with fewer in-sync replicas refuse acks=all writes. When absent it is read from the topic's config (DescribeConfigs) where the cluster allows; else under_min_isr_partitions is not reported."
    })json",
                                                   {"topic"});

constexpr MetricDecl kMetrics[] = {
    metric("partitions", "", "Partitions of the selected topic(s)"),
    metric("offline_partitions", "",
           "Partitions without a leader, or whose leader is a broker that does not answer")
        .critical("0")
        .remediation("Offline partitions cannot be read or written (runbook: Data loss / "
                     "Kafka broker failure): bring the leader's broker back, or if it is lost "
                     "elect a new leader from the in-sync replicas "
                     "(kafka-leader-election.sh --election-type PREFERRED)."),
    metric("under_replicated_partitions", "",
           "Partitions whose in-sync replicas are fewer than their replicas")
        .warning("0")
        .remediation("A replica fell behind or its broker is down: check the brokers named in "
                     "the findings (disk, network, GC pauses) and replica fetcher lag; the "
                     "data is at risk until the ISR is full again."),
    metric("under_min_isr_partitions", "",
           "Partitions with fewer in-sync replicas than min.insync.replicas")
        .critical("0")
        .remediation("Producers with acks=all get NOT_ENOUGH_REPLICAS: restore the lost "
                     "replicas' brokers; lowering min.insync.replicas trades durability away."),
    metric("leader_skew_pct", "%",
           "How far the busiest broker's leader count is above an even share: (max - even) / "
           "even x 100, even = ceil(partitions led / brokers listed)")
        .warning("50")
        .remediation("Leadership is concentrated on few brokers (hot brokers): run a preferred "
                     "leader election (kafka-leader-election.sh) or reassign partitions."),
};

// min.insync.replicas of each topic from its config, in one DescribeConfigs
// request; a topic the cluster says nothing of (the request unsupported or
// not allowed) is absent.
std::map<std::string, int> read_min_isr(Context& ctx, Session& s,
                                        const std::vector<std::string>& topics) {
  std::map<std::string, int> out;
  rd_kafka_t* rk = s.client->rk();
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  std::vector<rd_kafka_ConfigResource_t*> res;
  for (const auto& t : topics)
    res.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.c_str()));
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  const int wait = std::min(budget_ms(ctx), 2000);
  char err[256];
  rd_kafka_AdminOptions_set_request_timeout(opts, wait, err, sizeof err);
  rd_kafka_DescribeConfigs(rk, res.data(), res.size(), opts, q);
  if (rd_kafka_event_t* ev = poll_admin(ctx, q, wait + 100)) {
    const auto* result = rd_kafka_event_DescribeConfigs_result(ev);
    if (result != nullptr && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::size_t n = 0;
      const auto** resources = rd_kafka_DescribeConfigs_result_resources(result, &n);
      for (std::size_t i = 0; i < n; ++i) {
        if (rd_kafka_ConfigResource_error(resources[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        std::size_t m = 0;
        const auto** entries = rd_kafka_ConfigResource_configs(resources[i], &m);
        for (std::size_t j = 0; j < m; ++j) {
          const char* value = rd_kafka_ConfigEntry_value(entries[j]);
          if (std::string_view(rd_kafka_ConfigEntry_name(entries[j])) == "min.insync.replicas" &&
              value != nullptr && std::atoi(value) > 0)
            out[rd_kafka_ConfigResource_name(resources[i])] = std::atoi(value);
        }
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_AdminOptions_destroy(opts);
  for (auto* r : res) rd_kafka_ConfigResource_destroy(r);
  rd_kafka_queue_destroy(q);
  return out;
}

// Findings of one kind: the first kMaxFindings each, then one that counts the rest.
constexpr int kMaxFindings = 10;

std::string broker_list(const int32_t* ids, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out;
}

}  // namespace

const char* const TopicCheck::params_schema = kSchema.c_str();
const Metrics TopicCheck::metrics{kMetrics};

void TopicCheck::run(Context& ctx) {
  const std::string topic = ctx.required<std::string>("topic");
  const int min_isr_param = static_cast<int>(ctx.param<std::int64_t>("min_insync_replicas", 0));
  if (ctx.has("min_insync_replicas") && (min_isr_param < 1 || min_isr_param > 100))
    throw ParamError("param 'min_insync_replicas' must be from 1 to 100");
  auto session = open_session(ctx);
  Session& s = *session;
  const Metadata md = read_metadata(ctx, s);
  if (!md) return;
  const auto topics = select_topics(*md, topic);
  if (topics.empty() && topic == "*")
    return ctx.status(Status::ok,
                      s.connection.bootstrap_text + ": no topics (other than internal ones)");
  for (const auto* t : topics)
    if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return report_failure(ctx, s, t->err, "reading topic " + std::string(t->topic));
  if (topics.empty())
    return report_failure(ctx, s, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                          "reading topic " + topic);

  // Which brokers answer: a leader on a broker that does not is no leader.
  std::vector<Broker> brokers;
  std::map<std::int32_t, std::size_t> index;
  for (int i = 0; i < md->broker_cnt; ++i) {
    index[md->brokers[i].id] = brokers.size();
    brokers.push_back({md->brokers[i].host, static_cast<std::uint16_t>(md->brokers[i].port)});
  }
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(budget_ms(ctx) / 2);
  const auto probed = probe_brokers(ctx, s.connection, brokers, until);
  auto answers = [&](std::int32_t id) {
    const auto it = index.find(id);
    return it != index.end() && probed[it->second].up;
  };
  for (std::size_t i = 0; i < brokers.size(); ++i)
    if (!probed[i].up)
      ctx.attribute("broker_down." + std::to_string(md->brokers[i].id), probed[i].error);

  int partitions = 0;
  std::vector<std::string> offline, under_replicated, under_min_isr, min_isr_unknown;
  std::map<std::int32_t, int> leaders;  // per listed broker
  for (const auto& [id, _] : index) leaders[id] = 0;
  std::map<std::string, int> min_isr_of;
  // DescribeConfigs goes to the controller: without one it would only wait.
  const int controller = rd_kafka_controllerid(s.client->rk(), 0);
  if (min_isr_param == 0 && index.count(controller) != 0) {
    std::vector<std::string> names;
    for (const auto* t : topics) names.emplace_back(t->topic);
    min_isr_of = read_min_isr(ctx, s, names);
  }
  for (const auto* t : topics) {
    const std::string name = t->topic;
    const int min_isr = min_isr_param > 0 ? min_isr_param : min_isr_of[name];
    if (min_isr == 0) min_isr_unknown.push_back(name);
    for (int p = 0; p < t->partition_cnt; ++p) {
      const auto& part = t->partitions[p];
      ++partitions;
      const std::string label = name + "/" + std::to_string(part.id);
      if (part.leader < 0 || !answers(part.leader)) {
        offline.push_back(label);
        if (offline.size() <= kMaxFindings)
          ctx.finding(Severity::critical, "Partition " + label + " is offline",
                      part.leader < 0 ? "No leader; replicas on brokers " +
                                            broker_list(part.replicas, part.replica_cnt)
                                      : "Its leader, broker " + std::to_string(part.leader) +
                                            ", does not answer; replicas on brokers " +
                                            broker_list(part.replicas, part.replica_cnt) +
                                            ", in sync: " + broker_list(part.isrs, part.isr_cnt),
                      kMetrics[1].c_decl().remediation);
      } else {
        ++leaders[part.leader];
      }
      if (part.isr_cnt < part.replica_cnt) {
        under_replicated.push_back(label);
        if (under_replicated.size() <= kMaxFindings)
          ctx.finding(Severity::warning, "Partition " + label + " is under-replicated",
                      std::to_string(part.isr_cnt) + " of " + std::to_string(part.replica_cnt) +
                          " replicas in sync: replicas " +
                          broker_list(part.replicas, part.replica_cnt) + ", in sync " +
                          broker_list(part.isrs, part.isr_cnt),
                      kMetrics[2].c_decl().remediation);
      }
      if (min_isr > 0 && part.isr_cnt < min_isr) under_min_isr.push_back(label);
    }
  }
  if (ctx.cancelled() && std::chrono::steady_clock::now() < ctx.deadline())
    return ctx.error("cancelled while reading the topic");

  double skew = 0;
  if (!leaders.empty()) {
    double sum = 0, max = 0;
    for (const auto& [id, n] : leaders) {
      sum += n;
      max = std::max<double>(max, n);
    }
    // The even share a broker can have: ceil(partitions / brokers), so that
    // 1 partition over 3 brokers is no skew.
    const double ideal = std::ceil(sum / static_cast<double>(leaders.size()));
    skew = ideal > 0 ? (max - ideal) / ideal * 100.0 : 0;
  }
  for (const auto* kind : {&offline, &under_replicated})
    if (kind->size() > kMaxFindings)
      ctx.finding(kind == &offline ? Severity::critical : Severity::warning,
                  std::to_string(kind->size() - kMaxFindings) + " more partition(s) " +
                      (kind == &offline ? "offline" : "under-replicated"),
                  list_some(*kind, 50), kMetrics[kind == &offline ? 1 : 2].c_decl().remediation);
  ctx.metric(kMetrics[0], partitions);
  ctx.metric(kMetrics[1], static_cast<double>(offline.size()));
  ctx.metric(kMetrics[2], static_cast<double>(under_replicated.size()));
  if (min_isr_unknown.empty()) {
    ctx.metric(kMetrics[3], static_cast<double>(under_min_isr.size()));
    if (!under_min_isr.empty())
      ctx.finding(Severity::critical,
                  std::to_string(under_min_isr.size()) + " partition(s) below min.insync.replicas",
                  list_some(under_min_isr), kMetrics[3].c_decl().remediation);
  } else {
    ctx.attribute("min_insync_replicas", "unknown for " + list_some(min_isr_unknown) +
                                             " (give min_insync_replicas to check it)");
  }
  ctx.metric(kMetrics[4], skew);
  ctx.attribute("topics", std::to_string(topics.size()));

  std::string summary = (topic == "*" ? std::to_string(topics.size()) + " topic(s)" : topic) +
                        ": " + std::to_string(partitions) + " partition(s)";
  if (!offline.empty())
    summary += ", " + std::to_string(offline.size()) + " offline (" + list_some(offline, 4) + ")";
  if (!under_replicated.empty())
    summary += ", " + std::to_string(under_replicated.size()) + " under-replicated";
  if (!under_min_isr.empty())
    summary += ", " + std::to_string(under_min_isr.size()) + " below min ISR";
  if (offline.empty() && under_replicated.empty() && under_min_isr.empty())
    summary += ", all led and in sync";
  summary += "; leader skew " + one_decimal(skew) + " %";
  ctx.status(!offline.empty() || !under_min_isr.empty() ? Status::critical
             : !under_replicated.empty()                ? Status::warning
                                                        : Status::ok,
             summary);
}

}  // namespace triage::streaming
