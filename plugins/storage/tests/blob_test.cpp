// The blob check against a real Azurite (the Azure Storage emulator) on
// loopback: Shared Key with the right and a wrong key, a missing container,
// the write probe, account SAS tokens (valid, expired, without list
// permission; Azurite validates SAS signatures and expiry), bearer tokens
// over HTTPS (Azurite --oauth basic checks a token's claims, not its
// signature), anonymous access, DNS and connection failures and the deadline.
// The newest-blob scan (newest_blob_age_s) runs on real uploads under a
// prefix, paged with page_size; sas_expires_in_hours on real account SAS
// tokens signed with the emulator key.
// Throttling (503 ServerBusy) cannot be produced by Azurite: its mapping is
// unit-tested in azure_unit_test.cpp. Neither can blobs that are hours old
// (Azurite stamps Last-Modified with the upload time), so the stale cases
// run against the documented-response replay tests/support/replays/
// azure_storage.json, written from:
//   https://learn.microsoft.com/en-us/rest/api/storageservices/list-blobs
//   https://learn.microsoft.com/en-us/rest/api/storageservices/enumerating-blob-resources
//   https://learn.microsoft.com/en-us/rest/api/storageservices/create-account-sas
#include <curl/curl.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <triage/testing.hpp>
#include "azure_endpoint.hpp"
#include "azure_identity.hpp"
#include "azure_sas.hpp"
#include "azure_signing.hpp"
#include "azurite_auth.hpp"
#include "checks.hpp"
#include "replay_server.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::storage::BlobCheck;
using triage::test::Azurite;
using triage::testing::Result;
using json = nlohmann::json;
namespace azure = triage::storage::azure;
using triage::storage::test::account_sas;
using triage::storage::test::require_no_secret;
using triage::test::all_text;

