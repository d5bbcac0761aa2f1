// Proves the fixtures against the real services by talking to them over raw
// sockets (to the Kafka mock: with a librdkafka client of the test's own), so
// that a fault in a plugin cannot hide a fault in the fixture.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "replay_server.hpp"
#include "services.hpp"

namespace {

using namespace std::chrono_literals;
using triage::test::Blackhole;
using triage::test::Dnsmasq;
using triage::test::free_port;
using triage::test::KafkaMock;
using triage::test::Nginx;
using triage::test::Process;
using triage::test::run_command;
using triage::test::TempDir;
using triage::test::wait_for_tcp;

class Socket {
 public:
  explicit Socket(int type) : fd_(::socket(AF_INET, type | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    // Generous: a hang must fail the test, not stall the suite.
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

  // 0 on success, errno otherwise.
  int connect(std::uint16_t port) {
    const sockaddr_in addr = loopback(port);
    return ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
  }

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

 private:
  int fd_;
};

void send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    sent += static_cast<std::size_t>(n);
  }
}

struct HttpResponse {
  std::string status_line;
  std::string headers;
  std::string body;
};

HttpResponse http_get(std::uint16_t port, const std::string& path,
                      const std::string& extra_headers = {}) {
  Socket socket(SOCK_STREAM);
  REQUIRE(socket.connect(port) == 0);
  send_all(socket.fd(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                            extra_headers + "\r\n");
  std::string raw;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(socket.fd(), buffer, sizeof buffer, 0)) > 0) {
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  REQUIRE(n == 0);  // closed by the server, not a timeout
  const auto line_end = raw.find("\r\n");
  const auto head_end = raw.find("\r\n\r\n");
  REQUIRE(line_end != std::string::npos);
  REQUIRE(head_end != std::string::npos);
  return {raw.substr(0, line_end), raw.substr(line_end + 2, head_end - line_end),
          raw.substr(head_end + 4)};
}

// --- a minimal DNS client: one question, answers parsed just enough ---

struct DnsRecord {
  std::uint16_t type = 0;
  std::string data;  // raw RDATA
};

struct DnsReply {
  int rcode = -1;
  std::vector<DnsRecord> answers;
};

constexpr std::uint16_t kA = 1, kCname = 5, kMx = 15, kTxt = 16, kAaaa = 28;

std::string dns_query(const std::string& name, std::uint16_t type) {
  // id 0x7472, RD set, one question
  std::string q{'\x74', '\x72', '\x01', '\x00', '\x00', '\x01',
                '\x00', '\x00', '\x00', '\x00', '\x00', '\x00'};
  std::istringstream labels(name);
  std::string label;
  while (std::getline(labels, label, '.')) {
    q += static_cast<char>(label.size());
    q += label;
  }
  q += '\0';
  q += static_cast<char>(type >> 8);
  q += static_cast<char>(type & 0xff);
  q += std::string{'\x00', '\x01'};  // class IN
  return q;
}

std::uint16_t u16(const std::string& m, std::size_t at) {
  REQUIRE(at + 2 <= m.size());
  return static_cast<std::uint16_t>((static_cast<unsigned char>(m[at]) << 8) |
                                    static_cast<unsigned char>(m[at + 1]));
}

std::size_t skip_name(const std::string& m, std::size_t at) {
  while (true) {
    REQUIRE(at < m.size());
    const auto len = static_cast<unsigned char>(m[at]);
    if (len == 0) return at + 1;
    if ((len & 0xc0) == 0xc0) return at + 2;  // compression pointer ends the name
    at += 1 + len;
  }
}

DnsReply parse_dns(const std::string& m) {
  REQUIRE(m.size() >= 12);
  REQUIRE(m.substr(0, 2) == "\x74\x72");
  DnsReply reply;
  reply.rcode = u16(m, 2) & 0x0f;
  const std::uint16_t questions = u16(m, 4), answers = u16(m, 6);
  std::size_t at = 12;
  for (int i = 0; i < questions; ++i) at = skip_name(m, at) + 4;
  for (int i = 0; i < answers; ++i) {
    at = skip_name(m, at);
    DnsRecord record;
    record.type = u16(m, at);
    const std::uint16_t length = u16(m, at + 8);
    at += 10;
    REQUIRE(at + length <= m.size());
    record.data = m.substr(at, length);
    at += length;
    reply.answers.push_back(record);
  }
  return reply;
}

DnsReply ask_udp(const Dnsmasq& dns, const std::string& name, std::uint16_t type = kA) {
  Socket socket(SOCK_DGRAM);
  const std::string query = dns_query(name, type);
  const sockaddr_in server = Socket::loopback(dns.port());
  REQUIRE(::sendto(socket.fd(), query.data(), query.size(), 0,
                   reinterpret_cast<const sockaddr*>(&server),
                   sizeof server) == static_cast<ssize_t>(query.size()));
  char buffer[1500];
  const ssize_t n = ::recvfrom(socket.fd(), buffer, sizeof buffer, 0, nullptr, nullptr);
  REQUIRE(n > 0);
  return parse_dns(std::string(buffer, static_cast<std::size_t>(n)));
}

DnsReply ask_tcp(const Dnsmasq& dns, const std::string& name, std::uint16_t type = kA) {
  Socket socket(SOCK_STREAM);
  REQUIRE(socket.connect(dns.port()) == 0);
  const std::string query = dns_query(name, type);
  send_all(socket.fd(), std::string{static_cast<char>(query.size() >> 8),
                                    static_cast<char>(query.size() & 0xff)} +
                            query);
  std::string raw;
  char buffer[1500];
  ssize_t n = 0;
  while ((raw.size() < 2 || raw.size() < 2u + u16(raw, 0)) &&
         (n = ::recv(socket.fd(), buffer, sizeof buffer, 0)) > 0) {
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  REQUIRE(raw.size() >= 2);
  REQUIRE(raw.size() == 2u + u16(raw, 0));
  return parse_dns(raw.substr(2));
}

std::string ipv4(const std::string& rdata) {
  REQUIRE(rdata.size() == 4);
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, rdata.data(), text, sizeof text);
  return text;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool reaped(pid_t pid) {
  return ::waitpid(pid, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

// --- a librdkafka client of the test's own, to check the Kafka mock ---

class KafkaClient {
 public:
  KafkaClient(rd_kafka_type_t type, const std::string& bootstrap, const std::string& group = {}) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char errstr[512];
    auto set = [&](const char* name, const std::string& value) {
      REQUIRE(rd_kafka_conf_set(conf, name, value.c_str(), errstr, sizeof errstr) ==
              RD_KAFKA_CONF_OK);
    };
    set("bootstrap.servers", bootstrap);
    // Bounds each request (default 60 s), so that a fault fails rather than stalls.
    set("socket.timeout.ms", "5000");
    // Warnings and errors only: a broker set down is expected here.
    set("log_level", "4");
    // Back soon after a broker comes back up (default: up to 10 s later).
    set("reconnect.backoff.max.ms", "1000");
    if (!group.empty()) set("group.id", group);
    rk_ = rd_kafka_new(type, conf, errstr, sizeof errstr);
    INFO(errstr);
    REQUIRE(rk_ != nullptr);
  }
  ~KafkaClient() { rd_kafka_destroy(rk_); }
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;
  rd_kafka_t* get() const { return rk_; }

 private:
  rd_kafka_t* rk_ = nullptr;
};

struct PartitionList {
  PartitionList() : list(rd_kafka_topic_partition_list_new(1)) {}
  ~PartitionList() { rd_kafka_topic_partition_list_destroy(list); }
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  rd_kafka_topic_partition_list_t* list;
};

// Only while the partition's leader is up: librdkafka 2.0.2 ignores this
// call's timeout while it is down (see kafka_mock.cpp).
std::pair<std::int64_t, std::int64_t> watermarks(const KafkaClient& client,
                                                 const std::string& topic, int partition) {
  std::int64_t low = -1, high = -1;
  REQUIRE(rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), partition, &low, &high,
                                           10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  return {low, high};
}

std::int64_t committed(const KafkaClient& consumer, const std::string& topic, int partition) {
  PartitionList partitions;
  rd_kafka_topic_partition_list_add(partitions.list, topic.c_str(), partition);
  REQUIRE(rd_kafka_committed(consumer.get(), partitions.list, 10'000) ==
          RD_KAFKA_RESP_ERR_NO_ERROR);
  REQUIRE(partitions.list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR);
  return partitions.list->elems[0].offset;
}

// The timestamp of the partition's first message, read by a consumer.
std::int64_t first_timestamp(const std::string& bootstrap, const std::string& topic,
                             int partition) {
  KafkaClient consumer(RD_KAFKA_CONSUMER, bootstrap, "triage-reader");
  PartitionList assignment;
  rd_kafka_topic_partition_list_add(assignment.list, topic.c_str(), partition)->offset = 0;
  REQUIRE(rd_kafka_assign(consumer.get(), assignment.list) == RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), 100);
    if (message == nullptr) continue;
    const bool ok = message->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    const std::int64_t timestamp = rd_kafka_message_timestamp(message, &type);
    rd_kafka_message_destroy(message);
    if (!ok) continue;
    CHECK(type == RD_KAFKA_TIMESTAMP_CREATE_TIME);
    return timestamp;
  }
  FAIL("no message from " << topic << "/" << partition << " within 10 s");
  return -1;
}

// The local addresses of the TCP sockets listening on port, as the kernel
// lists them in /proc/net/tcp (IPv4, 8 hex digits) and tcp6 (32 hex digits).
std::vector<std::string> listeners(std::uint16_t port) {
  std::vector<std::string> found;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const auto colon = local.rfind(':');
      if (state == "0A" && colon != std::string::npos &&  // 0A: LISTEN
          std::stoul(local.substr(colon + 1), nullptr, 16) == port) {
        found.push_back(local.substr(0, colon));
      }
    }
  }
  return found;
}

