// The http check against a real nginx on loopback (plain HTTP and TLS with
// openssl-made certificates; tests/support/services.hpp lists its locations),
// a listener that never answers, a listener whose accept queue is full (its
// TCP handshakes never complete), and a port nothing listens on.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <triage/testing.hpp>
#include "checks.hpp"
#include "http_stats.hpp"
#include "loopback_listen.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::network::HttpCheck;
using triage::testing::Result;
using json = nlohmann::json;

namespace {

triage::test::Nginx& nginx() {
  static triage::test::Nginx instance;
  return instance;
}

Result request(const json& params,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  return triage::testing::run<HttpCheck>(params, {timeout});
}

std::string describe(const Result& r) {
  std::string out = "summary: " + r.summary + "\nerror: " + r.error + "\n";
  for (const auto& f : r.findings) out += "finding: " + f.title + " | " + f.detail + "\n";
  for (const auto& [k, v] : r.attributes) out += "attribute: " + k + "=" + v + "\n";
  return out;
}

std::string tls_url(std::uint16_t port, const std::string& path = "/") {
  return "https://localhost:" + std::to_string(port) + path;
}

// True when `text` occurs anywhere in what the check reported.
bool reported_anywhere(const Result& r, const std::string& text) {
  auto in = [&](const std::string& s) { return s.find(text) != std::string::npos; };
  if (in(r.summary) || in(r.error)) return true;
  for (const auto& [k, v] : r.attributes)
    if (in(k) || in(v)) return true;
  for (const auto& f : r.findings)
    if (in(f.title) || in(f.detail) || in(f.remediation)) return true;
  for (const auto& m : r.metrics)
    if (in(m.name) || in(m.unit)) return true;
  for (const auto& l : r.logs)
    if (in(l)) return true;
  return false;
}

}  // namespace

TEST_CASE("http: percentiles interpolate between ranks", "[http]") {
  using triage::network::http::percentile;
  CHECK(percentile({7.0}, 50) == 7.0);
  CHECK(percentile({7.0}, 99) == 7.0);
  CHECK(percentile({4.0, 1.0, 3.0, 2.0}, 50) == Approx(2.5));
  CHECK(percentile({1.0, 2.0, 3.0, 4.0, 5.0}, 0) == 1.0);
  CHECK(percentile({1.0, 2.0, 3.0, 4.0, 5.0}, 100) == 5.0);
  CHECK(percentile({1.0, 2.0, 3.0, 4.0, 5.0}, 95) == Approx(4.8));
  CHECK(std::isnan(percentile({}, 50)));
  CHECK(triage::network::http::status_accepted({}, 200));
  CHECK(triage::network::http::status_accepted({}, 302));
  CHECK_FALSE(triage::network::http::status_accepted({}, 404));
  CHECK(triage::network::http::status_accepted({404, 503}, 503));
}

