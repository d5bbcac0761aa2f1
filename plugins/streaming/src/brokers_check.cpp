// The brokers check: metadata from the cluster, then every broker it lists
// probed on a connection of its own (ApiVersions), since a broker that
// metadata still lists may not answer.
#include <algorithm>
#include <chrono>
#include <string>

#include "checks.hpp"
#include "kafka.hpp"
#include "probe.hpp"

namespace triage::streaming {

namespace {
const std::string kSchema = schema_with_connection("brokers check params", "");

constexpr const char* kBrokerDown =
    "A broker is down (runbook: Kafka broker failure): check its process and logs on its host "
    "(systemctl status kafka; journalctl -u kafka --since -10m), disk space and memory there; "
    "until it is back its partitions are offline or under-replicated (see the topic check). "
    "For Event Hubs, check the namespace's health in the Azure portal.";

constexpr MetricDecl kMetrics[] = {
    metric("brokers_total", "", "Brokers the cluster's metadata lists"),
    metric("brokers_up", "",
           "Listed brokers that answered a Kafka request on their own connection"),
    metric("brokers_down", "", "Listed brokers that did not answer")
        .critical("0")
        .remediation(kBrokerDown),
    metric("metadata_ms", "ms", "Round trip of the metadata request through the bootstrap list")
        .remediation("Slow metadata means slow or overloaded brokers, or a long network path: "
                     "check broker load (request queue time) and the path (mtr HOST)."),
    metric("controller_present", "", "1 when the cluster names an active controller, else 0")
        .critical("1:")
        .remediation("No active controller: partition leadership cannot change; check the "
                     "controller quorum (KRaft controllers or ZooKeeper) and broker logs."),
};
}  // namespace

const char* const BrokersCheck::params_schema = kSchema.c_str();
const Metrics BrokersCheck::metrics{kMetrics};

void BrokersCheck::run(Context& ctx) {
  auto session = open_session(ctx);
  Session& s = *session;
  double metadata_ms = 0;
  const Metadata md = read_metadata(ctx, s, &metadata_ms);
  if (!md) return;
  std::vector<Broker> brokers;
  std::vector<std::int32_t> ids;
  for (int i = 0; i < md->broker_cnt; ++i) {
    brokers.push_back({md->brokers[i].host, static_cast<std::uint16_t>(md->brokers[i].port)});
    ids.push_back(md->brokers[i].id);
  }
  auto controller_id = std::make_shared<int>(-1);
  if (!run_cancellable(ctx,
                       [controller_id, client = s.client, wait = std::min(budget_ms(ctx), 1000)] {
                         *controller_id = rd_kafka_controllerid(client->rk(), wait);
                       }))
    return ctx.error("cancelled while asking for the controller");
  // A controller id that is no listed broker is none (librdkafka's mock
  // cluster names 0).
  const int controller =
      std::find(ids.begin(), ids.end(), *controller_id) != ids.end() ? *controller_id : -1;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(budget_ms(ctx));
  const auto probed = probe_brokers(ctx, s.connection, brokers, until);

  int up = 0;
  std::vector<std::string> down;
  for (std::size_t i = 0; i < brokers.size(); ++i) {
    const std::string name = std::to_string(ids[i]) + " (" + brokers[i].to_string() + ")";
    ctx.attribute("broker." + std::to_string(ids[i]), brokers[i].to_string());
    if (probed[i].up) {
      ++up;
      continue;
    }
    down.push_back(name);
    ctx.finding(Severity::critical, "Broker " + name + " is down",
                "The cluster's metadata lists broker " + name + " but it " + probed[i].error +
                    (ids[i] == controller ? " (it is the controller)" : ""),
                kBrokerDown);
  }
  if (ctx.cancelled() && std::chrono::steady_clock::now() < ctx.deadline())
    return ctx.error("cancelled while probing the brokers");
  const int total = static_cast<int>(brokers.size());
  ctx.metric(kMetrics[0], total);
  ctx.metric(kMetrics[1], up);
  ctx.metric(kMetrics[2], total - up);
  ctx.metric(kMetrics[3], metadata_ms);
  ctx.metric(kMetrics[4], controller >= 0 ? 1 : 0);
  if (controller >= 0) ctx.attribute("controller_id", std::to_string(controller));
  std::string summary = std::to_string(total) + " broker(s), ";
  summary += down.empty() ? "all up" : std::to_string(down.size()) + " down: " + list_some(down);
  summary += "; metadata " + one_decimal(metadata_ms) + " ms";
  if (controller < 0) summary += "; no active controller";
  ctx.status(down.empty() ? Status::ok : Status::critical, summary);
}

}  // namespace triage::streaming