namespace {

// Any valid base64 key that is not the account's.
constexpr const char* kWrongKey =
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

std::vector<unsigned char> dev_key() {
  return *azure::base64_decode(Azurite::kKey);
}

// A Shared Key-signed PUT straight through libcurl, so that the fixture's
// containers and blobs do not depend on the check under test; the HTTP status.
long signed_put(const std::string& origin, const std::string& path,
                const std::vector<azure::Header>& query, std::vector<azure::Header> headers,
                const std::string& body, const std::string& ca_file = {}) {
  headers.emplace_back("x-ms-date", azure::rfc1123(std::chrono::system_clock::now()));
  headers.emplace_back("x-ms-version", "2021-08-06");
  headers.emplace_back("Content-Length", std::to_string(body.size()));
  const azure::SignedParts parts{"PUT", Azurite::kAccount, path, query, headers};
  headers.emplace_back("Authorization",
                       azure::shared_key_authorization(Azurite::kAccount, dev_key(), parts));
  curl_slist* list = nullptr;
  for (const auto& [n, v] : headers) list = curl_slist_append(list, (n + ": " + v).c_str());
  // No Content-Type unless signed (libcurl would add a form type to a body).
  bool typed = false;
  for (const auto& h : headers) typed = typed || h.first == "Content-Type";
  if (!typed) list = curl_slist_append(list, "Content-Type:");
  list = curl_slist_append(list, "Expect:");
  CURL* e = curl_easy_init();
  const std::string url = origin + path + azure::query_string(query, "");
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
  if (!ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(
      e, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  const CURLcode rc = curl_easy_perform(e);
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(e);
  curl_slist_free_all(list);
  return rc == CURLE_OK ? status : -static_cast<long>(rc);
}

void create_container(const std::string& origin, const std::string& name,
                      const std::string& ca_file = {}) {
  const std::string path = std::string("/") + Azurite::kAccount + "/" + name;
  const long status = signed_put(origin, path, {{"restype", "container"}}, {}, "", ca_file);
  if (status != 201 && status != 409)
    FAIL("cannot create container " << name << ": HTTP " << status);
}

// Put Blob of a small block blob: a real upload whose Last-Modified Azurite sets.
void put_blob(const std::string& origin, const std::string& container, const std::string& name) {
  const std::string path = std::string("/") + Azurite::kAccount + "/" + container + "/" + name;
  const long status =
      signed_put(origin, path, {}, {{"x-ms-blob-type", "BlockBlob"}}, "parquet bytes of " + name);
  if (status != 201) FAIL("cannot put blob " << container << "/" << name << ": HTTP " << status);
}

struct Service {
  Azurite azurite;
  Service() {
    const std::string origin = "http://127.0.0.1:" + std::to_string(azurite.port());
    for (const char* c : {"present", "probe", "sas-probe", "no-delete", "lake"})
      create_container(origin, c);
    // The lake: three files under bronze/events/, one elsewhere.
    for (const char* b : {"bronze/events/2026/12/03/part-0001.parquet",
                          "bronze/events/2026/12/03/part-0002.parquet",
                          "bronze/events/2026/12/03/part-0003.parquet", "silver/daily.parquet"})
      put_blob(origin, "lake", b);
  }
};

Service& service() {
  static Service instance;
  return instance;
}

std::string base64url(const std::string& s) {
  std::string out = azure::base64_encode(
      std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(s.data()), s.size()));
  for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

// A JWT with the claims Azure Storage expects of an Entra ID access token.
std::string bearer_token(std::chrono::system_clock::time_point exp) {
  using namespace std::chrono;
  const auto now = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  const auto expiry = duration_cast<seconds>(exp.time_since_epoch()).count();
  const json claims{{"aud", "https://storage.azure.com"},
                    {"iss", "https://sts.windows.net/ab1f708d-50f6-404c-a006-d71b2ac7a606/"},
                    {"iat", now - 7200},
                    {"nbf", now - 7200},
                    {"exp", expiry},
                    {"oid", "triage-test"}};
  return base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(claims.dump()) + "." +
         base64url("not-a-real-signature");
}

json params(const std::string& container, json extra = json::object()) {
  json p{{"target", service().azurite.endpoint()}, {"container", container}};
  p.update(extra);
  return p;
}

Result run(const json& p, std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
  return triage::testing::run<BlobCheck>(p, {timeout});
}

}  // namespace

TEST_CASE("blob: the right account key lists the container", "[blob]") {
  const auto r = run(params("present", {{"account_key", Azurite::kKey}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  REQUIRE(r.metric("list_ms") != nullptr);
  CHECK(r.metric("list_ms")->value > 0);
  CHECK(r.metric("list_ms")->unit == "ms");
  CHECK(r.attributes.at("account") == "devstoreaccount1");
  CHECK(r.attributes.at("auth") == "shared_key");
  CHECK(r.attributes.count("request_id") == 0);
  CHECK(r.metric("put_ms") == nullptr);                // no write probe unless asked
  CHECK(r.metric("newest_blob_age_s") == nullptr);     // no scan without prefix or max_age
  CHECK(r.metric("sas_expires_in_hours") == nullptr);  // no SAS
  CHECK(r.summary.find("present") != std::string::npos);
  require_no_secret(r, Azurite::kKey);
}

TEST_CASE("blob: a wrong account key is an authentication failure with the request id", "[blob]") {
  const auto r = run(params("present", {{"account_key", kWrongKey}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "account key was rejected");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("403") != std::string::npos);
  CHECK_FALSE(f->remediation.empty());
  CHECK(r.attributes.at("http_status") == "403");
  CHECK(r.attributes.count("error_code") == 1);
  REQUIRE(r.attributes.count("request_id") == 1);
  CHECK(r.attributes.at("request_id").size() >= 8);
  require_no_secret(r, kWrongKey);
}

TEST_CASE("blob: a missing container is ContainerNotFound", "[blob]") {
  const auto r = run(params("no-such-container", {{"account_key", Azurite::kKey}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Container not found");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("ContainerNotFound") != std::string::npos);
  CHECK(r.attributes.at("error_code") == "ContainerNotFound");
  CHECK(r.attributes.count("request_id") == 1);
}

TEST_CASE("blob: the write probe puts, reads back and deletes a canary blob", "[blob]") {
  const auto key = json{{"account_key", Azurite::kKey}};
  auto p = params("probe", key);
  p["write_probe"] = true;
  const auto r = run(p);
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  REQUIRE(r.metric("put_ms") != nullptr);
  REQUIRE(r.metric("get_ms") != nullptr);
  CHECK(r.metric("delete_ms") != nullptr);
  CHECK(r.attributes.at("canary_blob").rfind("triage-canary-", 0) == 0);
  CHECK(r.summary.find("write probe") != std::string::npos);

  // The canary is gone: the container lists empty again.
  const auto after = run(params("probe", key));
  INFO(all_text(after));
  CHECK(after.status() == Status::ok);
  CHECK(after.attributes.at("blobs_listed") == "0");

  // Two probes get different canary names.
  const auto again = run(p);
  CHECK(again.attributes.at("canary_blob") != r.attributes.at("canary_blob"));
}

TEST_CASE("blob: a valid account SAS lists and probes; its signature is never reported", "[blob]") {
  using namespace std::chrono;
  // 30 days: far from the sas_expires_in_hours thresholds (168 h, 24 h).
  const std::string sas = account_sas("rwdlac", system_clock::now() + hours(24 * 30));
  auto p = params("sas-probe", {{"sas_token", "?" + sas}, {"write_probe", true}});
  const auto r = run(p);
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("auth") == "sas");
  CHECK(r.metric("put_ms") != nullptr);
  CHECK(r.attributes.count("sas_expiry") == 1);
  const auto sig = sas.substr(sas.find("sig=") + 4);
  require_no_secret(r, sig);
  require_no_secret(r, azure::percent_decode(sig));
}

TEST_CASE("blob: an expired SAS is named as expired with its expiry time", "[blob]") {
  using namespace std::chrono;
  const auto expired_at = system_clock::now() - hours(24);
  const std::string sas = account_sas("rl", expired_at);
  const auto r = run(params("present", {{"sas_token", sas}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "SAS token expired");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find(azure::iso8601_utc(expired_at)) != std::string::npos);
  CHECK(r.attributes.count("request_id") == 1);
  require_no_secret(r, sas.substr(sas.find("sig=") + 4));
}

TEST_CASE("blob: a SAS without the list permission is reported as missing permission", "[blob]") {
  using namespace std::chrono;
  const auto r =
      run(params("present", {{"sas_token", account_sas("r", system_clock::now() + hours(1))}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.attributes.at("http_status") == "403");
  CHECK(r.finding(Severity::critical, "SAS token expired") == nullptr);
  CHECK(r.finding(Severity::critical, "lacks permission") != nullptr);
}

TEST_CASE("blob: a write probe without write or delete rights is reported", "[blob]") {
  using namespace std::chrono;
  SECTION("no write permission: Put Blob is refused") {
    const auto r =
        run(params("sas-probe", {{"sas_token", account_sas("rl", system_clock::now() + hours(1))},
                                 {"write_probe", true}}));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.metric("list_ms") != nullptr);  // the listing itself worked
    CHECK(r.metric("put_ms") == nullptr);
    CHECK(r.finding(Severity::critical, "lacks permission for Put Blob") != nullptr);
  }
  SECTION("no delete permission: the canary left behind is named") {
    const auto r =
        run(params("no-delete", {{"sas_token", account_sas("rwl", system_clock::now() + hours(1))},
                                 {"write_probe", true}}));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.metric("put_ms") != nullptr);
    CHECK(r.metric("get_ms") != nullptr);
    const auto* f = r.finding(Severity::critical, "could not be deleted");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find(r.attributes.at("canary_blob")) != std::string::npos);
  }
}

TEST_CASE("blob: anonymous access to a private container is refused", "[blob]") {
  const auto r = run(params("present"));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.attributes.at("auth") == "anonymous");
  REQUIRE_FALSE(r.findings.empty());
  CHECK(r.attributes.count("request_id") == 1);
}

TEST_CASE("blob: DNS failure and connection refused are transport findings", "[blob]") {
  SECTION("a name under .invalid does not resolve") {
    const auto r = run({{"target", "http://triage-missing.invalid/devstoreaccount1"},
                        {"container", "present"},
                        {"account_key", Azurite::kKey}});
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "DNS resolution") != nullptr);
  }
  SECTION("a port nothing listens on refuses the connection") {
    const auto port = triage::test::free_port();
    const auto r =
        run({{"target", "http://127.0.0.1:" + std::to_string(port) + "/devstoreaccount1"},
             {"container", "present"},
             {"account_key", Azurite::kKey}});
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "Cannot connect") != nullptr);
  }
}

TEST_CASE("blob: an endpoint that never answers ends at the check's deadline", "[blob]") {
  triage::test::Blackhole hole;
  const auto r = run({{"target", "http://127.0.0.1:" + std::to_string(hole.port()) + "/acct"},
                      {"container", "present"},
                      {"account_key", Azurite::kKey}},
                     std::chrono::milliseconds(1000));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "did not answer in time") != nullptr);
}

TEST_CASE("blob: bearer tokens over HTTPS (Azurite --oauth basic)", "[blob]") {
  using namespace std::chrono;
  static Azurite tls(true);
  const std::string ca = tls.certs().ca.string();
  create_container("https://localhost:" + std::to_string(tls.port()), "bearer", ca);

  SECTION("a valid token lists the container, with the test CA trusted") {
    const std::string token = bearer_token(system_clock::now() + hours(1));
    const auto r = run({{"target", tls.endpoint()},
                        {"container", "bearer"},
                        {"bearer_token", token},
                        {"ca_file", ca}});
    INFO(all_text(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("auth") == "bearer");
    require_no_secret(r, token);
  }
  SECTION("an expired token is rejected and named as the bearer token") {
    const std::string token = bearer_token(system_clock::now() - hours(1));
    const auto r = run({{"target", tls.endpoint()},
                        {"container", "bearer"},
                        {"bearer_token", token},
                        {"ca_file", ca}});
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "bearer token") != nullptr);
    require_no_secret(r, token);
  }
  SECTION("without the CA the certificate is not trusted: verification is on by default") {
    const auto r = run({{"target", tls.endpoint()},
                        {"container", "bearer"},
                        {"bearer_token", bearer_token(system_clock::now() + hours(1))}});
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "TLS certificate verification failed") != nullptr);
  }
}

