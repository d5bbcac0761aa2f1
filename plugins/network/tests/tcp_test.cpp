// The tcp check against real sockets on loopback: a listener opened here,
// nginx, a port nothing listens on, and a blackhole that never answers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include <triage/testing.hpp>

#include "checks.hpp"
#include "loopback_listen.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::network::TcpCheck;
using namespace std::chrono_literals;

namespace {

// A listening socket on a loopback address and an ephemeral port. The
// kernel completes handshakes from its backlog, so connect() succeeds
// without anyone calling accept().
class Listener {
 public:
  explicit Listener(int family = AF_INET) {
    fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&ss);
      in->sin_family = AF_INET;
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *in;
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = in6addr_loopback;
      len = sizeof *in6;
    }
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd_, 8) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    len = sizeof ss;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  std::uint16_t port() const { return port_; }

  // Waits (bounded) for one connection and accepts it; -1 when none came.
  int accept_one(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
    return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// A listener whose accept queue (backlog 0) is already full with one
// connection: the kernel drops further SYNs, so connecting to it times out
// the way a firewall that drops packets does.
class SaturatedListener {
 public:
  SaturatedListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    if (!triage::network::test::listen_on_loopback(fd_, 0, in)) return;
    port_ = ntohs(in.sin_port);
    const socklen_t len = sizeof in;
    filler_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::connect(filler_, reinterpret_cast<sockaddr*>(&in), len);
    pollfd p{filler_, POLLOUT, 0};
    int err = -1;
    socklen_t err_len = sizeof err;
    if (::poll(&p, 1, 5000) == 1) ::getsockopt(filler_, SOL_SOCKET, SO_ERROR, &err, &err_len);
    ready_ = err == 0;
  }
  ~SaturatedListener() {
    if (filler_ >= 0) ::close(filler_);
    if (fd_ >= 0) ::close(fd_);
  }
  SaturatedListener(const SaturatedListener&) = delete;
  SaturatedListener& operator=(const SaturatedListener&) = delete;
  bool ready() const { return ready_; }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1, filler_ = -1;
  std::uint16_t port_ = 0;
  bool ready_ = false;
};

std::string local(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

triage::test::Nginx& nginx() {
  static triage::test::Nginx instance;
  return instance;
}

std::string dump(const triage::testing::Result& r) {
  std::string out = "summary: " + r.summary + "\nerror: " + r.error + "\n";
  for (const auto& f : r.findings) out += "finding: " + f.title + " | " + f.detail + "\n";
  return out;
}

}  // namespace

