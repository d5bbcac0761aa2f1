// The throughput check: messages per second written to a topic over a sample
// window, against a minimum. A producer that went silent is the failure it
// catches (runbook: "Data loss: missing data in pipeline", critical).
#include <cstdio>
#include <numeric>
#include <string>

#include "checks.hpp"
#include "sampling.hpp"

namespace triage::streaming {

namespace {
const std::string kSchema = schema_with_connection(
    "throughput check params", sampled_topic_properties("At least 100ms.") + R"json(,
    "min_rate": {
      "type": "number",
      "minimum": 0,
      "description": "Messages per second the topic must at least receive: below it messages_per_s is critical (its default critical range becomes min_rate:). Without it the rate is reported only."
    })json",
    {"topic"});

constexpr const char* kSilent =
    "Data loss: missing data in pipeline (runbook, critical): the producers stopped or slowed "
    "down. Check the producing services and their logs (errors, retries, buffer full), their "
    "credentials, and upstream sources; compare with the consumer_lag check.";

constexpr MetricDecl kMetrics[] = {
    metric("messages_per_s", "msg/s", "Messages written to the topic per second over the window")
        .remediation(kSilent),
    metric("messages", "", "Messages written to the topic over the window"),
};
}  // namespace

const char* const ThroughputCheck::params_schema = kSchema.c_str();
const Metrics ThroughputCheck::metrics{kMetrics};

void ThroughputCheck::run(Context& ctx) {
  const std::string topic = ctx.required<std::string>("topic");
  const auto window = read_sample(ctx, std::chrono::seconds(10));
  if (window < std::chrono::milliseconds(100))
    throw ParamError("param 'sample' must be at least 100ms for a rate");
  const bool has_min = ctx.has("min_rate");
  const double min_rate = ctx.param<double>("min_rate", 0);
  if (min_rate < 0) throw ParamError("param 'min_rate' must not be negative");
  auto session = open_session(ctx);
  const auto sample = sample_topic(ctx, *session, topic, window);
  if (!sample) return;
  const auto total =
      std::accumulate(sample->messages.begin(), sample->messages.end(), std::int64_t{0});
  const double rate = sample->seconds > 0 ? static_cast<double>(total) / sample->seconds : 0;
  // min_rate as the default critical range: a config's thresholds still win.
  // Full precision: a min_rate of 0.04 must not become the range "0:".
  char range[64];
  std::snprintf(range, sizeof range, "%.17g:", min_rate);
  const std::string critical = has_min ? range : "";
  ctx.metric("messages_per_s", rate, "msg/s", {"", critical});
  ctx.metric(kMetrics[1], static_cast<double>(total));
  std::string summary =
      topic + ": " + one_decimal(rate) + " messages/s over " + one_decimal(sample->seconds) + " s";
  if (has_min)
    summary += (rate < min_rate ? ", below min_rate " : ", min_rate ") + one_decimal(min_rate);
  if (has_min && rate < min_rate)
    ctx.finding(
        Severity::critical,
        total == 0 ? "No messages written to " + topic : "Too few messages written to " + topic,
        std::to_string(total) + " message(s) in " + one_decimal(sample->seconds) +
            " s, expected at least " + one_decimal(min_rate) + "/s",
        kSilent);
  ctx.status(Status::ok, summary);
}

}  // namespace triage::streaming
