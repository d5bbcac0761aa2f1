// The etcd check against real etcd clusters (Debian's etcd-server 3.4)
// started on 127.0.0.1 by tests/support/etcd.hpp: healthy, one member and
// then two stopped, discovery from one URL, the NOSPACE alarm, TLS with our
// own CA, etcd auth, an endpoint that never answers, bad params and a cancel.
// No test sleeps to pass and none asserts on timing.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include <triage/testing.hpp>

#include "check_result.hpp"
#include "checks.hpp"
#include "etcd.hpp"

using nlohmann::json;
using triage::Severity;
using triage::Status;
using triage::cluster::EtcdCheck;
using triage::test::all_text;
using triage::test::Blackhole;
using triage::test::EtcdCluster;
using triage::test::EtcdOptions;
using triage::test::has;
using triage::test::value;
namespace testing = triage::testing;

namespace {

// Generous: a CI machine with 2 cores runs other work beside three etcds.
// health_ms is about speed, which benchmarks measure, not tests.
testing::Options options(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  testing::Options o(timeout);
  o.thresholds["health_ms"] = {"~:", "~:"};
  return o;
}

testing::Result run(const json& params, testing::Options o = options()) {
  return testing::run<EtcdCheck>(params, o);
}

}  // namespace

TEST_CASE("etcd: a healthy 3-member cluster, by endpoints and by discovery", "[etcd]") {
  EtcdCluster etcd;

  const auto r = run({{"target", "etcd-test"}, {"endpoints", etcd.client_urls()}});
  INFO(all_text(r));
  CHECK(r.error.empty());
  CHECK(r.refused_params.empty());
  CHECK(r.undeclared.empty());
  CHECK(r.status() == Status::ok);
  CHECK(value(r, "members") == 3);
  CHECK(value(r, "members_healthy") == 3);
  CHECK(value(r, "has_quorum") == 1);
  CHECK(value(r, "leader_agreed") == 1);
  CHECK(value(r, "alarms") == 0);
  CHECK(value(r, "raft_index_spread") >= 0);
  CHECK(value(r, "db_size_pct") < 80);
  CHECK(value(r, "db_size_bytes") > 0);
  CHECK(r.findings.empty());
  REQUIRE(r.attributes.count("leader") == 1);
  CHECK(has(r.attributes.at("leader"), "m"));
  CHECK(has(r.summary, "3/3 members healthy"));
  CHECK(r.attributes.at("quota_bytes") == "2147483648 (etcd default)");
  CHECK(r.attributes.at("version") == "3.4.23");

  // One URL alone: the other two members come from its member list.
  const auto d = run({{"target", etcd.client_url(1)}});
  INFO(all_text(d));
  CHECK(d.status() == Status::ok);
  CHECK(value(d, "members") == 3);
  CHECK(value(d, "members_healthy") == 3);
  CHECK(value(d, "has_quorum") == 1);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(d.attributes.count("member." + etcd.name(i)) == 1);
    CHECK(has(d.attributes.at("member." + etcd.name(i)), etcd.client_url(i)));
  }
}