TEST_CASE("tcp: connects to a real listener", "[tcp]") {
  Listener listener;
  REQUIRE(listener.ok());
  const auto r = triage::testing::run<TcpCheck>({{"target", local(listener.port())}});
  INFO(dump(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.findings.empty());
  const auto* latency = r.metric("latency_ms");
  REQUIRE(latency != nullptr);
  CHECK(latency->unit == "ms");
  CHECK(latency->value >= 0);
  CHECK(latency->default_warning.empty());
  CHECK(latency->default_critical.empty());
  CHECK(r.attributes.at("address") == local(listener.port()));
  CHECK(r.summary.find("connected to " + local(listener.port())) != std::string::npos);
}

TEST_CASE("tcp: connects over IPv6 to [::1]", "[tcp]") {
  Listener listener(AF_INET6);
  if (!listener.ok()) {
    WARN("no ::1 on this machine; IPv6 connect not tested");
    return;
  }
  const std::string target = "[::1]:" + std::to_string(listener.port());
  const auto r = triage::testing::run<TcpCheck>({{"target", target}});
  INFO(dump(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("address") == target);
}

TEST_CASE("tcp: resolves localhost from /etc/hosts", "[tcp]") {
  Listener listener;
  REQUIRE(listener.ok());
  const auto r =
      triage::testing::run<TcpCheck>({{"target", "localhost:" + std::to_string(listener.port())}});
  INFO(dump(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.count("address") == 1);
}

TEST_CASE("tcp: a closed port is refused", "[tcp]") {
  const auto port = triage::test::free_port();
  const auto r = triage::testing::run<TcpCheck>({{"target", local(port)}});
  INFO(dump(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Connection refused");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find(local(port)) != std::string::npos);
  CHECK(f->remediation.find(std::to_string(port)) != std::string::npos);
  CHECK(r.metric("latency_ms") == nullptr);
}

TEST_CASE("tcp: send and expect against nginx", "[tcp][nginx]") {
  const auto& web = nginx();
  const std::string target = local(web.http_port());

  SECTION("the expected text arrives") {
    const auto r = triage::testing::run<TcpCheck>(
        {{"target", target}, {"send", "GET / HTTP/1.0\r\n\r\n"}, {"expect", "200"}});
    INFO(dump(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.metric("latency_ms") != nullptr);
    REQUIRE(r.metric("response_ms") != nullptr);
    CHECK(r.metric("response_ms")->unit == "ms");
  }
  SECTION("a different response is reported with its first bytes") {
    const auto r = triage::testing::run<TcpCheck>(
        {{"target", target}, {"send", "GET /status/404 HTTP/1.0\r\n\r\n"}, {"expect", " 200 "}});
    INFO(dump(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Unexpected response");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("HTTP/1.1 404") != std::string::npos);
    CHECK(f->detail.find("\\r\\n") != std::string::npos);  // escaped, not raw
  }
  SECTION("send without expect waits for the first bytes") {
    const auto r = triage::testing::run<TcpCheck>(
        {{"target", target}, {"send", "GET /health HTTP/1.0\r\n\r\n"}});
    INFO(dump(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.metric("response_ms") != nullptr);
  }
}

TEST_CASE("tcp: expect matches a banner sent by the server", "[tcp]") {
  Listener listener;
  REQUIRE(listener.ok());
  std::thread server([&] {
    const int fd = listener.accept_one(10s);
    if (fd < 0) return;
    const std::string banner = "SSH-2.0-triage_test\r\n";
    (void)::send(fd, banner.data(), banner.size(), MSG_NOSIGNAL);
    ::close(fd);
  });
  const auto r = triage::testing::run<TcpCheck>(
      {{"target", local(listener.port())}, {"expect", "SSH-2.0"}}, {10s});
  server.join();
  INFO(dump(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.metric("response_ms") != nullptr);
}

TEST_CASE("tcp: a connection that is never answered times out", "[tcp]") {
  SaturatedListener full;
  REQUIRE(full.ready());
  const auto r = triage::testing::run<TcpCheck>({{"target", local(full.port())}}, {300ms});
  INFO(dump(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Connection timed out");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find(local(full.port())) != std::string::npos);
  CHECK(f->remediation.find("firewall") != std::string::npos);
  CHECK(r.metric("latency_ms") == nullptr);
}

TEST_CASE("tcp: a server that never answers times out", "[tcp][blackhole]") {
  triage::test::Blackhole hole;
  const auto r = triage::testing::run<TcpCheck>(
      {{"target", local(hole.port())}, {"send", "PING\r\n"}, {"expect", "PONG"}}, {300ms});
  // It returned: the check saw its own deadline.
  INFO(dump(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "timed out");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("PONG") != std::string::npos);
  CHECK(r.error.empty());
}

TEST_CASE("tcp: malformed params end unknown with an error naming them", "[tcp]") {
  for (const std::string target : {"localhost", "127.0.0.1:", "127.0.0.1:99999", "::1:80",
                                   "[::1:80", ":80", "bad host:80", "[127.0.0.1]:80"}) {
    const auto r = triage::testing::run<TcpCheck>({{"target", target}});
    INFO(target << " -> " << dump(r));
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("'" + target + "'") != std::string::npos);
  }
  SECTION("missing target") {
    const auto r = triage::testing::run<TcpCheck>(nlohmann::json::object());
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("target") != std::string::npos);
  }
  SECTION("bad read_bytes") {
    const auto r = triage::testing::run<TcpCheck>(
        {{"target", "127.0.0.1:80"}, {"expect", "x"}, {"read_bytes", 0}});
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("read_bytes") != std::string::npos);
  }
  SECTION("wrong type") {
    const auto r = triage::testing::run<TcpCheck>({{"target", "127.0.0.1:80"}, {"send", 42}});
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("send") != std::string::npos);
  }
}

TEST_CASE("tcp: cancellation ends the check", "[tcp][cancel]") {
  SECTION("cancelled before it starts") {
    Listener listener;
    REQUIRE(listener.ok());
    std::atomic<bool> cancel{true};
    const auto r = triage::testing::run<TcpCheck>(
        {{"target", local(listener.port())}, {"expect", "never"}}, {30s, &cancel});
    INFO(dump(r));
    CHECK((r.status() == Status::unknown || r.status() == Status::critical));
  }
  SECTION("cancelled while connecting") {
    SaturatedListener full;
    REQUIRE(full.ready());
    std::atomic<bool> cancel{false};
    // Whenever this lands, the connect is still pending: it never completes.
    std::thread canceller([&] { cancel = true; });
    const auto r = triage::testing::run<TcpCheck>({{"target", local(full.port())}}, {30s, &cancel});
    canceller.join();
    INFO(dump(r));
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("cancelled") != std::string::npos);
  }
  SECTION("cancelled while waiting for a response") {
    Listener listener;
    REQUIRE(listener.ok());
    std::atomic<bool> cancel{false};
    std::atomic<int> accepted{-1};
    // Cancels once the check's connection is accepted, i.e. while the check
    // waits for a response that never comes (the socket stays open).
    std::thread canceller([&] {
      accepted = listener.accept_one(30s);
      cancel = true;
    });
    const auto r = triage::testing::run<TcpCheck>(
        {{"target", local(listener.port())}, {"expect", "never"}}, {30s, &cancel});
    canceller.join();
    if (accepted >= 0) ::close(accepted);
    INFO(dump(r));
    // Cancelled, not timed out (the deadline is far away) and not hung.
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("cancelled") != std::string::npos);
  }
}

TEST_CASE("tcp: a numeric target read differently by different tools is refused, not guessed",
          "[tcp]") {
  // 0177.0.0.1 is 127.0.0.1 to inet_aton and 177.0.0.1 to a decimal
  // reading: no connection is attempted either way.
  for (const char* target : {"0177.0.0.1:1", "127.1:1", "0x7f.0.0.1:1"}) {
    const auto r = triage::testing::run<TcpCheck>({{"target", target}});
    INFO(target << ": " << dump(r));
    CHECK(r.status() == triage::Status::unknown);
    CHECK(r.error.find("is an ambiguous address: inet_aton reads it as 127.0.0.1") !=
          std::string::npos);
    CHECK(r.attributes.count("address") == 0);
  }
}
