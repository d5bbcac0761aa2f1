// The geo_replication check: Get Blob Service Stats on the secondary endpoint.
//
// Against a real Azurite where it can: Azurite 3.37 serves Get Blob Service
// Stats on the path-style secondary /devstoreaccount1-secondary (always
// "live", LastSyncTime = the request time), with Shared Key and SAS checked
// as for any request — the healthy case, a wrong key and a SAS.
//
// Everything Azurite cannot produce (lag, bootstrap, unavailable, a missing
// LastSyncTime, 403 InsufficientAccountPermissions on an account without
// read access to its secondary, 401/403 auth failures, 503 ServerBusy and 429
// with Retry-After, 500, a slow answer, malformed bodies) comes from the
// documented-response replay tests/support/replays/azure_storage.json, NOT
// the service, written from:
//   https://learn.microsoft.com/en-us/rest/api/storageservices/get-blob-service-stats
//   https://learn.microsoft.com/en-us/rest/api/storageservices/common-rest-api-error-codes
//   https://learn.microsoft.com/en-us/rest/api/storageservices/status-and-error-codes2
//   https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-azure-active-directory
//   https://learn.microsoft.com/en-us/azure/storage/common/last-sync-time-get
//   https://learn.microsoft.com/en-us/rest/api/storageservices/create-account-sas
// An endpoint that never answers is a Blackhole.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include <triage/testing.hpp>
#include "azure_endpoint.hpp"
#include "azure_sas.hpp"
#include "azure_signing.hpp"
#include "azurite_auth.hpp"
#include "checks.hpp"
#include "replay_server.hpp"
#include "services.hpp"

using triage::ParamError;
using triage::Severity;
using triage::Status;
using triage::storage::GeoReplicationCheck;
using triage::test::Azurite;
using triage::test::ReplayServer;
using triage::testing::Result;
using json = nlohmann::json;
namespace azure = triage::storage::azure;
using triage::storage::test::account_sas;
using triage::storage::test::require_no_secret;
using triage::test::all_text;

namespace {

constexpr const char* kWrongKey =
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
constexpr const char* kToken = "geo-replay-bearer-token-SECRET";

Azurite& azurite() {
  static Azurite instance;
  return instance;
}

Result run(const json& p, std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
  return triage::testing::run<GeoReplicationCheck>(p, {timeout});
}

json replay_params(const ReplayServer& server, json extra = json::object()) {
  json p{{"target", server.url("/myaccount")},
         {"bearer_token", kToken},
         {"ca_file", server.certs().ca.string()}};
  p.update(extra);
  return p;
}

Result replay(const std::string& scenario, json extra = json::object(),
              std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
  ReplayServer server(std::string("azure_storage"), scenario);
  return run(replay_params(server, std::move(extra)), timeout);
}

}  // namespace

// ---- the secondary endpoint ----

TEST_CASE("geo_replication: the secondary endpoint is derived from the primary",
          "[geo_replication]") {
  auto secondary = [](const std::string& target) {
    return azure::secondary_endpoint(azure::parse_endpoint(target, "")).shown();
  };
  CHECK(secondary("https://contosolake.blob.core.windows.net") ==
        "https://contosolake-secondary.blob.core.windows.net");
  CHECK(secondary("https://ContosoLake.blob.core.windows.net/") ==
        "https://contosolake-secondary.blob.core.windows.net");
  // ADLS Gen2: the .dfs. host's blob twin.
  CHECK(secondary("https://contosolake.dfs.core.windows.net") ==
        "https://contosolake-secondary.blob.core.windows.net");
  CHECK(secondary("https://gov.blob.core.usgovcloudapi.net") ==
        "https://gov-secondary.blob.core.usgovcloudapi.net");
  CHECK(secondary("http://127.0.0.1:10000/devstoreaccount1") ==
        "http://127.0.0.1:10000/devstoreaccount1-secondary");
  // The signature keeps naming the primary account.
  CHECK(azure::secondary_endpoint(azure::parse_endpoint("http://127.0.0.1:1/acct", "")).account ==
        "acct");
  CHECK_THROWS_AS(secondary("https://files.contoso.com"), ParamError);
  CHECK_THROWS_AS(secondary("https://10.0.0.5"), ParamError);
}

// ---- against Azurite ----

