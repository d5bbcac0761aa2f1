// The built-in config: what `triage run` diagnoses with no --config, i.e. the
// machine it runs on. It grows as plugins land; docs/config.md shows it.
#include <unistd.h>

#include <array>

#include "triage/core/config.hpp"

namespace triage::core {

namespace {

constexpr const char* kDefault = R"(version: 1
defaults: { timeout: 5s, retries: 0, jobs: 16 }
checks:
  - id: loopback
    plugin: network
    type: loopback
    tags: [network, local]
    params: { target: "127.0.0.1" }
  - id: hostname
    plugin: network
    type: dns
    tags: [network, dns, local]
    params: { target: "@HOSTNAME@", via: system }
  - id: default-route
    plugin: network
    type: route
    tags: [network, local]
    params: { target: default }
  - id: resolver
    plugin: network
    type: dns
    tags: [network, dns]
    params: { target: "localhost", accept_rcodes: [NOERROR, NXDOMAIN] }
    thresholds:
      latency_ms: { warning: "100", critical: "1000" }
  - id: filesystems
    plugin: storage
    type: filesystem
    tags: [storage, local]
    params: { target: all }
  - id: node
    plugin: cluster
    type: node
    tags: [cluster, local]
    params: { target: localhost }
)";

}  // namespace

Config default_config() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0')
    host = {'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
  std::string text = kDefault;
  text.replace(text.find("@HOSTNAME@"), 10, host.data());
  Config config = parse_config(text, "(built-in default)");
  config.path.clear();
  return config;
}

}  // namespace triage::core
