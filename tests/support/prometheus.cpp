#include "prometheus.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "internal.hpp"

namespace triage::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kPrometheusBin = "/usr/bin/prometheus";
constexpr const char* kNodeExporterBin = "/usr/bin/prometheus-node-exporter";

// Between two readiness queries.
constexpr std::chrono::milliseconds kPollInterval{100};
// One request of the fixture's client.
constexpr std::chrono::milliseconds kRequestTimeout{10'000};

std::string prometheus_config(std::uint16_t node_port, std::uint16_t stopped_port) {
  std::ostringstream out;
  // scrape_timeout may not exceed the interval.
  out << "global:\n"
      << "  scrape_interval: 1s\n"
      << "  scrape_timeout: 1s\n"
      << "  evaluation_interval: 1s\n"
      << "scrape_configs:\n"
      << "  - job_name: " << Prometheus::kNodeJob << "\n"
      << "    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << node_port << "']\n"
      << "  - job_name: " << Prometheus::kStoppedJob << "\n"
      << "    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << stopped_port << "']\n";
  return out.str();
}

std::string url_encode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

std::chrono::milliseconds left(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

// GET path from 127.0.0.1:port: the status and the body.
std::pair<int, std::string> http_get(std::uint16_t port, const std::string& path) {
  auto answer = detail::loopback_http_get(port, path, kRequestTimeout);
  if (!answer)
    throw std::runtime_error("no HTTP answer from 127.0.0.1:" + std::to_string(port) + path);
  return {answer->status, std::move(answer->body)};
}

std::size_t series_count(const nlohmann::json& answer) {
  if (!answer.is_object() || answer.value("status", "") != "success") return 0;
  const auto& data = answer["data"];
  if (!data.is_object() || !data.contains("result") || !data["result"].is_array()) return 0;
  return data["result"].size();
}

}  // namespace

Prometheus::Prometheus() {
  const fs::path dir = dir_.path();
  const fs::path node_log = dir / "node_exporter.log";
  const fs::path log = dir / "prometheus.log";
  const fs::path config = dir / "prometheus.yml";
  for (int attempt = 1;; ++attempt) {
    const auto ports = detail::distinct_free_ports(3);
    port_ = ports[0];
    node_port_ = ports[1];
    stopped_port_ = ports[2];

    // Only the collectors the tests read: a scrape a second stays cheap.
    auto node = std::make_unique<Process>(
        std::vector<std::string>{
            kNodeExporterBin, "--web.listen-address=127.0.0.1:" + std::to_string(node_port_),
            "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo",
            "--collector.filesystem", "--collector.loadavg"},
        node_log);
    auto startup = detail::wait_until_listening(*node, {node_port_}, detail::kStartTimeout);
    std::string failed = "node_exporter";
    fs::path failed_log = node_log;
    if (startup == detail::Startup::listening) {
      detail::write_text(config, prometheus_config(node_port_, stopped_port_));
      fs::create_directories(dir / "data");
      auto prometheus = std::make_unique<Process>(
          std::vector<std::string>{kPrometheusBin, "--config.file=" + config.string(),
                                   "--storage.tsdb.path=" + (dir / "data").string(),
                                   "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
          log);
      // Prometheus replays its (empty) WAL before it listens; a second
      // run on a slow machine can take longer than the other services.
      startup = detail::wait_until_listening(*prometheus, {port_}, 3 * detail::kStartTimeout);
      if (startup == detail::Startup::listening) {
        node_exporter_ = std::move(node);
        prometheus_ = std::move(prometheus);
        return;
      }
      failed = "prometheus";
      failed_log = log;
    }
    if (startup == detail::Startup::exited && attempt < detail::kStartAttempts) continue;
    throw std::runtime_error(failed + " did not start (" +
                             (startup == detail::Startup::exited ? "exited" : "timed out") +
                             "); its log:\n" + detail::read_text(failed_log));
  }
}

Prometheus::~Prometheus() {
  // Prometheus first, so that it does not log failed scrapes of a stopped exporter.
  prometheus_.reset();
  node_exporter_.reset();
}

std::string Prometheus::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string Prometheus::node_instance() const {
  return "127.0.0.1:" + std::to_string(node_port_);
}

std::string Prometheus::stopped_instance() const {
  return "127.0.0.1:" + std::to_string(stopped_port_);
}

nlohmann::json Prometheus::query(const std::string& promql) const {
  const auto [status, body] = http_get(port_, "/api/v1/query?query=" + url_encode(promql));
  auto answer = nlohmann::json::parse(body, nullptr, false);
  if (answer.is_discarded())
    throw std::runtime_error("Prometheus answered HTTP " + std::to_string(status) +
                             " without JSON: " + body.substr(0, 200));
  return answer;
}

bool Prometheus::wait_for_series(const std::string& promql, std::size_t min_series,
                                 std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    try {
      if (series_count(query(promql)) >= min_series) return true;
    } catch (const std::runtime_error&) {
      // Not answering yet (starting): poll again.
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::min(kPollInterval, left(deadline)));
  }
}

void Prometheus::wait_ready(const std::string& window, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  const std::string node = "{job=\"" + std::string(kNodeJob) + "\"";
  const std::pair<std::string, std::size_t> needed[] = {
      {"up", 2},
      {"node_memory_MemAvailable_bytes" + node + "}", 1},
      {"rate(node_cpu_seconds_total" + node + ",mode=\"idle\"}[" + window + "])", 1},
  };
  for (const auto& [promql, count] : needed)
    if (!wait_for_series(promql, count, left(deadline)))
      throw std::runtime_error("Prometheus has no " + std::to_string(count) + " series of " +
                               promql + " after " + std::to_string(timeout.count()) +
                               " ms; its log:\n" +
                               detail::read_text(dir_.path() / "prometheus.log"));
}

}  // namespace triage::test