TEST_CASE("geo_replication: Azurite's secondary reports live replication", "[geo_replication]") {
  const auto r = run({{"target", azurite().endpoint()}, {"account_key", Azurite::kKey}});
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("replication_status") == "live");
  CHECK(r.attributes.at("secondary_endpoint") ==
        "http://127.0.0.1:" + std::to_string(azurite().port()) + "/devstoreaccount1-secondary");
  CHECK(r.attributes.at("account") == "devstoreaccount1");
  CHECK(r.attributes.at("rpo") == "1h");
  REQUIRE(r.metric("last_sync_age_s") != nullptr);
  CHECK(r.metric("last_sync_age_s")->unit == "s");
  CHECK(r.metric("last_sync_age_s")->value >= 0);
  CHECK(r.metric("last_sync_age_s")->value < 60);  // Azurite: the request time
  CHECK(r.metric("last_sync_age_s")->status == Status::ok);
  CHECK(r.findings.empty());
  CHECK(r.summary.find("live") != std::string::npos);
  require_no_secret(r, Azurite::kKey);
}

TEST_CASE("geo_replication: an account SAS with service scope works on the secondary",
          "[geo_replication]") {
  using namespace std::chrono;
  const std::string sas = account_sas("rl", system_clock::now() + hours(24 * 30));
  const auto r = run({{"target", azurite().endpoint()}, {"sas_token", sas}});
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("auth") == "sas");
  CHECK(r.metric("last_sync_age_s") != nullptr);
  require_no_secret(r, azure::percent_decode(sas.substr(sas.find("sig=") + 4)));
}

TEST_CASE("geo_replication: a wrong key is refused by Azurite's secondary", "[geo_replication]") {
  const auto r = run({{"target", azurite().endpoint()}, {"account_key", kWrongKey}});
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "account key was rejected") != nullptr);
  CHECK(r.attributes.at("http_status") == "403");
  CHECK(r.metric("last_sync_age_s") == nullptr);
  require_no_secret(r, kWrongKey);
}

// ---- from the documented-response replay ----

TEST_CASE("geo_replication: live and recently synced is ok; the request is as documented",
          "[geo_replication]") {
  ReplayServer server(std::string("azure_storage"), "live");
  const auto r = run(replay_params(server));
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  REQUIRE(r.metric("last_sync_age_s") != nullptr);
  CHECK(r.metric("last_sync_age_s")->value > 100);
  CHECK(r.metric("last_sync_age_s")->value < 200);
  CHECK(r.attributes.at("replication_status") == "live");
  CHECK(r.attributes.count("last_sync_time") == 1);
  CHECK(r.attributes.count("request_id") == 1);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const auto& q = requests.front();
  CHECK(q.method == "GET");
  CHECK(q.path == "/myaccount-secondary/");
  CHECK(q.query.find("restype")->second == "service");
  CHECK(q.query.find("comp")->second == "stats");
  CHECK(q.headers.find("x-ms-version")->second == "2021-08-06");
  CHECK(q.headers.count("x-ms-date") == 1);
  CHECK(q.headers.find("authorization")->second == std::string("Bearer ") + kToken);
  require_no_secret(r, kToken);
}

TEST_CASE("geo_replication: a last sync past 75 % of the RPO is a warning, past it critical",
          "[geo_replication]") {
  SECTION("50 min behind, RPO 1 h") {
    const auto r = replay("lagging");
    INFO(all_text(r));
    CHECK(r.status() == Status::warning);
    REQUIRE(r.metric("last_sync_age_s") != nullptr);
    CHECK(r.metric("last_sync_age_s")->status == Status::warning);
    const auto* f = r.finding(Severity::warning, "Data Lake RPO at risk");
    REQUIRE(f != nullptr);
    CHECK(f->remediation.find("1 hour") != std::string::npos);
  }
  SECTION("3 h behind, RPO 1 h") {
    const auto r = replay("far_behind");
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.metric("last_sync_age_s")->status == Status::critical);
    CHECK(r.finding(Severity::critical, "Data Lake RPO missed") != nullptr);
  }
  SECTION("3 h behind, RPO 5h") {
    const auto r = replay("far_behind", {{"rpo", "5h"}});
    INFO(all_text(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.metric("last_sync_age_s")->status == Status::ok);
    CHECK(r.attributes.at("rpo") == "5h");
  }
}

