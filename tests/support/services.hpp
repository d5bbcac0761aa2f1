// Real services for tests, started on loopback high ports and stopped (killed
// and reaped) when the fixture object is destroyed. Nothing here is a mock:
// nginx and dnsmasq are the Debian binaries, certificates are made by the
// openssl CLI at test time. Processes are started with posix_spawn, never a shell.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace triage::test {

// A folder under $TMPDIR removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A child process (argv[0] is looked up in PATH and /usr/sbin); stdout and
// stderr go to log_file when given. The destructor sends SIGTERM, then SIGKILL
// after a grace period, and reaps it.
class Process {
 public:
  explicit Process(std::vector<std::string> argv, std::filesystem::path log_file = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  pid_t pid() const { return pid_; }
  bool running() const;

 private:
  pid_t pid_ = -1;
};

// Runs fn in a forked child as nobody (uid/gid 65534), an unprivileged
// attacker for security tests; true when the drop worked and fn returned true.
bool as_nobody(const std::function<bool()>& fn);

// Runs a command to completion (no shell) and returns its exit status;
// throws std::runtime_error when it cannot be started.
int run_command(const std::vector<std::string>& argv, const std::filesystem::path& log_file = {});

// A TCP port on 127.0.0.1 that nothing listens on right now.
std::uint16_t free_port();

// Polls until something accepts TCP connections on 127.0.0.1:port or the
// timeout passes (a readiness wait, not a sleep to pass). Returns false on timeout.
bool wait_for_tcp(std::uint16_t port, std::chrono::milliseconds timeout);

// Certificates made by `openssl` in dir: a test CA, and leaf certificates signed
// by it for "localhost" + IP 127.0.0.1 (valid for a year), an expired one
// (same names), one for the wrong host ("wrong.example" only), and a client
// certificate.
struct Certs {
  std::filesystem::path ca;  // PEM, the CA certificate to trust
  std::filesystem::path valid_cert, valid_key;
  std::filesystem::path expired_cert, expired_key;
  std::filesystem::path wrong_host_cert, wrong_host_key;
  // A client certificate (CN triage-client, clientAuth) for mutual TLS.
  std::filesystem::path client_cert, client_key;
};
Certs make_certs(const std::filesystem::path& dir);

// nginx on loopback with four servers:
//   http_port()       plain HTTP
//   https_port()      TLS with the valid certificate
//   expired_port()    TLS with the expired certificate
//   wrong_host_port() TLS with the certificate for "wrong.example"
// Every server serves the same locations:
//   /             200 text/plain "triage ok\n"
//   /health       200 application/json {"status":"up","version":"1.2.3","checks":{"db":"ok"}}
//   /status/404   404      /status/500   500      /status/503   503
//   /redirect     302 to /health
//   /echo-header  200, body is the value of the request's X-Triage-Test header
//   /files/NAME   the file files_dir()/NAME, as a test wrote it (404 when absent)
class Nginx {
 public:
  Nginx();
  ~Nginx();
  std::uint16_t http_port() const { return http_port_; }
  std::uint16_t https_port() const { return https_port_; }
  std::uint16_t expired_port() const { return expired_port_; }
  std::uint16_t wrong_host_port() const { return wrong_host_port_; }
  const Certs& certs() const { return certs_; }
  // "http://127.0.0.1:<http_port><path>"
  std::string http_url(const std::string& path) const;
  // "https://localhost:<https_port><path>"
  std::string https_url(const std::string& path) const;
  // Where tests put the files served under /files/ (readable by nginx).
  std::filesystem::path files_dir() const;

 private:
  TempDir dir_;
  Certs certs_;
  std::uint16_t http_port_ = 0, https_port_ = 0, expired_port_ = 0, wrong_host_port_ = 0;
  std::vector<std::unique_ptr<Process>> processes_;
};

// A TCP listener on 127.0.0.1 that completes handshakes (the kernel's backlog)
// but never reads or answers: connections and requests to it time out.
class Blackhole {
 public:
  Blackhole();
  ~Blackhole();
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// dnsmasq on 127.0.0.1:<port()> (UDP and TCP), authoritative for triage.test:
//   api.triage.test      A     10.0.0.5
//   multi.triage.test    A     10.0.0.6 and 10.0.0.7
//   v6.triage.test       AAAA  fd00::5
//   alias.triage.test    CNAME api.triage.test
//   txt.triage.test      TXT   "v=triage1"
//   triage.test          MX    10 mail.triage.test
//   any other name under triage.test: NXDOMAIN
//   any name under fail.test: SERVFAIL, at once (forwarded to a second dnsmasq
//                        whose unsigned answers fail DNSSEC validation against
//                        a trust anchor for fail.test)
//   any other name:      REFUSED
// Nothing is forwarded to the machine's real resolvers.
class Dnsmasq {
 public:
  Dnsmasq();
  ~Dnsmasq();
  std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>"
  std::string server() const;

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::vector<std::unique_ptr<Process>> processes_;
};

// Azurite, the Azure Storage emulator (npm package pinned in
// tests/support/azurite, installed by scripts/install-azurite), serving Blob
// on 127.0.0.1:<port()> with its documented development account and its data
// in a temp dir; telemetry off. With https, it serves TLS with a certificate
// from make_certs for "localhost" (trust certs().ca) and accepts OAuth bearer
// tokens (--oauth basic: Azurite checks the token's claims, not its
// signature). Throws, naming scripts/install-azurite, when it is not installed.
class Azurite {
 public:
  static constexpr const char* kAccount = "devstoreaccount1";
  // Azurite's well-known development key (public, in its documentation).
  static constexpr const char* kKey =
      "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

