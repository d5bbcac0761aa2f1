// The tls check against real TLS servers on loopback: the fixture's nginx
// (valid, expired and wrong-host certificates made by openssl at test time)
// and a small OpenSSL server in this file that only speaks TLSv1.2.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include <triage/testing.hpp>

#include "checks.hpp"
#include "loopback_listen.hpp"
#include "net_util.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::network::TlsCheck;
using namespace std::chrono_literals;

namespace {

triage::test::Nginx& nginx() {
  static triage::test::Nginx instance;
  return instance;
}

std::string local(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

std::string dump(const triage::testing::Result& r) {
  std::string out = "summary: " + r.summary + "\nerror: " + r.error + "\n";
  for (const auto& f : r.findings) out += "finding: " + f.title + " | " + f.detail + "\n";
  for (const auto& [k, v] : r.attributes) out += "attribute: " + k + " = " + v + "\n";
  return out;
}

// A TLS server on 127.0.0.1 that accepts one connection, completes one
// handshake with at most TLSv1.2, then waits for the client to leave.
class Tls12Server {
 public:
  Tls12Server(const std::string& cert, const std::string& key) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    if (!triage::network::test::listen_on_loopback(fd_, 4, in)) return;
    port_ = ntohs(in.sin_port);
    thread_ = std::thread([this, cert, key] { serve(cert, key); });
  }
  ~Tls12Server() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  Tls12Server(const Tls12Server&) = delete;
  Tls12Server& operator=(const Tls12Server&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  void serve(const std::string& cert, const std::string& key) {
    triage::network::SigpipeGuard no_sigpipe;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return;
    const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    timeval tv{10, 0};  // never hang the test if the client goes away
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    SSL* ssl = nullptr;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) == 1 &&
        SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) == 1) {
      ssl = SSL_new(ctx);
      SSL_set_fd(ssl, conn);
      if (SSL_accept(ssl) == 1) {
        char buf[256];
        while (SSL_read(ssl, buf, sizeof buf) > 0) {
        }
      }
    }
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(conn);
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("tls: a valid certificate from a trusted CA", "[tls][nginx]") {
  const auto& web = nginx();
  const std::string ca = web.certs().ca.string();

  SECTION("by IP address") {
    const auto r =
        triage::testing::run<TlsCheck>({{"target", local(web.https_port())}, {"ca_file", ca}});
    INFO(dump(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.findings.empty());
    const auto* days = r.metric("days_left");
    REQUIRE(days != nullptr);
    CHECK(days->value > 300);
    CHECK(days->default_warning == "30:");
    CHECK(days->default_critical == "7:");
    REQUIRE(r.metric("handshake_ms") != nullptr);
    CHECK(r.metric("handshake_ms")->unit == "ms");
    for (const char* key :
         {"subject", "issuer", "not_after", "protocol", "cipher", "san", "address"}) {
      INFO(key);
      REQUIRE(r.attributes.count(key) == 1);
      CHECK(!r.attributes.at(key).empty());
    }
    CHECK(r.attributes.at("san").find("IP:127.0.0.1") != std::string::npos);
    CHECK(r.attributes.at("not_after").back() == 'Z');
    CHECK(r.attributes.at("address") == local(web.https_port()));
  }
  SECTION("by name, with SNI") {
    const auto r = triage::testing::run<TlsCheck>(
        {{"target", local(web.https_port())}, {"server_name", "localhost"}, {"ca_file", ca}});
    INFO(dump(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.findings.empty());
  }
}

TEST_CASE("tls: an expired certificate", "[tls][nginx]") {
  const auto& web = nginx();
  const auto r = triage::testing::run<TlsCheck>(
      {{"target", local(web.expired_port())}, {"ca_file", web.certs().ca.string()}});
  INFO(dump(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Certificate expired");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find(r.attributes.at("not_after")) != std::string::npos);
  // Signed by the trusted CA: expiry is the only problem.
  CHECK(r.finding(Severity::critical, "Untrusted") == nullptr);
  CHECK(r.finding(Severity::critical, "Hostname") == nullptr);
  REQUIRE(r.metric("days_left") != nullptr);
  CHECK(r.metric("days_left")->value < 0);
}

TEST_CASE("tls: a certificate for another host", "[tls][nginx]") {
  const auto& web = nginx();
  const auto r = triage::testing::run<TlsCheck>(
      {{"target", local(web.wrong_host_port())}, {"ca_file", web.certs().ca.string()}});
  INFO(dump(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Hostname mismatch");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("wrong.example") != std::string::npos);
  CHECK(f->detail.find("127.0.0.1") != std::string::npos);
  CHECK(r.finding(Severity::critical, "Untrusted") == nullptr);
}

TEST_CASE("tls: the system trust store does not know the test CA", "[tls][nginx]") {
  const auto& web = nginx();
  const auto r = triage::testing::run<TlsCheck>({{"target", local(web.https_port())}});
  INFO(dump(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Untrusted certificate chain");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("system trust store") != std::string::npos);
  CHECK(!f->remediation.empty());
  // The rest of the certificate is still read and judged.
  CHECK(r.finding(Severity::critical, "Hostname") == nullptr);
  CHECK(r.finding(Severity::critical, "expired") == nullptr);
  CHECK(r.metric("days_left") != nullptr);
}

TEST_CASE("tls: insecure skips the trust verdict but still reports", "[tls][nginx]") {
  const auto& web = nginx();
  SECTION("valid certificate") {
    const auto r =
        triage::testing::run<TlsCheck>({{"target", local(web.https_port())}, {"insecure", true}});
    INFO(dump(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.finding(Severity::critical, "Untrusted") == nullptr);
    CHECK(r.finding(Severity::info, "not verified") != nullptr);
  }
  SECTION("expired certificate") {
    const auto r =
        triage::testing::run<TlsCheck>({{"target", local(web.expired_port())}, {"insecure", true}});
    INFO(dump(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "Certificate expired") != nullptr);
    CHECK(r.finding(Severity::critical, "Untrusted") == nullptr);
  }
}

TEST_CASE("tls: a protocol older than min_protocol is a warning", "[tls]") {
  const auto& certs = nginx().certs();
  Tls12Server server(certs.valid_cert.string(), certs.valid_key.string());
  REQUIRE(server.port() != 0);
  const auto r = triage::testing::run<TlsCheck>({{"target", local(server.port())},
                                                 {"ca_file", certs.ca.string()},
                                                 {"min_protocol", "TLSv1.3"}},
                                                {10s});
  INFO(dump(r));
  CHECK(r.status() == Status::warning);
  const auto* f = r.finding(Severity::warning, "Weak protocol");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("TLSv1.2") != std::string::npos);
  CHECK(r.attributes.at("protocol") == "TLSv1.2");
}

TEST_CASE("tls: connection and handshake failures", "[tls]") {
  SECTION("plain HTTP port: the handshake fails") {
    const auto r = triage::testing::run<TlsCheck>({{"target", local(nginx().http_port())}});
    INFO(dump(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "TLS handshake failed") != nullptr);
  }
  SECTION("closed port: refused") {
    const auto r = triage::testing::run<TlsCheck>({{"target", local(triage::test::free_port())}});
    INFO(dump(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "Connection refused") != nullptr);
  }
  SECTION("a server that never answers: the handshake times out") {
    triage::test::Blackhole hole;
    const auto r = triage::testing::run<TlsCheck>({{"target", local(hole.port())}}, {300ms});
    INFO(dump(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "timed out") != nullptr);
  }
}

TEST_CASE("tls: bad params end unknown", "[tls]") {
  SECTION("malformed target") {
    const auto r = triage::testing::run<TlsCheck>({{"target", "127.0.0.1"}});
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("'127.0.0.1'") != std::string::npos);
  }
  SECTION("unknown min_protocol") {
    const auto r =
        triage::testing::run<TlsCheck>({{"target", "127.0.0.1:443"}, {"min_protocol", "SSLv3"}});
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("min_protocol") != std::string::npos);
  }
  SECTION("unreadable ca_file") {
    const auto r = triage::testing::run<TlsCheck>(
        {{"target", "127.0.0.1:443"}, {"ca_file", "/nonexistent/ca.pem"}});
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("/nonexistent/ca.pem") != std::string::npos);
  }
}
