// Probes brokers one by one, each on its own connection: TCP (and TLS for
// ssl/sasl_ssl), then a Kafka ApiVersions request that the broker itself
// must answer. All brokers are probed at once, within one time budget, so a
// black-holed broker costs the budget once, not once per broker.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <triage/plugin.hpp>

#include "connection.hpp"

namespace triage::streaming {

struct ProbeResult {
  bool up = false;
  double rtt_ms = 0;  // connect to the ApiVersions answer
  std::string error;  // why it is down: "connection refused", "no answer within 2.0 s", ...
};

// One result per broker, in order. Waits at most until `until` (and never
// past the check's deadline); asks ctx.cancelled() between slices.
std::vector<ProbeResult> probe_brokers(Context& ctx, const Connection& connection,
                                       const std::vector<Broker>& brokers,
                                       std::chrono::steady_clock::time_point until);

// The Kafka ApiVersions v0 request with this correlation id and client id
// (exposed for tests).
std::string api_versions_request(std::int32_t correlation_id, std::string_view client_id);

}  // namespace triage::streaming