  explicit Azurite(bool https = false);
  ~Azurite();
  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>/devstoreaccount1", or with https
  // "https://localhost:<port>/devstoreaccount1".
  std::string endpoint() const;
  // Only with https.
  const Certs& certs() const { return certs_; }

 private:
  TempDir dir_;
  bool https_ = false;
  Certs certs_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// librdkafka's mock Kafka cluster (the real Kafka protocol, served by
// librdkafka 2.0.2) with `brokers` brokers on 127.0.0.1, run by the
// triage_kafka_mock tool (tests/support/kafka_mock.cpp, whose top comment
// lists the commands and what the mock can and cannot do: e.g. no ListGroups,
// DescribeGroups or DescribeConfigs, and a broker set down keeps its place in
// Metadata). The fixture talks to the tool over its stdin and stdout; every
// method returns once the tool answered, i.e. once the change is made.
// Not thread-safe. The destructor closes the tool's stdin, on which the tool
// destroys the cluster and exits, and reaps it (SIGKILL after a grace period).
// Include <nlohmann/json.hpp> to build commands and read answers.
class KafkaMock {
 public:
  struct Broker {
    std::int32_t id = 0;
    std::uint16_t port = 0;
  };

  explicit KafkaMock(int brokers = 3);
  ~KafkaMock();
  KafkaMock(const KafkaMock&) = delete;
  KafkaMock& operator=(const KafkaMock&) = delete;

  // "127.0.0.1:<port>,..." in broker id order.
  const std::string& bootstrap() const { return bootstrap_; }
  // By id (the mock numbers them 1..brokers).
  const std::vector<Broker>& brokers() const { return brokers_; }

  // Sends one command (see kafka_mock.cpp) and returns the tool's answer;
  // throws std::runtime_error when the answer is {"ok":false,...} (its error
  // is the message), when the tool does not answer within 60 s, or after stop().
  nlohmann::json command(const nlohmann::json& cmd);

  // Returns the layout the cluster made: {"ok":true,"partitions":[{"partition":
  // 0,"leader":id,"replicas":[ids]},...]}. The mock ignores `replicas` (every
  // partition is on the first min(3, brokers) brokers).
  nlohmann::json create_topic(const std::string& name, int partitions, int replicas);
  // id -1: every broker.
  void broker_down(std::int32_t id);
  void broker_up(std::int32_t id);
  // The broker delays each response by ms.
  void set_rtt(std::int32_t id, int ms);
  // Moves the partition's leadership (-1: no leader).
  void set_leader(const std::string& topic, std::int32_t partition, std::int32_t id);
  // Produces count small messages to exactly that partition, with that
  // message timestamp (ms since the epoch; now when not given), and returns
  // the partition's high watermark once all were acknowledged.
  std::int64_t produce(const std::string& topic, std::int32_t partition, int count,
                       std::optional<std::int64_t> timestamp_ms = std::nullopt);
  // Commits offset for group, as a consumer outside the group does.
  void commit(const std::string& group, const std::string& topic, std::int32_t partition,
              std::int64_t offset);

  // Closes the tool's stdin and waits for it to exit (SIGKILL after a grace
  // period); returns its exit status, 128 + signal when killed, as
  // run_command does. Later calls return the same; the destructor calls it.
  int stop();

 private:
  std::string read_line(std::chrono::milliseconds timeout);
  [[noreturn]] void fail(const std::string& what);

  TempDir dir_;
  pid_t pid_ = -1;
  int to_tool_ = -1;     // the tool's stdin
  int from_tool_ = -1;   // the tool's stdout
  std::string pending_;  // read from the tool, not yet a whole line
  std::optional<int> status_;
  std::string bootstrap_;
  std::vector<Broker> brokers_;
};

}  // namespace triage::test