TEST_CASE("etcd: stopped members: warning with quorum, critical without, ok once back", "[etcd]") {
  EtcdCluster etcd;
  const int leader = etcd.leader();
  REQUIRE(leader >= 0);
  // Followers, so that no election runs while the check asks.
  const int first = (leader + 1) % 3, second = (leader + 2) % 3;

  etcd.stop(first);
  for (const json& params : {json{{"target", etcd.client_url(leader)}},
                             json{{"target", "etcd"}, {"endpoints", etcd.client_urls()}}}) {
    const auto r = run(params);
    INFO(params.dump() << "\n" << all_text(r));
    CHECK(r.status() == Status::warning);
    CHECK(value(r, "members") == 3);
    CHECK(value(r, "members_healthy") == 2);
    CHECK(value(r, "has_quorum") == 1);
    CHECK(value(r, "leader_agreed") == 1);
    const auto* f = r.finding(Severity::warning, "etcd member " + etcd.name(first) + " (" +
                                                     etcd.client_url(first) + ") is down");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "tolerates 0 more failure(s)"));
    CHECK(has(f->remediation, "journalctl -u etcd"));
    CHECK(has(r.summary, "unhealthy: " + etcd.name(first)));
    CHECK(r.finding(Severity::critical) == nullptr);
  }

  etcd.stop(second);
  for (const json& params : {json{{"target", etcd.client_url(leader)}},
                             json{{"target", "etcd"}, {"endpoints", etcd.client_urls()}}}) {
    const auto r = run(params);
    INFO(params.dump() << "\n" << all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(value(r, "members") == 3);
    CHECK(value(r, "members_healthy") < 2);
    CHECK(value(r, "has_quorum") == 0);
    const auto* lost = r.finding(Severity::critical, "lost quorum");
    REQUIRE(lost != nullptr);
    CHECK(has(lost->remediation, "snapshot restore"));
    for (const int i : {first, second})
      CHECK(r.finding(Severity::critical, "etcd member " + etcd.name(i) + " (" +
                                              etcd.client_url(i) + ") is down") != nullptr);
    CHECK(has(r.summary, "quorum lost"));
  }

  etcd.start(first);
  etcd.start(second);
  const auto back = run({{"target", etcd.client_url(first)}});
  INFO(all_text(back));
  CHECK(back.status() == Status::ok);
  CHECK(value(back, "members_healthy") == 3);
}

TEST_CASE("etcd: the NOSPACE alarm is critical with compact, defrag and disarm", "[etcd]") {
  EtcdOptions o;
  o.quota_backend_bytes = 1 << 20;
  EtcdCluster etcd(3, o);
  etcd.fill_until_nospace();

  const auto r = run({{"target", etcd.client_url(2)}, {"quota_bytes", 1 << 20}});
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  // The alarm stops writes, not raft: every member is still healthy.
  CHECK(value(r, "members_healthy") == 3);
  CHECK(value(r, "has_quorum") == 1);
  CHECK(value(r, "alarms") >= 1);
  CHECK(r.metric("alarms")->status == Status::critical);
  CHECK(value(r, "db_size_pct") > 80);
  const auto* f = r.finding(Severity::critical, "etcd alarm NOSPACE is active");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "database space exceeded"));
  CHECK(has(f->remediation, " compact REVISION"));
  CHECK(has(f->remediation, " defrag"));
  CHECK(has(f->remediation, " alarm disarm"));
  CHECK(has(f->remediation, etcd.client_url(2)));
  CHECK(has(r.summary, "alarm NOSPACE"));
  CHECK(r.attributes.at("quota_bytes") == "1048576 (quota_bytes)");
}

TEST_CASE("etcd: TLS with our own CA", "[etcd]") {
  EtcdOptions o;
  o.tls = true;
  EtcdCluster etcd(3, o);

  const auto ok = run({{"target", etcd.client_url(0)}, {"ca_file", etcd.certs().ca.string()}});
  INFO(all_text(ok));
  CHECK(ok.status() == Status::ok);
  CHECK(value(ok, "members") == 3);
  CHECK(value(ok, "members_healthy") == 3);
  CHECK(has(ok.attributes.at("member.m2"), "https://127.0.0.1:"));

  // The system's CAs do not know ours: a TLS failure, said so.
  const auto untrusted = run({{"target", etcd.client_url(0)}});
  INFO(all_text(untrusted));
  CHECK(untrusted.status() == Status::critical);
  CHECK(untrusted.metric("has_quorum") == nullptr);
  const auto* f = untrusted.finding(Severity::critical, "does not answer");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "certificate"));
  CHECK(has(f->remediation, "ca_file"));
  CHECK(has(untrusted.summary, "certificate"));
}