TEST_CASE("blob: Azure AD credentials fetch a storage token that Azurite accepts", "[blob]") {
  using namespace std::chrono;
  static Azurite tls(true);
  const std::string ca = tls.certs().ca.string();
  create_container("https://localhost:" + std::to_string(tls.port()), "azuread", ca);
  triage::azure_identity::clear_token_cache();
  // The token endpoint: the v2.0 client credentials answer as Microsoft's
  // protocol reference documents it, carrying a token with the claims Azurite
  // checks (it does not check signatures).
  const std::string token = bearer_token(system_clock::now() + hours(1));
  const std::string secret = "Qx8Q~blob.secret-value_0123456789abcd";
  const json fixture = {
      {"about", "a documented-response replay of the v2.0 token endpoint, made in the test"},
      {"sources",
       {"https://learn.microsoft.com/en-us/entra/identity-platform/"
        "v2-oauth2-client-creds-grant-flow"}},
      {"routes",
       {{{"method", "POST"},
         {"path", "/aaaabbbb-0000-cccc-1111-dddd2222eeee/oauth2/v2.0/token"},
         {"query", {{"client_secret", secret}, {"scope", "https://storage.azure.com/.default"}}},
         {"responses",
          {{{"json",
             {{"token_type", "Bearer"}, {"expires_in", 3599}, {"access_token", token}}}}}}}}}};
  triage::test::ReplayServer login(fixture, "");
  json p = {{"target", tls.endpoint()},
            {"container", "azuread"},
            {"ca_file", ca},
            {"tenant_id", "aaaabbbb-0000-cccc-1111-dddd2222eeee"},
            {"client_id", "00001111-aaaa-2222-bbbb-3333cccc4444"},
            {"client_secret", secret},
            {"authority", login.url()},
            {"identity_ca_file", login.certs().ca.string()}};
  SECTION("the token is fetched once, sent, and never shown") {
    const auto r = run(p);
    INFO(all_text(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("auth") == "service principal 00001111-aaaa-2222-bbbb-3333cccc4444");
    const auto again = run(p);
    CHECK(again.status() == Status::ok);
    CHECK(again.attributes.at("token_from_cache") == "yes");
    CHECK(login.requests().size() == 1);
    require_no_secret(r, token);
    require_no_secret(r, secret);
  }
  SECTION("a secret the endpoint rejects is critical, and Azurite is not asked") {
    p["client_secret"] = "Qx8Q~other.secret-value_0123456789abcd";
    const auto r = run(p);
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.attributes.count("container") == 0);
    require_no_secret(r, "Qx8Q~other.secret-value_0123456789abcd");
  }
  SECTION("over http the token is never sent") {
    p["target"] = service().azurite.endpoint();
    const auto r = run(p);
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("https") != std::string::npos);
  }
}