TEST_CASE("geo_replication: bootstrap is a warning: initial sync in progress",
          "[geo_replication]") {
  const auto r = replay("bootstrap");
  INFO(all_text(r));
  CHECK(r.status() == Status::warning);
  CHECK(r.attributes.at("replication_status") == "bootstrap");
  CHECK(r.metric("last_sync_age_s") == nullptr);  // LastSyncTime is empty
  const auto* f = r.finding(Severity::warning, "initial sync in progress");
  REQUIRE(f != nullptr);
  CHECK(r.summary.find("no LastSyncTime") != std::string::npos);
}

TEST_CASE("geo_replication: unavailable is critical and points at Azure Service Health",
          "[geo_replication]") {
  const auto r = replay("unavailable");
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.attributes.at("replication_status") == "unavailable");
  const auto* f = r.finding(Severity::critical, "Secondary region unavailable");
  REQUIRE(f != nullptr);
  CHECK(f->remediation.find("check Azure Service Health") != std::string::npos);
  CHECK(f->remediation.find("at risk") != std::string::npos);
  CHECK(r.metric("last_sync_age_s") != nullptr);  // its last sync is still reported
}

TEST_CASE("geo_replication: live without LastSyncTime is a warning", "[geo_replication]") {
  const auto r = replay("live_no_sync");
  INFO(all_text(r));
  CHECK(r.status() == Status::warning);
  CHECK(r.metric("last_sync_age_s") == nullptr);
  CHECK(r.finding(Severity::warning, "no LastSyncTime") != nullptr);
}

TEST_CASE("geo_replication: an account without read access to its secondary is named",
          "[geo_replication]") {
  const auto r = replay("no_ragrs");
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Read access to the secondary region");
  REQUIRE(f != nullptr);
  CHECK(f->remediation.find("RA-GRS") != std::string::npos);
  CHECK(r.attributes.at("error_code") == "InsufficientAccountPermissions");
  CHECK(r.attributes.at("http_status") == "403");
  CHECK(r.attributes.count("request_id") == 1);
}

TEST_CASE("geo_replication: 401 and 403 authentication failures name the credential",
          "[geo_replication]") {
  SECTION("401 InvalidAuthenticationInfo for an expired bearer token") {
    const auto r = replay("bad_token");
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "bearer token was rejected") != nullptr);
    CHECK(r.attributes.at("http_status") == "401");
    CHECK(r.attributes.at("error_code") == "InvalidAuthenticationInfo");
    require_no_secret(r, kToken);
  }
  SECTION("403 AuthenticationFailed for a wrong account key") {
    ReplayServer server(std::string("azure_storage"), "bad_key");
    json p = replay_params(server);
    p.erase("bearer_token");
    p["account_key"] = kWrongKey;
    const auto r = run(p);
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "account key was rejected") != nullptr);
    REQUIRE(server.requests().size() == 1);
    // Signed for the primary account, never "-secondary".
    CHECK(server.requests()
              .front()
              .headers.find("authorization")
              ->second.rfind("SharedKey myaccount:", 0) == 0);
    require_no_secret(r, kWrongKey);
  }
}

TEST_CASE("geo_replication: throttling with Retry-After is waited out once", "[geo_replication]") {
  for (const char* scenario : {"busy_once", "throttled_429_once"}) {
    ReplayServer server(std::string("azure_storage"), scenario);
    const auto r = run(replay_params(server));
    INFO(scenario << "\n" << all_text(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("replication_status") == "live");
    CHECK(server.requests().size() == 2);
  }
}

TEST_CASE("geo_replication: a Retry-After past the deadline is reported, not waited for",
          "[geo_replication]") {
  ReplayServer server(std::string("azure_storage"), "busy");
  const auto r = run(replay_params(server), std::chrono::milliseconds(5000));
  INFO(all_text(r));
  CHECK(r.status() == Status::warning);
  CHECK(r.finding(Severity::warning, "ServerBusy") != nullptr);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("geo_replication: a 500 is a storage service error", "[geo_replication]") {
  const auto r = replay("server_error");
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "Storage service error (HTTP 500)") != nullptr);
  CHECK(r.attributes.at("error_code") == "InternalError");
}