TEST_CASE("etcd: mutual TLS with a client certificate", "[etcd]") {
  EtcdOptions o;
  o.tls = true;
  o.client_cert_auth = true;
  EtcdCluster etcd(3, o);
  const auto& certs = etcd.certs();
  const auto ok = run({{"target", etcd.client_url(0)},
                       {"ca_file", certs.ca.string()},
                       {"cert_file", certs.client_cert.string()},
                       {"key_file", certs.client_key.string()}});
  INFO(all_text(ok));
  CHECK(ok.status() == Status::ok);
  CHECK(value(ok, "members_healthy") == 3);
  // The key file's path is a secret param: never shown.
  CHECK_FALSE(has(all_text(ok), certs.client_key.string()));

  // Without the certificate, etcd refuses the handshake: a TLS failure, said so.
  const auto refused = run({{"target", etcd.client_url(0)}, {"ca_file", certs.ca.string()}});
  INFO(all_text(refused));
  CHECK(refused.status() == Status::critical);
  CHECK(refused.metric("has_quorum") == nullptr);
  REQUIRE(refused.finding(Severity::critical, "does not answer") != nullptr);
}

TEST_CASE("etcd: credentials are checked and the password never appears", "[etcd]") {
  const std::string password = "Etcd-Secret-4711-x";
  EtcdOptions o;
  o.root_password = password;
  EtcdCluster etcd(1, o);

  const auto good =
      run({{"target", etcd.client_url(0)}, {"username", "root"}, {"password", password}});
  INFO(all_text(good));
  CHECK(good.status() == Status::ok);
  CHECK(good.attributes.at("auth") == "user root authenticated");
  CHECK_FALSE(has(all_text(good), password));

  const std::string wrong = "Wrong-Password-0815";
  const auto bad = run({{"target", etcd.client_url(0)}, {"username", "root"}, {"password", wrong}});
  INFO(all_text(bad));
  CHECK(bad.status() == Status::critical);
  CHECK(bad.finding(Severity::critical, "etcd refused the credentials of user root") != nullptr);
  CHECK_FALSE(has(all_text(bad), wrong));
  CHECK_FALSE(has(all_text(bad), password));
}

TEST_CASE("etcd: an endpoint that never answers is named; the members are still judged", "[etcd]") {
  EtcdCluster etcd;
  Blackhole hole;
  const std::string silent = "http://127.0.0.1:" + std::to_string(hole.port());
  auto urls = etcd.client_urls();
  urls.push_back(silent);

  const auto r = run({{"target", "etcd"}, {"endpoints", urls}}, options(std::chrono::seconds(6)));
  INFO(all_text(r));
  CHECK(r.status() == Status::warning);
  CHECK(value(r, "members") == 3);
  CHECK(value(r, "members_healthy") == 3);
  CHECK(value(r, "has_quorum") == 1);
  const auto* f = r.finding(Severity::warning, "Endpoint " + silent + " does not answer");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "no answer within"));
}

TEST_CASE("etcd: bad params end unknown, naming the param", "[etcd]") {
  const std::string url = "http://127.0.0.1:1";
  struct Case {
    json params;
    std::string names;
  };
  const std::vector<Case> cases{
      {json::object(), "'target'"},
      {{{"target", "http://root:hunter2@127.0.0.1:2379"}}, "'target'"},
      {{{"target", "etcd-main"}}, "'target'"},
      {{{"target", "etcd"},
        {"endpoints", json::array({url, "https://root:hunter2@127.0.0.1:2379"})}},
       "'endpoints[1]'"},
      {{{"target", "etcd"}, {"endpoints", json::array()}}, "'endpoints'"},
      {{{"target", url}, {"cert_file", "/etc/hostname"}}, "'key_file'"},
      {{{"target", url}, {"username", "root"}}, "'password'"},
      {{{"target", url}, {"quota_bytes", 0}}, "'quota_bytes'"},
      {{{"target", url}, {"ca_file", "/nonexistent/ca.pem"}}, "'ca_file'"},
      {{{"target", url}, {"bearer_token", "x"}}, "'bearer_token'"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.params);
    INFO(c.params.dump() << "\n" << all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, c.names));
    CHECK_FALSE(has(all_text(r), "hunter2"));
    CHECK(r.metrics.empty());
  }
}

TEST_CASE("etcd: a cancelled run ends unknown at once", "[etcd]") {
  Blackhole hole;
  std::atomic<bool> cancel{true};
  testing::Options o(std::chrono::seconds(30), &cancel);
  const auto r = run({{"target", "http://127.0.0.1:" + std::to_string(hole.port())}}, o);
  INFO(all_text(r));
  CHECK(r.status() == Status::unknown);
  CHECK(has(r.error, "cancelled"));
}