TEST_CASE("blob: bad params end unknown with a clear message that quotes no secret", "[blob]") {
  const std::string target = "http://127.0.0.1:1/devstoreaccount1";
  struct Case {
    json p;
    std::string message;
  };
  const std::vector<Case> cases{
      {{{"target", target}}, "container"},
      {{{"target", target}, {"container", "Bad_Name"}}, "container"},
      {{{"target", target}, {"container", "present"}, {"account_key", "not*base64-SECRET"}},
       "base64"},
      {{{"target", target}, {"container", "present"}, {"sas_token", "sv=2021&se=x-SECRET"}}, "sig"},
      {{{"target", target}, {"container", "present"}, {"bearer_token", "tok-SECRET"}}, "https"},
      {{{"target", target}, {"container", "present"}, {"auth", "sas"}}, "sas_token"},
      {{{"target", target},
        {"container", "present"},
        {"account_key", Azurite::kKey},
        {"sas_token", "sig=x"}},
       "auth"},
      {{{"target", "http://127.0.0.1:1/a?sig=SECRET"}, {"container", "present"}}, "sas_token"},
      {{{"target", target}, {"container", "present"}, {"insecure_skip_verify", true}}, "unknown"},
      {{{"target", target}, {"container", "present"}, {"ca_file", "/nonexistent/ca.pem"}},
       "ca_file"},
      {{{"target", target}, {"container", "present"}, {"max_age", "soon"}}, "max_age"},
      {{{"target", target}, {"container", "present"}, {"max_age", "0s"}}, "max_age"},
      {{{"target", target}, {"container", "present"}, {"page_size", 10}}, "prefix"},
      {{{"target", target}, {"container", "present"}, {"prefix", "a/"}, {"max_pages", 0}},
       "max_pages"},
      {{{"target", target}, {"container", "present"}, {"prefix", "a/"}, {"page_size", 5001}},
       "page_size"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.p);
    INFO(c.p.dump() << "\n" << all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find(c.message) != std::string::npos);
    CHECK(r.error.find("SECRET") == std::string::npos);
  }
}