// /proc/net/tcp prints the address as the 32-bit value in memory, in hex.
std::string loopback_hex() {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08X", static_cast<unsigned>(htonl(INADDR_LOOPBACK)));
  return hex;
}

int metadata_broker_count(const KafkaClient& client) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  // In short attempts: a request that went to a broker just set down, before
  // the client saw its connection close, waits for that broker until it times
  // out (this is no timing assertion: any attempt may succeed).
  for (int attempt = 0; attempt < 5 && err != RD_KAFKA_RESP_ERR_NO_ERROR; ++attempt) {
    err = rd_kafka_metadata(client.get(), 0, nullptr, &metadata, 2'000);
  }
  REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
  const int count = metadata->broker_cnt;
  rd_kafka_metadata_destroy(metadata);
  return count;
}

}  // namespace

TEST_CASE("TempDir is created and removed with its content") {
  std::filesystem::path path;
  {
    TempDir dir;
    path = dir.path();
    REQUIRE(std::filesystem::is_directory(path));
    std::ofstream(path / "file") << "x";
    std::filesystem::create_directory(path / "sub");
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("run_command returns the exit status and logs output") {
  TempDir dir;
  const auto log = dir.path() / "log";
  CHECK(run_command({"true"}) == 0);
  CHECK(run_command({"false"}) == 1);
  CHECK(run_command({"echo", "hello", "world"}, log) == 0);
  CHECK(read_file(log) == "hello world\n");
  CHECK_THROWS_AS(run_command({"triage-no-such-program"}), std::runtime_error);
}

TEST_CASE("programs in /usr/sbin are found without it on PATH") {
  TempDir dir;
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", "/usr/bin:/bin", 1);
  const int status = run_command({"dnsmasq", "--version"}, dir.path() / "log");
  ::setenv("PATH", saved.c_str(), 1);
  CHECK(status == 0);
}

TEST_CASE("Process is stopped and reaped on destruction") {
  pid_t pid = -1;
  {
    Process sleeper({"sleep", "60"});
    pid = sleeper.pid();
    CHECK(sleeper.running());
  }
  CHECK(reaped(pid));
}

TEST_CASE("Process escalates to SIGKILL when SIGTERM is ignored") {
  pid_t pid = -1;
  {
    // Ignored signals survive exec, so sleep itself ignores SIGTERM.
    Process stubborn({"sh", "-c", "trap '' TERM; exec sleep 60"});
    pid = stubborn.pid();
    // The test proves nothing until the exec happened, i.e. the trap is set.
    const auto comm = "/proc/" + std::to_string(pid) + "/comm";
    for (int i = 0; i < 500 && read_file(comm) != "sleep\n"; ++i) std::this_thread::sleep_for(10ms);
    REQUIRE(read_file(comm) == "sleep\n");
  }
  CHECK(reaped(pid));
}

TEST_CASE("Process that already exited is reaped too") {
  pid_t pid = -1;
  {
    Process quick({"true"});
    pid = quick.pid();
    for (int i = 0; i < 500 && quick.running(); ++i) std::this_thread::sleep_for(10ms);
    CHECK_FALSE(quick.running());
  }
  CHECK(reaped(pid));
}

TEST_CASE("free_port is closed and wait_for_tcp times out on it") {
  const auto port = free_port();
  CHECK(port > 1024);
  Socket socket(SOCK_STREAM);
  CHECK(socket.connect(port) == ECONNREFUSED);
  CHECK_FALSE(wait_for_tcp(port, 100ms));
}

TEST_CASE("Blackhole accepts connections but never answers") {
  Blackhole hole;
  CHECK(wait_for_tcp(hole.port(), 1s));
  Socket socket(SOCK_STREAM);
  REQUIRE(socket.connect(hole.port()) == 0);
  send_all(socket.fd(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  pollfd pfd{socket.fd(), POLLIN, 0};
  CHECK(::poll(&pfd, 1, 300) == 0);
}

TEST_CASE("nginx serves the documented locations over HTTP") {
  Nginx nginx;
  const auto port = nginx.http_port();
  CHECK(nginx.http_url("/health") == "http://127.0.0.1:" + std::to_string(port) + "/health");
  CHECK(nginx.https_url("/") == "https://localhost:" + std::to_string(nginx.https_port()) + "/");

  SECTION("/") {
    const auto r = http_get(port, "/");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.headers.find("Content-Type: text/plain") != std::string::npos);
    CHECK(r.body == "triage ok\n");
  }
  SECTION("/health") {
    const auto r = http_get(port, "/health");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.headers.find("Content-Type: application/json") != std::string::npos);
    CHECK(r.body == R"({"status":"up","version":"1.2.3","checks":{"db":"ok"}})");
  }
  SECTION("status codes") {
    CHECK(http_get(port, "/status/404").status_line == "HTTP/1.1 404 Not Found");
    CHECK(http_get(port, "/status/500").status_line == "HTTP/1.1 500 Internal Server Error");
    CHECK(http_get(port, "/status/503").status_line ==
          "HTTP/1.1 503 Service Temporarily Unavailable");
    CHECK(http_get(port, "/no/such/path").status_line == "HTTP/1.1 404 Not Found");
  }
  SECTION("/redirect") {
    const auto r = http_get(port, "/redirect");
    CHECK(r.status_line.rfind("HTTP/1.1 302 ", 0) == 0);
    CHECK(r.headers.find("Location: /health\r\n") != std::string::npos);
  }
  SECTION("/echo-header") {
    CHECK(http_get(port, "/echo-header", "X-Triage-Test: marker-42\r\n").body == "marker-42");
  }
}

TEST_CASE("nginx serves TLS with the valid, expired and wrong-host certificates") {
  Nginx nginx;
  TempDir dir;
  const auto log = dir.path() / "s_client.log";
  // stdin is /dev/null, so s_client leaves right after the handshake.
  auto handshake = [&](std::uint16_t port) {
    std::filesystem::remove(log);
    return run_command({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                        "-servername", "localhost", "-CAfile", nginx.certs().ca.string(),
                        "-verify_hostname", "localhost", "-verify_return_error"},
                       log);
  };
  CHECK(handshake(nginx.https_port()) == 0);
  CHECK(read_file(log).find("Verify return code: 0 (ok)") != std::string::npos);

  CHECK(handshake(nginx.expired_port()) != 0);
  CHECK(read_file(log).find("certificate has expired") != std::string::npos);

  CHECK(handshake(nginx.wrong_host_port()) != 0);
  CHECK(read_file(log).find("hostname mismatch") != std::string::npos);
}

TEST_CASE("nginx is gone after destruction") {
  std::vector<std::uint16_t> ports;
  {
    Nginx nginx;
    ports = {nginx.http_port(), nginx.https_port(), nginx.expired_port(), nginx.wrong_host_port()};
    for (const auto port : ports) CHECK(wait_for_tcp(port, 0ms));
  }
  for (const auto port : ports) CHECK_FALSE(wait_for_tcp(port, 0ms));
}

TEST_CASE("dnsmasq answers the documented records") {
  Dnsmasq dns;
  CHECK(dns.server() == "127.0.0.1:" + std::to_string(dns.port()));

  SECTION("A") {
    const auto r = ask_udp(dns, "api.triage.test");
    CHECK(r.rcode == 0);
    REQUIRE(r.answers.size() == 1);
    CHECK(r.answers[0].type == kA);
    CHECK(ipv4(r.answers[0].data) == "10.0.0.5");
  }
  SECTION("several A") {
    const auto r = ask_udp(dns, "multi.triage.test");
    CHECK(r.rcode == 0);
    REQUIRE(r.answers.size() == 2);
    std::vector<std::string> ips{ipv4(r.answers[0].data), ipv4(r.answers[1].data)};
    std::sort(ips.begin(), ips.end());
    CHECK(ips == std::vector<std::string>{"10.0.0.6", "10.0.0.7"});
  }
  SECTION("AAAA") {
    const auto r = ask_udp(dns, "v6.triage.test", kAaaa);
    CHECK(r.rcode == 0);
    REQUIRE(r.answers.size() == 1);
    const std::string expected{'\xfd', '\0', '\0', '\0', '\0', '\0', '\0', '\0',
                               '\0',   '\0', '\0', '\0', '\0', '\0', '\0', '\x05'};
    CHECK(r.answers[0].data == expected);
  }
  SECTION("CNAME") {
    const auto r = ask_udp(dns, "alias.triage.test");
    CHECK(r.rcode == 0);
    REQUIRE(r.answers.size() == 2);
    CHECK(r.answers[0].type == kCname);
    CHECK(r.answers[1].type == kA);
    CHECK(ipv4(r.answers[1].data) == "10.0.0.5");
  }
  SECTION("TXT") {
    const auto r = ask_udp(dns, "txt.triage.test", kTxt);
    CHECK(r.rcode == 0);
    REQUIRE(r.answers.size() == 1);
    CHECK(r.answers[0].data == std::string("\x09v=triage1"));
  }
  SECTION("MX") {
    const auto r = ask_udp(dns, "triage.test", kMx);
    CHECK(r.rcode == 0);
    REQUIRE(r.answers.size() == 1);
    CHECK(u16(r.answers[0].data, 0) == 10);
  }
  SECTION("over TCP too") {
    const auto r = ask_tcp(dns, "api.triage.test");
    CHECK(r.rcode == 0);
    REQUIRE(r.answers.size() == 1);
    CHECK(ipv4(r.answers[0].data) == "10.0.0.5");
  }
}

TEST_CASE("dnsmasq fails names the documented way") {
  Dnsmasq dns;
  SECTION("unknown name under triage.test is NXDOMAIN") {
    const auto r = ask_udp(dns, "missing.triage.test");
    CHECK(r.rcode == 3);
    CHECK(r.answers.empty());
  }
  SECTION("a name under fail.test is SERVFAIL, over UDP and TCP, for any type") {
    CHECK(ask_udp(dns, "www.fail.test").rcode == 2);
    CHECK(ask_udp(dns, "fail.test", kTxt).rcode == 2);
    CHECK(ask_tcp(dns, "db.fail.test", kAaaa).rcode == 2);
  }
  SECTION("other names are refused, never forwarded") {
    CHECK(ask_udp(dns, "example.com").rcode == 5);
  }
}

TEST_CASE("dnsmasq processes are gone after destruction") {
  std::uint16_t port = 0;
  {
    Dnsmasq dns;
    port = dns.port();
    CHECK(wait_for_tcp(port, 0ms));
  }
  CHECK_FALSE(wait_for_tcp(port, 0ms));
}

TEST_CASE("KafkaMock serves topics, watermarks and commits on loopback") {
  KafkaMock kafka;
  REQUIRE(kafka.brokers().size() == 3);
  std::string expected_bootstrap;
  for (std::size_t i = 0; i < kafka.brokers().size(); ++i) {
    const auto& broker = kafka.brokers()[i];
    CHECK(broker.id == static_cast<std::int32_t>(i + 1));
    // Listening on 127.0.0.1 only, nothing on IPv6 or a wildcard address.
    CHECK(listeners(broker.port) == std::vector<std::string>{loopback_hex()});
    expected_bootstrap +=
        (i == 0 ? "" : ",") + std::string("127.0.0.1:") + std::to_string(broker.port);
  }
  CHECK(kafka.bootstrap() == expected_bootstrap);

  const auto layout = kafka.create_topic("orders", 4, 3);
  REQUIRE(layout.at("partitions").size() == 4);
  for (const auto& partition : layout.at("partitions")) {
    CHECK(partition.at("replicas") == nlohmann::json{1, 2, 3});
  }
  // Fixed leaders, so that broker 2 going down below affects partition 1 only.
  for (int partition = 0; partition < 4; ++partition) {
    kafka.set_leader("orders", partition, partition % 3 + 1);
  }

  constexpr std::int64_t kThen = 1'600'000'000'000;  // 2020-09-13, ms
  CHECK(kafka.produce("orders", 0, 5) == 5);
  CHECK(kafka.produce("orders", 2, 12, kThen) == 12);
  CHECK(kafka.produce("orders", 2, 3) == 15);
  CHECK(kafka.produce("orders", 3, 1) == 1);
  kafka.commit("billing", "orders", 2, 7);
  kafka.commit("billing", "orders", 3, 1);

  KafkaClient client(RD_KAFKA_PRODUCER, kafka.bootstrap());
  CHECK(watermarks(client, "orders", 0) == std::pair<std::int64_t, std::int64_t>{0, 5});
  CHECK(watermarks(client, "orders", 1) == std::pair<std::int64_t, std::int64_t>{0, 0});
  CHECK(watermarks(client, "orders", 2) == std::pair<std::int64_t, std::int64_t>{0, 15});
  CHECK(watermarks(client, "orders", 3) == std::pair<std::int64_t, std::int64_t>{0, 1});

  KafkaClient billing(RD_KAFKA_CONSUMER, kafka.bootstrap(), "billing");
  CHECK(committed(billing, "orders", 2) == 7);
  CHECK(committed(billing, "orders", 3) == 1);
  CHECK(committed(billing, "orders", 0) == RD_KAFKA_OFFSET_INVALID);  // never committed

  CHECK(first_timestamp(kafka.bootstrap(), "orders", 2) == kThen);

  // The tool keeps answering with a broker down.
  kafka.broker_down(2);
  // As the mock does: the broker stays in Metadata (and keeps partition 1).
  CHECK(metadata_broker_count(client) == 3);
  kafka.set_rtt(3, 5);
  const auto marks = kafka.command({{"cmd", "watermarks"}, {"topic", "orders"}, {"partition", 2}});
  CHECK(marks.at("low") == 0);
  CHECK(marks.at("high") == 15);
  CHECK(kafka.produce("orders", 0, 2) == 7);
  kafka.set_leader("orders", 1, 3);
  CHECK(kafka.produce("orders", 1, 4) == 4);
  kafka.broker_up(2);
  kafka.set_rtt(3, 0);
  // After broker_up: the group's coordinator, fixed by a hash of its name, may be broker 2.
  kafka.commit("billing", "orders", 1, 2);
  CHECK(committed(billing, "orders", 1) == 2);
}

TEST_CASE("KafkaMock answers bad commands with errors") {
  CHECK_THROWS_AS(KafkaMock(0), std::runtime_error);  // the tool refuses to start
  KafkaMock kafka(1);
  REQUIRE(kafka.brokers().size() == 1);
  kafka.create_topic("events", 2, 1);
  CHECK_THROWS_AS(kafka.command({{"cmd", "no-such-command"}}), std::runtime_error);
  CHECK_THROWS_AS(kafka.command({{"cmd", "topic"}, {"name", "x"}}), std::runtime_error);
  CHECK_THROWS_AS(kafka.create_topic("events", 2, 1), std::runtime_error);  // exists
  CHECK_THROWS_AS(kafka.produce("missing", 0, 1), std::runtime_error);
  CHECK_THROWS_AS(kafka.produce("events", 2, 1), std::runtime_error);
  CHECK_THROWS_AS(kafka.commit("g", "events", -1, 0), std::runtime_error);
  CHECK_THROWS_AS(kafka.broker_down(9), std::runtime_error);
  CHECK_THROWS_AS(kafka.set_leader("events", 0, 9), std::runtime_error);
  // Nothing above created a topic by accident, and the tool still works.
  const auto marks = kafka.command({{"cmd", "watermarks"}, {"topic", "events"}, {"partition", 1}});
  CHECK(marks.at("high") == 0);
  CHECK_THROWS_AS(kafka.command({{"cmd", "watermarks"}, {"topic", "missing"}, {"partition", 0}}),
                  std::runtime_error);
  CHECK(kafka.produce("events", 1, 3) == 3);
}

TEST_CASE("KafkaMock exits cleanly when its stdin closes") {
  std::vector<std::uint16_t> ports;
  {
    KafkaMock kafka(2);
    for (const auto& broker : kafka.brokers()) ports.push_back(broker.port);
    for (const auto port : ports) CHECK(wait_for_tcp(port, 0ms));
    CHECK(kafka.stop() == 0);  // exited by itself, status 0
    CHECK(kafka.stop() == 0);
    CHECK_THROWS_AS(kafka.broker_down(1), std::runtime_error);
  }
  for (const auto port : ports) CHECK_FALSE(wait_for_tcp(port, 0ms));
}

TEST_CASE("the replay server matches routes, serves responses in turn and records requests") {
  const nlohmann::json fixture = {
      {"about", "a test's own fixture"},
      {"routes",
       {{{"path", "/list"},
         {"query", {{"page", "2"}}},
         {"responses",
          {{{"json", {{"page", 2}, {"at", "{{now_s-60}}"}, {"in", "at {{now_s}}"}}}}}}},
        {{"path", "/list"},
         {"headers", {{"Authorization", "Bearer good"}}},
         {"responses",
          {{{"status", 429}, {"headers", {{"Retry-After", "1"}}}, {"body", "slow down"}},
           {{"json", {{"next", "{{base_url}}/list?page=2"}}}}}}}}}};
  triage::test::ReplayServer server(fixture, "");
  httplib::SSLClient client("localhost", server.port());
  client.set_ca_cert_path(server.certs().ca.c_str());
  client.enable_server_certificate_verification(true);
  const httplib::Headers auth = {{"Authorization", "Bearer good"}};

  auto first = client.Get("/list", auth);
  REQUIRE(first);
  CHECK(first->status == 429);
  CHECK(first->get_header_value("Retry-After") == "1");
  auto second = client.Get("/list", auth);
  REQUIRE(second);
  CHECK(second->status == 200);
  CHECK(nlohmann::json::parse(second->body)["next"] == server.url("/list?page=2"));
  auto third = client.Get("/list", auth);  // the last response repeats
  REQUIRE(third);
  CHECK(third->status == 200);

  auto page2 = client.Get("/list?page=2");
  REQUIRE(page2);
  const auto page2_body = nlohmann::json::parse(page2->body);
  REQUIRE(page2_body["at"].is_number());  // a whole-string time becomes a number
  CHECK(page2_body["in"].get<std::string>().rfind("at 1", 0) == 0);  // in text it stays text
  const auto at = page2_body["at"].get<long long>();
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  CHECK(at <= now - 59);
  CHECK(at >= now - 120);

  auto unmatched = client.Get("/list");  // no Authorization, no page
  REQUIRE(unmatched);
  CHECK(unmatched->status == 404);

  const auto requests = server.requests();
  REQUIRE(requests.size() == 5);
  CHECK(requests[0].headers.find("authorization")->second == "Bearer good");
  CHECK(requests[3].query.find("page")->second == "2");
}

TEST_CASE("every replay fixture file parses and names its sources") {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto& entry :
       fs::directory_iterator(triage::test::replay_fixture("x").parent_path())) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    INFO(entry.path());
    std::ifstream in(entry.path());
    const auto doc = nlohmann::json::parse(in);
    CHECK(doc.at("about").get<std::string>().find("replay") != std::string::npos);
    CHECK_FALSE(doc.at("sources").empty());
    // Constructing a server for each scenario validates every route.
    const auto scenarios = doc.value("scenarios", nlohmann::json::object());
    for (const auto& [name, routes] : scenarios.items())
      CHECK_NOTHROW(triage::test::ReplayServer(doc, name));
  }
  CHECK(files >= 5);  // databricks, kubernetes, azure_arm, azure_ad, azure_storage
}
