// The skew check: how unevenly a topic's messages land on its partitions
// over a sample window (runbook: data skew > 20 % → poor partition key).
#include <algorithm>
#include <numeric>
#include <string>

#include "checks.hpp"
#include "sampling.hpp"

namespace triage::streaming {

namespace {
const std::string kSchema = schema_with_connection(
    "skew check params",
    sampled_topic_properties(
        "0 uses the partitions' current sizes (high - low watermark) instead."),
    {"topic"});

constexpr const char* kSkewed =
    "Data skew (runbook: > 20 %, poor partition key → repartition): a few keys carry most "
    "messages, so one partition (and its consumer) does most of the work. Choose a key with "
    "more distinct, evenly used values (or add a salt to hot keys), then repartition.";

constexpr MetricDecl kMetrics[] = {
    metric("skew_pct", "%",
           "(max - mean) / mean x 100 of the messages per partition over the window")
        .warning("20")
        .critical("50")
        .remediation(kSkewed),
    metric("messages_per_s", "msg/s", "Messages written to the topic per second over the window"),
    metric("partition_messages[*]", "", "Messages written to one partition over the window"),
};
}  // namespace

const char* const SkewCheck::params_schema = kSchema.c_str();
const Metrics SkewCheck::metrics{kMetrics};

void SkewCheck::run(Context& ctx) {
  const std::string topic = ctx.required<std::string>("topic");
  const auto window = read_sample(ctx, std::chrono::seconds(10));
  auto session = open_session(ctx);
  const auto sample = sample_topic(ctx, *session, topic, window);
  if (!sample) return;
  const auto& m = sample->messages;
  const double total = static_cast<double>(std::accumulate(m.begin(), m.end(), std::int64_t{0}));
  const double mean = m.empty() ? 0 : total / static_cast<double>(m.size());
  const double max = m.empty() ? 0 : static_cast<double>(*std::max_element(m.begin(), m.end()));
  const double skew = mean > 0 ? (max - mean) / mean * 100.0 : 0;
  ctx.metric(kMetrics[0], skew);
  if (sample->seconds > 0) ctx.metric(kMetrics[1], total / sample->seconds);
  // Per partition only for topics small enough to read.
  if (m.size() <= 64)
    for (std::size_t i = 0; i < m.size(); ++i)
      ctx.metric(kMetrics[2], std::to_string(sample->partitions[i]), static_cast<double>(m[i]));

  // The hottest partitions: the ones above the mean, busiest first.
  std::vector<std::size_t> order(m.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return m[a] > m[b]; });
  std::vector<std::string> hot;
  for (auto i : order)
    if (static_cast<double>(m[i]) > mean && mean > 0)
      hot.push_back(topic + "/" + std::to_string(sample->partitions[i]) + ": " +
                    std::to_string(m[i]) + " (" +
                    one_decimal(static_cast<double>(m[i]) / mean * 100.0) + " % of the mean)");
  const std::string what =
      sample->seconds > 0 ? "over " + one_decimal(sample->seconds) + " s" : "in total";
  if (skew > 20 && !hot.empty())
    ctx.finding(Severity::info, "Hottest partitions of " + topic,
                list_some(hot, 5) + ", mean " + one_decimal(mean) + " " + what, kSkewed);
  if (total == 0)
    return ctx.status(Status::ok, topic + ": no messages " + what + ", skew not measurable (0 %)");
  ctx.status(Status::ok, topic + ": skew " + one_decimal(skew) + " % " + what + " (" +
                             std::to_string(static_cast<long long>(total)) + " messages on " +
                             std::to_string(m.size()) + " partitions, busiest " +
                             std::to_string(static_cast<long long>(max)) + ")");
}

}  // namespace triage::streaming