TEST_CASE("blob: the params schema describes every param and marks the secrets", "[blob]") {
  const auto schema = json::parse(BlobCheck::params_schema);
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
  CHECK_FALSE(schema.at("properties").contains("insecure_skip_verify"));
}

// ---- newest_blob_age_s against Azurite's real uploads ----

TEST_CASE("blob: newest_blob_age_s is the age of the newest blob under the prefix, over pages",
          "[blob]") {
  const auto r = run(
      params("lake", {{"account_key", Azurite::kKey}, {"prefix", "bronze/"}, {"page_size", 2}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  REQUIRE(r.metric("newest_blob_age_s") != nullptr);
  const auto* age = r.metric("newest_blob_age_s");
  CHECK(age->unit == "s");
  CHECK(age->value >= 0);
  CHECK(age->value < 3600);  // uploaded by this test run, max_age 1h by default
  CHECK(age->status == Status::ok);
  // Three blobs under bronze/, two per page: the second page was followed.
  CHECK(r.attributes.at("blobs_scanned") == "3");
  CHECK(r.attributes.at("scan_pages") == "2");
  CHECK(r.attributes.at("newest_blob").rfind("bronze/events/2026/12/03/part-000", 0) == 0);
  CHECK(r.attributes.at("max_age") == "1h");
  CHECK(r.attributes.count("newest_blob_time") == 1);
  CHECK(r.summary.find("newest blob under 'bronze/'") != std::string::npos);
  CHECK(r.findings.empty());
}

TEST_CASE("blob: max_age alone scans the whole container", "[blob]") {
  const auto r = run(params("lake", {{"account_key", Azurite::kKey}, {"max_age", "30m"}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  REQUIRE(r.metric("newest_blob_age_s") != nullptr);
  CHECK(r.attributes.at("blobs_scanned") == "4");
  CHECK(r.attributes.at("scan_pages") == "1");
  CHECK(r.attributes.at("max_age") == "30m");
}

TEST_CASE("blob: a prefix with no blob under it is a critical finding", "[blob]") {
  const auto r = run(params("lake", {{"account_key", Azurite::kKey}, {"prefix", "gold/"}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.metric("newest_blob_age_s") == nullptr);
  const auto* f = r.finding(Severity::critical, "No blob under the prefix");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("'gold/'") != std::string::npos);
  CHECK(f->remediation.find("RPO") != std::string::npos);
  CHECK(r.attributes.at("blobs_scanned") == "0");
}

TEST_CASE("blob: the scan stops at max_pages and says the answer may be incomplete", "[blob]") {
  const auto r = run(params(
      "lake",
      {{"account_key", Azurite::kKey}, {"prefix", "bronze/"}, {"page_size", 1}, {"max_pages", 2}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::warning);
  CHECK(r.attributes.at("scan_pages") == "2");
  CHECK(r.attributes.at("blobs_scanned") == "2");
  REQUIRE(r.metric("newest_blob_age_s") != nullptr);  // of what it saw
  const auto* f = r.finding(Severity::warning, "Too many blobs");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("max_pages=2") != std::string::npos);
}

TEST_CASE("blob: the scan works with a SAS token too and never reports its signature", "[blob]") {
  using namespace std::chrono;
  const std::string sas = account_sas("rl", system_clock::now() + hours(24 * 30));
  const auto r = run(params("lake", {{"sas_token", sas}, {"prefix", "silver/"}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("newest_blob") == "silver/daily.parquet");
  require_no_secret(r, azure::percent_decode(sas.substr(sas.find("sig=") + 4)));
}

// ---- sas_expires_in_hours against Azurite with real SAS tokens ----

TEST_CASE("blob: sas_expires_in_hours warns a week ahead and is critical a day ahead", "[blob]") {
  using namespace std::chrono;
  struct Case {
    hours left;
    Status status;
  };
  for (const auto& c : {Case{hours(24 * 30), Status::ok}, Case{hours(100), Status::warning},
                        Case{hours(12), Status::critical}}) {
    const std::string sas = account_sas("rl", system_clock::now() + c.left);
    const auto r = run(params("present", {{"sas_token", sas}}));
    INFO(c.left.count() << " h\n" << all_text(r));
    // The token is valid: the listing works whatever its remaining life.
    CHECK(r.metric("list_ms") != nullptr);
    CHECK(r.findings.empty());
    REQUIRE(r.metric("sas_expires_in_hours") != nullptr);
    const auto* m = r.metric("sas_expires_in_hours");
    CHECK(m->unit == "h");
    CHECK(m->value > static_cast<double>(c.left.count()) - 1);
    CHECK(m->value <= static_cast<double>(c.left.count()));
    CHECK(m->status == c.status);
    CHECK(r.status() == c.status);
    CHECK(r.summary.find("SAS expires in") != std::string::npos);
    require_no_secret(r, azure::percent_decode(sas.substr(sas.find("sig=") + 4)));
  }
}

TEST_CASE("blob: an expired SAS has a negative sas_expires_in_hours", "[blob]") {
  using namespace std::chrono;
  const std::string sas = account_sas("rl", system_clock::now() - hours(3));
  const auto r = run(params("present", {{"sas_token", sas}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  REQUIRE(r.metric("sas_expires_in_hours") != nullptr);
  CHECK(r.metric("sas_expires_in_hours")->value < -2);
  CHECK(r.metric("sas_expires_in_hours")->status == Status::critical);
  CHECK(r.finding(Severity::critical, "SAS token expired") != nullptr);
}

TEST_CASE("blob: a SAS without se reports no expiry metric", "[blob]") {
  // A SAS bound to a stored access policy carries no se; Azurite would need
  // the policy, so this only reads the params (the listing then fails).
  const auto r = run({{"target", "http://127.0.0.1:1/devstoreaccount1"},
                      {"container", "present"},
                      {"sas_token", "sv=2021-08-06&si=policy1&sr=c&sig=c2lnbmF0dXJl"}},
                     std::chrono::milliseconds(3000));
  INFO(all_text(r));
  CHECK(r.metric("sas_expires_in_hours") == nullptr);
  CHECK(r.attributes.count("sas_expiry") == 0);
}

// ---- the stale cases, from the documented-response replay ----

namespace {

const char* kReplayToken = "replay-bearer-token-SECRET";

json replay_params(const triage::test::ReplayServer& server, json extra) {
  json p{{"target", server.url("/myaccount")},
         {"container", "lake"},
         {"bearer_token", kReplayToken},
         {"ca_file", server.certs().ca.string()}};
  p.update(extra);
  return p;
}

}  // namespace

TEST_CASE("blob: a newest blob past 75 % of max_age is a warning, past max_age critical",
          "[blob]") {
  SECTION("50 min old against 1 h: warning; the newest is found on the second page") {
    triage::test::ReplayServer server(std::string("azure_storage"), "stale_prefix");
    const auto r = run(replay_params(server, {{"prefix", "bronze/"}}));
    INFO(all_text(r));
    CHECK(r.status() == Status::warning);
    REQUIRE(r.metric("newest_blob_age_s") != nullptr);
    CHECK(r.metric("newest_blob_age_s")->value > 2900);
    CHECK(r.metric("newest_blob_age_s")->value < 3100);
    CHECK(r.metric("newest_blob_age_s")->status == Status::warning);
    CHECK(r.attributes.at("newest_blob") == "bronze/events/2026/12/03/part-0001.parquet");
    CHECK(r.attributes.at("blobs_scanned") == "4");
    const auto* f = r.finding(Severity::warning, "Data Lake RPO at risk");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("part-0001.parquet") != std::string::npos);
    CHECK(f->remediation.find("1 hour") != std::string::npos);
    // The second page was asked for with the first page's NextMarker.
    int with_marker = 0;
    for (const auto& q : server.requests()) {
      CHECK(q.headers.find("x-ms-version") != q.headers.end());
      if (q.query.count("marker") == 1 && q.query.find("prefix")->second == "bronze/")
        ++with_marker;
    }
    CHECK(with_marker == 1);
    require_no_secret(r, kReplayToken);
  }
  SECTION("3 h old against 1 h: critical") {
    triage::test::ReplayServer server(std::string("azure_storage"), "very_stale_prefix");
    const auto r = run(replay_params(server, {{"prefix", "bronze/"}}));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.metric("newest_blob_age_s")->status == Status::critical);
    CHECK(r.finding(Severity::critical, "Data Lake RPO missed") != nullptr);
  }
  SECTION("3 h old against max_age 5h: ok") {
    triage::test::ReplayServer server(std::string("azure_storage"), "very_stale_prefix");
    const auto r = run(replay_params(server, {{"prefix", "bronze/"}, {"max_age", "5h"}}));
    INFO(all_text(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.metric("newest_blob_age_s")->status == Status::ok);
  }
}

TEST_CASE("blob: an unreadable List Blobs page ends unknown with a finding", "[blob]") {
  triage::test::ReplayServer server(std::string("azure_storage"), "malformed_listing");
  const auto r = run(replay_params(server, {{"prefix", "bronze/"}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::unknown);
  CHECK(r.finding(Severity::critical, "Unreadable List Blobs response") != nullptr);
  require_no_secret(r, kReplayToken);
}