TEST_CASE("http: 200 over several samples reports percentiles and no errors", "[http]") {
  const auto r = request({{"target", nginx().http_url("/")}, {"samples", 5}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.findings.empty());
  for (const char* name : {"latency_p50_ms", "latency_p95_ms", "latency_p99_ms"}) {
    INFO(name);
    REQUIRE(r.metric(name) != nullptr);
    CHECK(r.metric(name)->unit == "ms");
    CHECK(r.metric(name)->value >= 0);
  }
  CHECK(r.metric("latency_p50_ms")->default_warning == "100");
  CHECK(r.metric("latency_p99_ms")->default_warning == "500");
  CHECK(r.metric("latency_p50_ms")->value <= r.metric("latency_p99_ms")->value);
  REQUIRE(r.metric("error_rate_pct") != nullptr);
  CHECK(r.metric("error_rate_pct")->value == 0);
  CHECK(r.metric("error_rate_pct")->default_warning == "0.1");
  CHECK(r.metric("error_rate_pct")->default_critical == "5");
  REQUIRE(r.metric("status_code") != nullptr);
  CHECK(r.metric("status_code")->value == 200);
  CHECK(r.attributes.at("status_code") == "200");
  CHECK(r.attributes.at("http_version") == "1.1");
  CHECK(r.attributes.at("remote_ip") == "127.0.0.1");
  CHECK(r.attributes.at("url") == nginx().http_url("/"));
  CHECK(r.attributes.at("requests") == "5 of 5");
  CHECK(r.summary.find("200 OK") != std::string::npos);
  CHECK(r.summary.find("5 requests") != std::string::npos);
}

TEST_CASE("http: concurrent samples", "[http]") {
  const auto r =
      request({{"target", nginx().http_url("/health")}, {"samples", 8}, {"concurrency", 4}});
  INFO(describe(r));
  CHECK(r.status() == Status::ok);
  REQUIRE(r.metric("error_rate_pct") != nullptr);
  CHECK(r.metric("error_rate_pct")->value == 0);
  CHECK(r.attributes.at("requests") == "8 of 8");
}

TEST_CASE("http: status codes against expect_status", "[http]") {
  SECTION("500 is not in the default 200..399") {
    const auto r = request({{"target", nginx().http_url("/status/500")}, {"samples", 2}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Unexpected HTTP status");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("got 500") != std::string::npos);
    CHECK(f->detail.find("2 of 2 requests") != std::string::npos);
    CHECK(f->detail.find("body: ") != std::string::npos);
    REQUIRE(r.metric("error_rate_pct") != nullptr);
    CHECK(r.metric("error_rate_pct")->value == 100);
    CHECK(r.metric("latency_p50_ms") == nullptr);
    CHECK(r.attributes.at("status_code") == "500");
  }
  SECTION("an expected error code is fine") {
    const auto r = request({{"target", nginx().http_url("/status/503")}, {"expect_status", 503}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
  }
  SECTION("a list of codes") {
    const auto r =
        request({{"target", nginx().http_url("/status/404")}, {"expect_status", {404, 410}}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
  }
  SECTION("200 when only 204 is expected") {
    const auto r = request({{"target", nginx().http_url("/")}, {"expect_status", {204}}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Unexpected HTTP status");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("expected 204, got 200") != std::string::npos);
  }
}

TEST_CASE("http: body_contains", "[http]") {
  SECTION("present") {
    const auto r = request({{"target", nginx().http_url("/")}, {"body_contains", "triage ok"}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
  }
  SECTION("absent") {
    const auto r =
        request({{"target", nginx().http_url("/")}, {"body_contains", "maintenance mode"}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Body does not contain");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("maintenance mode") != std::string::npos);
    CHECK(f->detail.find("triage ok\\n") != std::string::npos);  // the escaped body
  }
}

TEST_CASE("http: a JSON value by pointer", "[http]") {
  SECTION("equal") {
    const auto r = request(
        {{"target", nginx().http_url("/health")}, {"json_pointer", "/status"}, {"equals", "up"}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
  }
  SECTION("nested, present without equals") {
    const auto r =
        request({{"target", nginx().http_url("/health")}, {"json_pointer", "/checks/db"}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
  }
  SECTION("different") {
    const auto r = request(
        {{"target", nginx().http_url("/health")}, {"json_pointer", "/status"}, {"equals", "down"}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "JSON value mismatch at /status");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("expected \"down\"") != std::string::npos);
    CHECK(f->detail.find("got \"up\"") != std::string::npos);
  }
  SECTION("absent") {
    const auto r = request({{"target", nginx().http_url("/health")}, {"json_pointer", "/uptime"}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "JSON value mismatch at /uptime") != nullptr);
  }
  SECTION("not JSON") {
    const auto r = request({{"target", nginx().http_url("/")}, {"json_pointer", "/status"}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "Response is not JSON") != nullptr);
  }
}

// Writes a JSON status document where nginx serves it (/files/NAME).
std::string serve_json(const std::string& name, const std::string& text) {
  std::ofstream(nginx().files_dir() / name) << text;
  return nginx().http_url("/files/" + name);
}

TEST_CASE("http: one_of accepts any of several JSON values", "[http]") {
  const auto url = serve_json("cluster-state.json",
                              R"({"cluster_id":"0412-abc","state":"RESIZING","num_workers":6})");
  SECTION("one of them") {
    const auto r =
        request({{"target", url}, {"json_pointer", "/state"}, {"one_of", {"RUNNING", "RESIZING"}}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.findings.empty());
  }
  SECTION("none of them: critical, naming what was accepted and what came") {
    const auto r =
        request({{"target", url}, {"json_pointer", "/state"}, {"one_of", {"RUNNING", "PENDING"}}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "JSON value mismatch at /state");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find(R"(expected one of ["RUNNING","PENDING"])") != std::string::npos);
    CHECK(f->detail.find(R"(got "RESIZING")") != std::string::npos);
    CHECK(f->remediation.find("one_of") != std::string::npos);
  }
  SECTION("numbers compare by value") {
    const auto r =
        request({{"target", url}, {"json_pointer", "/num_workers"}, {"one_of", {4, 6.0, "six"}}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
  }
  SECTION("absent member") {
    const auto r =
        request({{"target", url}, {"json_pointer", "/spark_version"}, {"one_of", {"RUNNING"}}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "JSON value mismatch at /spark_version");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("expected one of [\"RUNNING\"]") != std::string::npos);
  }
}

TEST_CASE("http: json_metrics turn numbers of a JSON response into metrics", "[http]") {
  const auto url = serve_json(
      "status.json",
      R"({"state":"RUNNING","lag":{"seconds":42.5},"queued":7,"healthy":true,"version":"2.1"})");
  SECTION("numbers and booleans, declared through {json_metrics}") {
    const auto r = request(
        {{"target", url},
         {"samples", 2},
         {"json_metrics", {{"lag_s", "/lag/seconds"}, {"queued", "/queued"}, {"up", "/healthy"}}},
         {"json_pointer", "/state"},
         {"one_of", {"RUNNING"}}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
    REQUIRE(r.metric("lag_s") != nullptr);
    CHECK(r.metric("lag_s")->value == 42.5);
    CHECK(r.metric("lag_s")->unit.empty());
    REQUIRE(r.metric("queued") != nullptr);
    CHECK(r.metric("queued")->value == 7);
    REQUIRE(r.metric("up") != nullptr);
    CHECK(r.metric("up")->value == 1);
    CHECK(r.metric("latency_p50_ms") != nullptr);
    CHECK(r.undeclared.empty());  // every name is a key of json_metrics, or declared
  }
  SECTION("a value that is missing or not a number: unknown, with a finding each") {
    const auto r = request(
        {{"target", url},
         {"json_metrics", {{"lag_s", "/lag/seconds"}, {"ver", "/version"}, {"gone", "/lag/ms"}}}});
    INFO(describe(r));
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.empty());  // the endpoint was judged; only these numbers are missing
    CHECK(r.metric("lag_s") != nullptr);
    CHECK(r.metric("ver") == nullptr);
    CHECK(r.metric("gone") == nullptr);
    const auto* ver = r.finding(Severity::info, "JSON metric ver not read");
    REQUIRE(ver != nullptr);
    CHECK(ver->detail.find(R"(at /version is "2.1", not a number)") != std::string::npos);
    const auto* gone = r.finding(Severity::info, "JSON metric gone not read");
    REQUIRE(gone != nullptr);
    CHECK(gone->detail.find("nothing at /lag/ms (no such member)") != std::string::npos);
    CHECK(r.summary.find("json_metrics not read: gone, ver") != std::string::npos);
  }
  SECTION("a body that is not JSON") {
    const auto r =
        request({{"target", nginx().http_url("/")}, {"json_metrics", {{"lag_s", "/lag"}}}});
    INFO(describe(r));
    CHECK(r.status() == Status::unknown);
    const auto* f = r.finding(Severity::info, "JSON metric lag_s not read");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("the body is not JSON") != std::string::npos);
  }
  SECTION("no successful response: the request failure decides, no json_metrics finding") {
    const auto r = request(
        {{"target", nginx().http_url("/status/503")}, {"json_metrics", {{"lag_s", "/lag"}}}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::info, "JSON metric") == nullptr);
  }
}

TEST_CASE("http: every check type declares what it emits", "[http][metrics]") {
  const triage_check_type& type = *triage::detail::check_type<HttpCheck>();
  REQUIRE(type.metrics != nullptr);
  bool json_metrics = false;
  for (std::uint32_t i = 0; i < type.metric_count; ++i)
    json_metrics = json_metrics || std::string(type.metrics[i]->name) == "{json_metrics}";
  CHECK(json_metrics);
  const auto r = request({{"target", nginx().http_url("/status/404")}, {"samples", 3}});
  CHECK(r.metric("error_rate_pct") != nullptr);
  CHECK(r.undeclared.empty());
}

TEST_CASE("http: redirects", "[http]") {
  SECTION("not followed: the 302 itself is judged") {
    const auto r = request({{"target", nginx().http_url("/redirect")}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("status_code") == "302");
    CHECK(r.attributes.at("redirect_url") == nginx().http_url("/health"));
  }
  SECTION("followed: the final response is judged") {
    const auto r = request({{"target", nginx().http_url("/redirect")},
                            {"follow_redirects", true},
                            {"json_pointer", "/status"},
                            {"equals", "up"}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("status_code") == "200");
    CHECK(r.attributes.at("redirect_count") == "1");
    CHECK(r.attributes.at("effective_url") == nginx().http_url("/health"));
  }
  SECTION("more than max_redirects") {
    const auto r = request({{"target", nginx().http_url("/redirect")},
                            {"follow_redirects", true},
                            {"max_redirects", 0}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "Too many redirects") != nullptr);
  }
}

TEST_CASE("http: TLS verification", "[http]") {
  const std::string ca = nginx().certs().ca.string();
  SECTION("trusted with ca_file") {
    const auto r = request({{"target", nginx().https_url("/health")}, {"ca_file", ca}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("status_code") == "200");
  }
  SECTION("a private CA without ca_file is not trusted") {
    const auto r = request({{"target", nginx().https_url("/")}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "TLS certificate not trusted") != nullptr);
  }
  SECTION("insecure skips verification") {
    const auto r = request({{"target", nginx().https_url("/")}, {"insecure", true}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("tls_verify") == "off");
  }
  SECTION("expired certificate") {
    const auto r = request({{"target", tls_url(nginx().expired_port())}, {"ca_file", ca}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "TLS certificate expired") != nullptr);
  }
  SECTION("certificate for another host") {
    const auto r = request({{"target", tls_url(nginx().wrong_host_port())}, {"ca_file", ca}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "TLS certificate hostname mismatch");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("localhost") != std::string::npos);
  }
  SECTION("TLS to a plain HTTP port") {
    const auto r =
        request({{"target", "https://127.0.0.1:" + std::to_string(nginx().http_port()) + "/"}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "TLS handshake failed") != nullptr);
  }
}

TEST_CASE("http: connection refused", "[http]") {
  const std::string url = "http://127.0.0.1:" + std::to_string(triage::test::free_port()) + "/";
  const auto r = request({{"target", url}, {"samples", 2}});
  INFO(describe(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.reported_status == Status::critical);
  const auto* f = r.finding(Severity::critical, "Connection refused");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("2 of 2 requests") != std::string::npos);
  CHECK_FALSE(f->remediation.empty());
  REQUIRE(r.metric("error_rate_pct") != nullptr);
  CHECK(r.metric("error_rate_pct")->value == 100);
}

TEST_CASE("http: a server that accepts but never answers", "[http]") {
  triage::test::Blackhole hole;
  const std::string url = "http://127.0.0.1:" + std::to_string(hole.port()) + "/";
  SECTION("per-request timeout_ms") {
    const auto r = request({{"target", url}, {"timeout_ms", 200}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "timed out") != nullptr);
  }
  SECTION("the check's deadline") {
    const auto r = request({{"target", url}, {"samples", 3}}, std::chrono::milliseconds(500));
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "timed out") != nullptr);
  }
}

TEST_CASE("http: a TLS handshake that never completes is named, not the TCP connection", "[http]") {
  // Accepts TCP (the kernel completes the handshake) and never answers the
  // ClientHello. This libcurl reports a connect time of 0 until TLS is done.
  triage::test::Blackhole hole;
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    const std::string url = "https://" + host + ":" + std::to_string(hole.port()) + "/";
    const auto r = request({{"target", url}, {"timeout_ms", 300}, {"samples", 2}});
    INFO(url << "\n" << describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "TLS handshake timed out");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("2 of 2 requests: Connected to " + url +
                         ", but the TLS handshake did not finish within 300 ms") == 0);
    CHECK(f->remediation.find("speaks TLS") != std::string::npos);
    CHECK(r.summary == "all 2 requests failed: TLS handshake timed out");
    CHECK(r.finding(Severity::critical, "Connection timed out") == nullptr);
    CHECK_FALSE(reported_anywhere(r, "No TCP connection"));
    CHECK_FALSE(reported_anywhere(r, "firewalls"));
  }
}

namespace {

// A listener on 127.0.0.1 whose accept queue is full and never drained: the
// kernel drops every further SYN, so a TCP connect to it never completes.
class FullListener {
 public:
  FullListener() {
    sockaddr_in in{};
    REQUIRE(triage::network::test::listen_on_loopback(fd_, 0, in));
    port_ = ntohs(in.sin_port);
    for (int i = 0; i < 4; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      REQUIRE(c >= 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&in), sizeof in);  // in progress or done
      fillers_.push_back(c);
    }
  }
  ~FullListener() {
    for (int c : fillers_) ::close(c);
    ::close(fd_);
  }
  FullListener(const FullListener&) = delete;
  FullListener& operator=(const FullListener&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::uint16_t port_ = 0;
  std::vector<int> fillers_;
};

}  // namespace

TEST_CASE("http: timeouts name the step that did not finish", "[http]") {
  SECTION("no TCP connection: a full accept queue drops the SYN") {
    FullListener full;
    const std::string url = "https://127.0.0.1:" + std::to_string(full.port()) + "/";
    const auto r = request({{"target", url}, {"timeout_ms", 300}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Connection timed out");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("No TCP connection to " + url + " within 300 ms") == 0);
    CHECK(r.finding(Severity::critical, "TLS handshake") == nullptr);
  }
  SECTION("plain HTTP, connected, no answer: the response") {
    triage::test::Blackhole hole;
    const std::string url = "http://127.0.0.1:" + std::to_string(hole.port()) + "/";
    const auto r = request({{"target", url}, {"timeout_ms", 300}});
    INFO(describe(r));
    const auto* f = r.finding(Severity::critical, "Response timed out");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("Connected to " + url + " but no complete response arrived") == 0);
  }
}

TEST_CASE("http: header values are sent but never reported", "[http]") {
  const std::string secret = "Bearer s3cr3t-7f1c9e";
  SECTION("the server sees the header") {
    const auto r = request({{"target", nginx().http_url("/echo-header")},
                            {"headers", {{"X-Triage-Test", secret}}},
                            {"body_contains", secret}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
    CHECK_FALSE(reported_anywhere(r, secret));
    CHECK_FALSE(reported_anywhere(r, "s3cr3t"));
  }
  SECTION("nor when the request fails") {
    const auto r = request({{"target", nginx().http_url("/status/500")},
                            {"headers", {{"Authorization", secret}, {"X-Triage-Test", secret}}},
                            {"method", "POST"},
                            {"body", "password=" + secret}});
    INFO(describe(r));
    CHECK(r.status() == Status::critical);
    CHECK_FALSE(reported_anywhere(r, "s3cr3t"));
  }
  SECTION("nor credentials in the URL") {
    const std::string url =
        "http://ops:s3cr3t@127.0.0.1:" + std::to_string(nginx().http_port()) + "/";
    const auto r = request({{"target", url}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
    CHECK_FALSE(reported_anywhere(r, "s3cr3t"));
  }
  SECTION("nor a bad header value in the param error") {
    const auto r = request({{"target", nginx().http_url("/")},
                            {"headers", {{"Authorization", "s3cr3t\r\nX-Injected: 1"}}}});
    CHECK(r.status() == Status::unknown);
    CHECK_FALSE(reported_anywhere(r, "s3cr3t"));
  }
}

TEST_CASE("http: methods", "[http]") {
  SECTION("HEAD") {
    const auto r = request({{"target", nginx().http_url("/")}, {"method", "HEAD"}});
    INFO(describe(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("method") == "HEAD");
  }
  SECTION("POST with a body") {
    const auto r = request({{"target", nginx().http_url("/")},
                            {"method", "post"},
                            {"headers", {{"Content-Type", "application/json"}}},
                            {"body", R"({"probe":true})"}});
    INFO(describe(r));
    REQUIRE(r.attributes.count("status_code") == 1);
    CHECK(r.attributes.at("method") == "POST");
  }
}

TEST_CASE("http: malformed params end unknown with an error", "[http]") {
  const std::string url = "http://127.0.0.1:1/";  // never contacted: params are checked first
  const json cases[] = {
      json::object(),
      {{"target", "ftp://127.0.0.1/"}},
      {{"target", "not a url"}},
      {{"target", url}, {"samples", 0}},
      {{"target", url}, {"samples", "5"}},
      {{"target", url}, {"concurrency", 65}},
      {{"target", url}, {"expect_status", "200"}},
      {{"target", url}, {"expect_status", {200, 999}}},
      {{"target", url}, {"headers", {"X-A", "b"}}},
      {{"target", url}, {"headers", {{"Bad Name", "b"}}}},
      {{"target", url}, {"method", "GET /x"}},
      {{"target", url}, {"json_pointer", "status"}},
      {{"target", url}, {"equals", "up"}},
      {{"target", url}, {"one_of", {"up"}}},
      {{"target", url}, {"json_pointer", "/s"}, {"one_of", json::array()}},
      {{"target", url}, {"json_pointer", "/s"}, {"one_of", "up"}},
      {{"target", url}, {"json_pointer", "/s"}, {"one_of", {"up"}}, {"equals", "up"}},
      {{"target", url}, {"json_metrics", {"lag", "/lag"}}},
      {{"target", url}, {"json_metrics", {{"lag", "lag"}}}},
      {{"target", url}, {"json_metrics", {{"lag", 3}}}},
      {{"target", url}, {"json_metrics", {{"bad name", "/lag"}}}},
      {{"target", url}, {"json_metrics", {{"error_rate_pct", "/rate"}}}},
      {{"target", url}, {"ca_file", "/nonexistent/ca.pem"}},
      {{"target", url}, {"max_redirects", -1}},
      {{"target", url}, {"timeout_ms", 0}},
      {{"target", url}, {"expect", 200}},
  };
  for (const auto& params : cases) {
    INFO(params.dump());
    const auto r = request(params);
    CHECK(r.status() == Status::unknown);
    CHECK_FALSE(r.error.empty());
    CHECK(r.findings.empty());
  }
}

TEST_CASE("http: a ca_file without certificates ends unknown", "[http]") {
  triage::test::TempDir dir;
  const auto path = dir.path() / "garbage.pem";
  std::ofstream(path) << "not a certificate\n";
  const auto r = request({{"target", nginx().https_url("/")}, {"ca_file", path.string()}});
  INFO(describe(r));
  CHECK(r.status() == Status::unknown);
  CHECK(r.error.find("ca_file") != std::string::npos);
}

TEST_CASE("http: a cancelled run stops and reports no verdict", "[http]") {
  triage::test::Blackhole hole;
  std::atomic<bool> cancel{true};
  triage::testing::Options options;
  options.cancel = &cancel;
  const auto r = triage::testing::run<HttpCheck>(
      {{"target", "http://127.0.0.1:" + std::to_string(hole.port()) + "/"}}, options);
  INFO(describe(r));
  CHECK(r.status() == Status::unknown);
  CHECK(r.findings.empty());
}