TEST_CASE("geo_replication: malformed answers end unknown with a finding", "[geo_replication]") {
  for (const char* scenario : {"malformed", "not_xml", "bad_date"}) {
    const auto r = replay(scenario);
    INFO(scenario << "\n" << all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(r.finding(Severity::warning, "Unreadable Get Blob Service Stats response") != nullptr);
    CHECK(r.metric("last_sync_age_s") == nullptr);
    require_no_secret(r, kToken);
  }
}

TEST_CASE("geo_replication: a slow answer ends at the check's deadline", "[geo_replication]") {
  const auto r = replay("slow", json::object(), std::chrono::milliseconds(1500));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "did not answer in time") != nullptr);
  CHECK(r.metric("last_sync_age_s") == nullptr);
}

TEST_CASE("geo_replication: an endpoint that never answers ends at the deadline",
          "[geo_replication]") {
  triage::test::Blackhole hole;
  const auto r = run({{"target", "http://127.0.0.1:" + std::to_string(hole.port()) + "/acct"},
                      {"account_key", Azurite::kKey}},
                     std::chrono::milliseconds(1000));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "did not answer in time") != nullptr);
}

TEST_CASE("geo_replication: 'secondary' overrides the derived endpoint", "[geo_replication]") {
  ReplayServer server(std::string("azure_storage"), "live");
  // The primary is never contacted: only the secondary is asked.
  const auto r = run({{"target", "https://myaccount.blob.core.windows.net"},
                      {"secondary", server.url("/myaccount-secondary")},
                      {"bearer_token", kToken},
                      {"ca_file", server.certs().ca.string()}});
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("account") == "myaccount");
  CHECK(r.attributes.at("secondary_endpoint") == server.url("/myaccount-secondary"));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("geo_replication: bad params end unknown with a clear message that quotes no secret",
          "[geo_replication]") {
  const std::string target = "http://127.0.0.1:1/devstoreaccount1";
  struct Case {
    json p;
    std::string message;
  };
  const std::vector<Case> cases{
      {{{"target", target}, {"rpo", "soon"}}, "rpo"},
      {{{"target", target}, {"rpo", "0"}}, "rpo"},
      {{{"target", target}, {"container", "lake"}}, "unknown param 'container'"},
      {{{"target", "https://files.contoso.com"}, {"account_key", Azurite::kKey}}, "secondary"},
      {{{"target", target}, {"secondary", "http://127.0.0.1:1/x?sig=SECRET"}}, "secondary"},
      {{{"target", "https://a.blob.core.windows.net"},
        {"secondary", "http://127.0.0.1:1/a-secondary"},
        {"bearer_token", "tok-SECRET"}},
       "https"},
      {{{"target", target}, {"account_key", "not*base64-SECRET"}}, "base64"},
      {{{"target", target}, {"sas_token", "sv=2021&se=x-SECRET"}}, "sig"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.p);
    INFO(c.p.dump() << "\n" << all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find(c.message) != std::string::npos);
    CHECK(r.error.find("SECRET") == std::string::npos);
  }
}

TEST_CASE("geo_replication: the params schema describes every param and marks the secrets",
          "[geo_replication]") {
  const auto schema = json::parse(GeoReplicationCheck::params_schema);
  for (const auto& [name, prop] : schema.at("properties").items()) {
    INFO(name);
    CHECK_FALSE(prop.value("description", "").empty());
  }
  for (const char* secret : {"account_key", "sas_token", "bearer_token"}) {
    INFO(secret);
    const auto& prop = schema.at("properties").at(secret);
    CHECK(prop.value("writeOnly", false));
    CHECK(prop.value("x-triage-secret", false));
  }
  REQUIRE(GeoReplicationCheck::metrics.size() == 1);
  CHECK(GeoReplicationCheck::metrics.begin()->name() == "last_sync_age_s");
}

TEST_CASE("geo_replication: a secondary name that does not resolve points at the redundancy",
          "[geo_replication]") {
  const auto r =
      run({{"target", "http://triage-missing.invalid/acct"}, {"account_key", Azurite::kKey}});
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "The secondary endpoint does not resolve");
  REQUIRE(f != nullptr);
  CHECK(f->remediation.find("RA-GRS") != std::string::npos);
}
