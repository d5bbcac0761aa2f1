// The dns check against a real dnsmasq on loopback (tests/support/services.hpp
// lists its records). No test queries the machine's own resolvers: every
// via:dns run names a loopback server, and via:system resolves "localhost",
// which /etc/hosts answers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>

#include <triage/testing.hpp>
#include "checks.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::network::DnsCheck;
using triage::testing::Result;
using json = nlohmann::json;

namespace {

triage::test::Dnsmasq& dnsmasq() {
  static triage::test::Dnsmasq instance;
  return instance;
}

Result query(json params, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  if (!params.contains("server")) params["server"] = dnsmasq().server();
  return triage::testing::run<DnsCheck>(params, {timeout});
}

std::string describe(const Result& r) {
  std::string out = "summary: " + r.summary + "\nerror: " + r.error + "\n";
  for (const auto& f : r.findings) out += "finding: " + f.title + " | " + f.detail + "\n";
  for (const auto& [k, v] : r.attributes) out += "attribute: " + k + "=" + v + "\n";
  return out;
}

// A UDP socket on 127.0.0.1 that is bound (so no ICMP "port unreachable")
// but never reads: queries sent to it go unanswered.
class SilentUdp {
 public:
  SilentUdp() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentUdp() { ::close(fd_); }
  SilentUdp(const SilentUdp&) = delete;
  SilentUdp& operator=(const SilentUdp&) = delete;
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("dns: A record matches expect", "[dns]") {
  const auto r = query({{"target", "api.triage.test"}, {"expect", {"10.0.0.5"}}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.findings.empty());
  REQUIRE(r.metric("latency_ms") != nullptr);
  CHECK(r.metric("latency_ms")->unit == "ms");
  CHECK(r.metric("latency_ms")->default_warning == "200");
  CHECK(r.metric("latency_ms")->default_critical == "1000");
  REQUIRE(r.metric("answers") != nullptr);
  CHECK(r.metric("answers")->value == 1);
  CHECK(r.attributes.at("answers") == "10.0.0.5");
  CHECK(r.attributes.at("server") == dnsmasq().server());
  CHECK(r.attributes.at("rcode") == "NOERROR");
  CHECK(r.summary.find("10.0.0.5") != std::string::npos);
}

TEST_CASE("dns: several A records, all expected", "[dns]") {
  const auto r = query({{"target", "multi.triage.test"}, {"expect", {"10.0.0.7", "10.0.0.6"}}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  REQUIRE(r.metric("answers") != nullptr);
  CHECK(r.metric("answers")->value == 2);
  const auto& answers = r.attributes.at("answers");
  CHECK(answers.find("10.0.0.6") != std::string::npos);
  CHECK(answers.find("10.0.0.7") != std::string::npos);
}

TEST_CASE("dns: AAAA record, expect compared as an address", "[dns]") {
  const auto r =
      query({{"target", "v6.triage.test"}, {"type", "AAAA"}, {"expect", {"fd00:0:0::5"}}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("answers") == "fd00::5");
}

TEST_CASE("dns: CNAME record, expect compared as a name", "[dns]") {
  const auto r =
      query({{"target", "alias.triage.test"}, {"type", "CNAME"}, {"expect", {"API.triage.test."}}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("answers") == "api.triage.test");
}

TEST_CASE("dns: A query through a CNAME reports the alias", "[dns]") {
  const auto r = query({{"target", "alias.triage.test"}, {"expect", {"10.0.0.5"}}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("cname") == "api.triage.test");
}

TEST_CASE("dns: TXT record", "[dns]") {
  const auto r = query({{"target", "txt.triage.test"}, {"type", "TXT"}, {"expect", {"v=triage1"}}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("answers") == "\"v=triage1\"");
}

TEST_CASE("dns: MX record, expect compares the exchange", "[dns]") {
  const auto r =
      query({{"target", "triage.test"}, {"type", "MX"}, {"expect", {"mail.triage.test"}}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("answers") == "10 mail.triage.test");
}

TEST_CASE("dns: over TCP", "[dns]") {
  const auto r = query({{"target", "api.triage.test"}, {"tcp", true}, {"expect", {"10.0.0.5"}}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
}

TEST_CASE("dns: NXDOMAIN is critical with a finding", "[dns]") {
  const auto r = query({{"target", "missing.triage.test"}});
  INFO(describe(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.reported_status == Status::critical);
  const auto* f = r.finding(Severity::critical, "NXDOMAIN");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("missing.triage.test") != std::string::npos);
  CHECK_FALSE(f->remediation.empty());
  CHECK(r.attributes.at("rcode") == "NXDOMAIN");
  REQUIRE(r.metric("answers") != nullptr);
  CHECK(r.metric("answers")->value == 0);
}

TEST_CASE("dns: SERVFAIL is critical with a finding", "[dns]") {
  const auto r = query({{"target", "www.fail.test"}});
  INFO(describe(r));
  CHECK(r.status() == Status::critical);
  REQUIRE(r.finding(Severity::critical, "SERVFAIL") != nullptr);
  CHECK(r.attributes.at("rcode") == "SERVFAIL");
}

TEST_CASE("dns: an answer without the expected value is critical", "[dns]") {
  const auto r = query({{"target", "api.triage.test"}, {"expect", {"10.0.0.9"}}});
  INFO(describe(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Unexpected answer");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("10.0.0.9") != std::string::npos);
  CHECK(f->detail.find("10.0.0.5") != std::string::npos);
}

TEST_CASE("dns: a name without records of the type is critical", "[dns]") {
  const auto r = query({{"target", "api.triage.test"}, {"type", "AAAA"}});
  INFO(describe(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "No answer of type AAAA") != nullptr);
}

TEST_CASE("dns: a server that never answers times out", "[dns]") {
  SECTION("UDP") {
    SilentUdp silent;
    const auto r =
        triage::testing::run<DnsCheck>({{"target", "api.triage.test"}, {"server", silent.server()}},
                                       {std::chrono::milliseconds(600)});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "DNS timeout");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find(silent.server()) != std::string::npos);
  }
  SECTION("TCP to a listener that never reads") {
    triage::test::Blackhole hole;
    const std::string server = "127.0.0.1:" + std::to_string(hole.port());
    const auto r = triage::testing::run<DnsCheck>(
        {{"target", "api.triage.test"}, {"server", server}, {"tcp", true}},
        {std::chrono::milliseconds(600)});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "DNS timeout") != nullptr);
  }
}

TEST_CASE("dns: nothing listening on the server port", "[dns]") {
  const std::string server = "127.0.0.1:" + std::to_string(triage::test::free_port());
  const auto r = triage::testing::run<DnsCheck>(
      {{"target", "api.triage.test"}, {"server", server}, {"tcp", true}},
      {std::chrono::milliseconds(2000)});
  INFO(describe(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "DNS server unreachable") != nullptr);
}

TEST_CASE("dns: via system resolves localhost from the hosts file", "[dns]") {
  const auto r = triage::testing::run<DnsCheck>(
      {{"target", "localhost"}, {"via", "system"}, {"expect", {"127.0.0.1"}}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("answers").find("127.0.0.1") != std::string::npos);
  CHECK(r.attributes.at("via") == "system");
}

TEST_CASE("dns: malformed params end unknown with an error", "[dns]") {
  const std::string server = "127.0.0.1:1";  // never contacted: params are checked first
  const json cases[] = {
      json::object(),
      {{"target", 42}},
      {{"target", "api.triage.test"}, {"server", server}, {"type", "SRV"}},
      {{"target", "api.triage.test"}, {"server", "dns.example.com"}},
      {{"target", "api.triage.test"}, {"server", "127.0.0.1:99999"}},
      {{"target", "api.triage.test"}, {"server", server}, {"expect", "10.0.0.5"}},
      {{"target", "api.triage.test"}, {"server", server}, {"via", "mdns"}},
      {{"target", "api.triage.test"}, {"server", server}, {"via", "system"}, {"type", "TXT"}},
      {{"target", "api.triage.test"}, {"server", server}, {"expected", {"10.0.0.5"}}},
  };
  for (const auto& params : cases) {
    INFO(params.dump());
    const auto r = triage::testing::run<DnsCheck>(params);
    CHECK(r.status() == Status::unknown);
    CHECK_FALSE(r.error.empty());
    CHECK(r.findings.empty());
  }
}

TEST_CASE("dns: a cancelled run stops and reports no verdict", "[dns]") {
  SilentUdp silent;
  std::atomic<bool> cancel{true};
  triage::testing::Options options;
  options.cancel = &cancel;
  const auto r = triage::testing::run<DnsCheck>(
      {{"target", "api.triage.test"}, {"server", silent.server()}}, options);
  INFO(describe(r));
  CHECK(r.status() == Status::unknown);
  CHECK(r.findings.empty());
}

TEST_CASE("dns: accept_rcodes makes NXDOMAIN a healthy answer, and only that", "[dns]") {
  const auto accepted =
      query({{"target", "nope.triage.test"}, {"accept_rcodes", {"NOERROR", "NXDOMAIN"}}});
  INFO(describe(accepted));
  CHECK(accepted.status() == Status::ok);
  CHECK(accepted.findings.empty());
  CHECK(accepted.metric("latency_ms") != nullptr);
  CHECK(accepted.attributes.at("rcode") == "NXDOMAIN");
  const auto servfail =
      query({{"target", "x.fail.test"}, {"accept_rcodes", {"NOERROR", "NXDOMAIN"}}});
  CHECK(servfail.status() == Status::critical);
  CHECK(servfail.finding(Severity::critical, "SERVFAIL") != nullptr);
  const auto system =
      query({{"target", "localhost"}, {"via", "system"}, {"accept_rcodes", {"NXDOMAIN"}}});
  CHECK(system.status() == Status::unknown);
}
