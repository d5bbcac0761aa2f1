// Prometheus and node_exporter on loopback, for the cluster plugin's tests:
// Debian's /usr/bin/prometheus-node-exporter and /usr/bin/prometheus, started
// with posix_spawn (never a shell) on ports from free_port(), with their data
// and logs in a temp dir, and stopped when the fixture is destroyed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "services.hpp"

namespace triage::test {

// Prometheus (scrape and evaluation interval 1 s, only 127.0.0.1) with two jobs:
//   "node"     node_exporter (cpu, meminfo, filesystem and loadavg collectors)
//              on 127.0.0.1:<node_exporter_port()>
//   "stopped"  127.0.0.1:<stopped_port()>, a free port where nothing listens:
//              an exporter that is stopped, so its `up` is 0
// The constructor returns once both listen; the series the tests need
// arrive a scrape or two later: call wait_ready() (or wait_for_series())
// before asserting on data. Include <nlohmann/json.hpp> to use query().
class Prometheus {
 public:
  static constexpr const char* kNodeJob = "node";
  static constexpr const char* kStoppedJob = "stopped";

  Prometheus();
  ~Prometheus();
  Prometheus(const Prometheus&) = delete;
  Prometheus& operator=(const Prometheus&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint16_t node_exporter_port() const { return node_port_; }
  std::uint16_t stopped_port() const { return stopped_port_; }
  // "http://127.0.0.1:<port>", Prometheus' base URL.
  std::string url() const;
  // "127.0.0.1:<node_exporter_port>" and "127.0.0.1:<stopped_port>": the
  // targets' instance labels.
  std::string node_instance() const;
  std::string stopped_instance() const;

  // One instant query (GET /api/v1/query, the fixture's own HTTP client, at
  // most 10 s): Prometheus' answer parsed, e.g. {"status":"success","data":
  // {...}}. Throws std::runtime_error when there is no HTTP answer or it is
  // not JSON.
  nlohmann::json query(const std::string& promql) const;

  // Polls the query (every 100 ms, a readiness wait) until it returns at
  // least min_series series; false when timeout passes first.
  bool wait_for_series(const std::string& promql, std::size_t min_series,
                       std::chrono::milliseconds timeout) const;

  // Waits until the series the tests read exist: `up` of both targets,
  // node_exporter's memory series, and CPU rate() data over `window` (two
  // scrapes within it); not filesystems, which a container may not have (an
  // overlay root gives no node_filesystem_* series). Throws
  // std::runtime_error, with Prometheus' log, when that takes longer than
  // timeout.
  void wait_ready(const std::string& window = "30s",
                  std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

 private:
  TempDir dir_;
  std::uint16_t port_ = 0, node_port_ = 0, stopped_port_ = 0;
  std::unique_ptr<Process> node_exporter_;
  std::unique_ptr<Process> prometheus_;
};

}  // namespace triage::test
