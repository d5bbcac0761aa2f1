#include "etcd.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "internal.hpp"

namespace triage::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Between two /health polls of a member that is not ready yet.
constexpr milliseconds kPollInterval{20};

milliseconds left(Clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// The body of a GET to a member's metrics listener, or nullopt.
std::optional<std::string> http_get(std::uint16_t port, const std::string& path,
                                    milliseconds timeout) {
  auto answer = detail::loopback_http_get(port, path, timeout);
  if (!answer) return std::nullopt;
  return std::move(answer->body);
}

std::string unique_token() {
  static std::atomic<int> counter{0};
  return "triage-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

EtcdCluster::EtcdCluster(int members, EtcdOptions options)
    : options_(std::move(options)), token_(unique_token()) {
  if (members < 1 || members > 9) throw std::invalid_argument("EtcdCluster: 1 to 9 members");
  if (options_.tls) certs_ = make_certs(dir_.path() / "certs");
  for (int attempt = 1;; ++attempt) {
    const auto ports = detail::distinct_free_ports(3 * static_cast<std::size_t>(members));
    members_.clear();
    members_.resize(static_cast<std::size_t>(members));
    initial_cluster_.clear();
    for (int i = 0; i < members; ++i) {
      Member& m = members_[static_cast<std::size_t>(i)];
      m.name = "m" + std::to_string(i);
      m.client_port = ports[static_cast<std::size_t>(3 * i)];
      m.peer_port = ports[static_cast<std::size_t>(3 * i + 1)];
      m.metrics_port = ports[static_cast<std::size_t>(3 * i + 2)];
      // Fresh folders per attempt: a member that half-started leaves state.
      m.data_dir = dir_.path() / ("attempt" + std::to_string(attempt)) / m.name;
      m.log = dir_.path() / (m.name + "-attempt" + std::to_string(attempt) + ".log");
      initial_cluster_ +=
          (i ? "," : "") + m.name + "=http://127.0.0.1:" + std::to_string(m.peer_port);
    }
    for (int i = 0; i < members; ++i) launch(i);

    // A member that exits while the others start has typically lost a port
    // to another process between free_port() and its bind: start over.
    bool exited = false;
    for (auto& m : members_) {
      const auto startup = detail::wait_until_listening(
          *m.process, {m.peer_port, m.client_port, m.metrics_port}, detail::kStartTimeout);
      if (startup == detail::Startup::listening) continue;
      if (startup == detail::Startup::exited && attempt < detail::kStartAttempts) {
        exited = true;
        break;
      }
      const std::string log = detail::read_text(m.log);
      members_.clear();
      throw std::runtime_error("etcd member " + m.name + " did not start (" +
                               (startup == detail::Startup::exited ? "exited" : "timed out") +
                               "); its log:\n" + log);
    }
    if (exited) {
      members_.clear();
      continue;
    }
    for (int i = 0; i < members; ++i) wait_healthy(i);
    break;
  }
  if (!options_.root_password.empty()) {
    std::string out;
    if (etcdctl({"user", "add", "root", "--new-user-password=" + options_.root_password,
                 "--interactive=false"},
                &out) != 0 ||
        etcdctl({"auth", "enable"}, &out) != 0)
      throw std::runtime_error("etcdctl could not enable auth:\n" + out);
    auth_on_ = true;
  }
}

EtcdCluster::~EtcdCluster() {
  for (auto& m : members_) m.process.reset();
}

std::vector<std::string> EtcdCluster::etcd_argv(int i) const {
  const Member& m = members_.at(static_cast<std::size_t>(i));
  const std::string scheme = options_.tls ? "https" : "http";
  const std::string client = scheme + "://127.0.0.1:" + std::to_string(m.client_port);
  const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  std::vector<std::string> argv{
      "/usr/bin/etcd",
      "--name=" + m.name,
      "--data-dir=" + m.data_dir.string(),
      "--listen-client-urls=" + client,
      "--advertise-client-urls=" + client,
      "--listen-peer-urls=" + peer,
      "--initial-advertise-peer-urls=" + peer,
      "--listen-metrics-urls=http://127.0.0.1:" + std::to_string(m.metrics_port),
      "--initial-cluster=" + initial_cluster_,
      "--initial-cluster-token=" + token_,
      "--initial-cluster-state=new",
      // A busy test machine must not set off elections while a test looks:
      // a longer election timeout than etcd's 1 s, and pre-vote, so that a
      // member starved of CPU cannot depose a leader the others still hear.
      "--heartbeat-interval=100",
      "--election-timeout=2000",
      "--pre-vote=true",
      "--logger=zap",
      "--log-outputs=stderr",
      "--log-level=warn",
  };
  if (options_.tls) {
    argv.push_back("--cert-file=" + certs_.valid_cert.string());
    argv.push_back("--key-file=" + certs_.valid_key.string());
    if (options_.client_cert_auth) {
      argv.push_back("--client-cert-auth");
      argv.push_back("--trusted-ca-file=" + certs_.ca.string());
    }
  }
  if (options_.quota_backend_bytes > 0)
    argv.push_back("--quota-backend-bytes=" + std::to_string(options_.quota_backend_bytes));
  return argv;
}

void EtcdCluster::launch(int i) {
  Member& m = members_.at(static_cast<std::size_t>(i));
  fs::create_directories(m.data_dir.parent_path());
  m.process = std::make_unique<Process>(etcd_argv(i), m.log);
}

void EtcdCluster::wait_healthy(int i) const {
  const Member& m = members_.at(static_cast<std::size_t>(i));
  const auto deadline = Clock::now() + detail::kStartTimeout;
  for (;;) {
    if (!m.process || !m.process->running())
      throw std::runtime_error("etcd member " + m.name + " exited; its log:\n" +
                               detail::read_text(m.log));
    const auto body = http_get(m.metrics_port, "/health",
                               std::clamp(left(deadline), milliseconds(1), milliseconds(2000)));
    if (body && body->find("\"health\":\"true\"") != std::string::npos) return;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::min(kPollInterval, left(deadline)));
  }
  throw std::runtime_error("etcd member " + m.name + " did not become healthy within " +
                           std::to_string(detail::kStartTimeout.count()) + " ms; its log:\n" +
                           detail::read_text(m.log));
}

std::string EtcdCluster::name(int i) const {
  return members_.at(static_cast<std::size_t>(i)).name;
}

std::string EtcdCluster::client_url(int i) const {
  return std::string(options_.tls ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(members_.at(static_cast<std::size_t>(i)).client_port);
}

std::vector<std::string> EtcdCluster::client_urls() const {
  std::vector<std::string> urls;
  for (int i = 0; i < size(); ++i) urls.push_back(client_url(i));
  return urls;
}

void EtcdCluster::stop(int i) {
  members_.at(static_cast<std::size_t>(i)).process.reset();
}

void EtcdCluster::start(int i) {
  Member& m = members_.at(static_cast<std::size_t>(i));
  if (m.process && m.process->running()) return;
  m.process.reset();
  launch(i);
  wait_healthy(i);
}

bool EtcdCluster::running(int i) const {
  const Member& m = members_.at(static_cast<std::size_t>(i));
  return m.process && m.process->running();
}

int EtcdCluster::leader() const {
  for (int i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    const auto metrics = http_get(members_[static_cast<std::size_t>(i)].metrics_port, "/metrics",
                                  milliseconds(2000));
    if (metrics && metrics->find("\netcd_server_is_leader 1\n") != std::string::npos) return i;
  }
  return -1;
}

int EtcdCluster::etcdctl(const std::vector<std::string>& args, std::string* output) const {
  static std::atomic<int> calls{0};
  std::string endpoints;
  for (int i = 0; i < size(); ++i)
    if (running(i)) endpoints += (endpoints.empty() ? "" : ",") + client_url(i);
  std::vector<std::string> argv{"/usr/bin/etcdctl", "--endpoints=" + endpoints, "--dial-timeout=2s",
                                "--command-timeout=5s"};
  if (options_.tls) argv.push_back("--cacert=" + certs_.ca.string());
  if (options_.tls && options_.client_cert_auth) {
    argv.push_back("--cert=" + certs_.client_cert.string());
    argv.push_back("--key=" + certs_.client_key.string());
  }
  if (auth_on_) argv.push_back("--user=root:" + options_.root_password);
  argv.insert(argv.end(), args.begin(), args.end());
  const fs::path log = dir_.path() / ("etcdctl-" + std::to_string(calls++) + ".log");
  const int status = run_command(argv, log);
  if (output != nullptr) *output = detail::read_text(log);
  std::error_code ignored;
  fs::remove(log, ignored);
  return status;
}

void EtcdCluster::fill_until_nospace() {
  if (options_.quota_backend_bytes == 0 || options_.quota_backend_bytes > (64u << 20))
    throw std::logic_error("fill_until_nospace needs quota_backend_bytes of at most 64 MiB");
  // Below the kernel's limit on one argument (128 KiB).
  const std::string value(100 * 1024, 'x');
  const std::uint64_t most = options_.quota_backend_bytes / value.size() * 4 + 16;
  std::string out;
  for (std::uint64_t n = 0; n < most; ++n) {
    if (etcdctl({"put", "triage-fill-" + std::to_string(n), value}, &out) == 0) continue;
    if (out.find("database space exceeded") != std::string::npos) return;
    throw std::runtime_error("etcdctl put failed otherwise than with NOSPACE:\n" + out);
  }
  throw std::runtime_error("etcd accepted " + std::to_string(most) +
                           " puts of 100 KiB without raising NOSPACE");
}

}  // namespace triage::test
