// The canary check (opt-in: it writes): one timestamped message to each
// partition of a dedicated canary topic, read back by partition and offset,
// timing the whole trip. Never creates topics, never touches a consumer
// group's offsets (no group at all: reads are by partition and offset).
#include <algorithm>
#include <chrono>
#include <random>
#include <string>

#include "checks.hpp"
#include "kafka.hpp"

namespace triage::streaming {

namespace {
using Clock = std::chrono::steady_clock;

const std::string kSchema = schema_with_connection("canary check params", R"json(
    "topic": {
      "type": "string",
      "minLength": 1,
      "maxLength": 249,
      "description": "A dedicated canary topic that must already exist (it is never created). Each run adds one small message per partition: give it a short retention (retention.ms)."
    },
    "partitions": {
      "type": "array",
      "minItems": 1,
      "maxItems": 1000,
      "items": {"type": "integer", "minimum": 0},
      "description": "The partitions to write to and read back (default: all of the topic's)."
    })json",
                                                   {"topic"});

constexpr const char* kSlowPipeline =
    "End-to-end latency above the runbook's < 5 s (High latency > 10 s: cluster undersized → "
    "scale up): check broker load and request queue times, replication (acks=all waits for "
    "the in-sync replicas: see the topic check), and the network path to the brokers.";

constexpr MetricDecl kMetrics[] = {
    metric("e2e_latency_ms", "ms",
           "From producing a canary message to reading it back, the slowest partition")
        .warning("5000")
        .remediation(kSlowPipeline),
    metric("produce_ms", "ms",
           "From producing to the broker's acknowledgement, the slowest partition")
        .remediation(kSlowPipeline),
    metric("partitions_checked", "", "Partitions written to and read back"),
};

struct Sent {
  std::int32_t partition = 0;
  std::string payload;
  Clock::time_point at;
  std::shared_ptr<Delivery> delivery;
  bool queued = false;
};

}  // namespace

const char* const CanaryCheck::params_schema = kSchema.c_str();
const Metrics CanaryCheck::metrics{kMetrics};

void CanaryCheck::run(Context& ctx) {
  const std::string topic = ctx.required<std::string>("topic");
  std::vector<std::int32_t> wanted;
  if (ctx.has("partitions"))
    for (const auto p : ctx.required<std::vector<std::int64_t>>("partitions")) {
      if (p < 0 || p > INT32_MAX)
        throw ParamError("param 'partitions' holds an invalid partition " + std::to_string(p));
      wanted.push_back(static_cast<std::int32_t>(p));
    }
  auto session = open_session(ctx);
  Session& s = *session;
  // The topic must exist: checked on the consumer handle, which never asks
  // the cluster to create it.
  const Metadata md = read_metadata(ctx, s);
  if (!md) return;
  const auto* t = require_topic(ctx, s, *md, topic, "canary topic");
  if (t == nullptr) return;
  std::vector<std::int32_t> all;
  for (int p = 0; p < t->partition_cnt; ++p) all.push_back(t->partitions[p].id);
  std::sort(all.begin(), all.end());
  if (wanted.empty()) wanted = all;
  for (const auto p : wanted)
    if (!std::binary_search(all.begin(), all.end(), p))
      throw ParamError("param 'partitions': topic " + topic + " has no partition " +
                       std::to_string(p) + " (it has " + std::to_string(all.size()) + ")");

  std::string why;
  rd_kafka_t* producer = s.client->producer(why);
  if (producer == nullptr) return ctx.error(why);

  std::random_device rd;
  const std::string run_id = std::to_string(rd()) + std::to_string(rd());
  std::vector<Sent> sent(wanted.size());
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    Sent& m = sent[i];
    m.partition = wanted[i];
    m.delivery = std::make_shared<Delivery>();
    m.at = Clock::now();
    m.payload = "triage-canary " + run_id + " partition " + std::to_string(m.partition) + " sent " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
    auto* holder = new std::shared_ptr<Delivery>(m.delivery);
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(m.partition),
        RD_KAFKA_V_VALUE(m.payload.data(), m.payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(holder), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      delete holder;
      std::lock_guard lock(m.delivery->mutex);
      m.delivery->done = true;
      m.delivery->err = err;
    }
  }
  // Deliveries: half the time left at most, the other half for reading back.
  const auto produce_until = Clock::now() + std::chrono::milliseconds(budget_ms(ctx) / 2);
  auto all_done = [&] {
    for (auto& m : sent) {
      std::lock_guard lock(m.delivery->mutex);
      if (!m.delivery->done) return false;
    }
    return true;
  };
  while (!all_done() && Clock::now() < produce_until && !ctx.cancelled())
    rd_kafka_poll(producer, 50);

  double produce_ms = 0, e2e_ms = 0;
  int checked = 0;
  std::vector<std::string> failed;
  for (auto& m : sent) {
    const std::string label = topic + "/" + std::to_string(m.partition);
    bool done = false;
    rd_kafka_resp_err_t err;
    std::int64_t offset = -1;
    Clock::time_point acked;
    {
      std::lock_guard lock(m.delivery->mutex);
      done = m.delivery->done;
      err = m.delivery->err;
      offset = m.delivery->offset;
      acked = m.delivery->at;
    }
    if (!done || err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failed.push_back(label);
      const auto d =
          diagnose(done ? err : RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, s.client->lines_since(s.log_mark),
                   s.connection, "producing to " + label);
      ctx.finding(
          Severity::critical, "Canary not written to " + label + ": " + d.title,
          done ? d.detail : "no acknowledgement from the partition's leader in time; " + d.detail,
          d.remediation);
      continue;
    }
    produce_ms =
        std::max(produce_ms, std::chrono::duration<double, std::milli>(acked - m.at).count());
    const Message back = read_at(ctx, s, topic, m.partition, offset,
                                 Clock::now() + std::chrono::milliseconds(budget_ms(ctx)));
    if (back.err != RD_KAFKA_RESP_ERR_NO_ERROR || back.offset != offset ||
        back.payload != m.payload) {
      failed.push_back(label);
      ctx.finding(Severity::critical, "Canary not read back from " + label,
                  back.err != RD_KAFKA_RESP_ERR_NO_ERROR
                      ? "written at offset " + std::to_string(offset) +
                            ", not read back: " + rd_kafka_err2str(back.err)
                      : "offset " + std::to_string(offset) + " holds another message",
                  "The partition accepted the write but it cannot be read: check the partition's "
                  "leader and replicas (topic check) and the brokers' logs.");
      continue;
    }
    e2e_ms =
        std::max(e2e_ms, std::chrono::duration<double, std::milli>(Clock::now() - m.at).count());
    ++checked;
  }
  if (ctx.cancelled() && Clock::now() < ctx.deadline())
    return ctx.error("cancelled during the canary round trip");
  ctx.metric(kMetrics[2], checked);
  if (checked > 0) {
    ctx.metric(kMetrics[0], e2e_ms);
    ctx.metric(kMetrics[1], produce_ms);
  }
  std::string summary = topic + ": " + std::to_string(checked) + " of " +
                        std::to_string(sent.size()) + " partition(s) round-tripped";
  if (checked > 0)
    summary +=
        ", end to end " + one_decimal(e2e_ms) + " ms (produce " + one_decimal(produce_ms) + " ms)";
  if (!failed.empty()) summary += "; failed: " + list_some(failed, 4);
  ctx.status(failed.empty() ? Status::ok : Status::critical, summary);
}

}  // namespace triage::streaming
