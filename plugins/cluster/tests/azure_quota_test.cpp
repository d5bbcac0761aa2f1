// The shared Azure AD token code (plugins/common/src/azure_identity, tagged
// [azure_identity]) and the cluster.azure_quota check ([azure_quota]) against
// the replay server (tests/support/replay_server.hpp): responses written from
// Microsoft's published API references, NOT the services. Every address is
// 127.0.0.1/localhost: the IMDS address is never asked (identity_endpoint
// and IDENTITY_ENDPOINT point at the replay server).
//
// Pages the fixtures (replays/azure_ad.json, replays/azure_arm.json) follow:
//   https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//   https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
//   https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
//   https://learn.microsoft.com/en-us/azure/app-service/overview-managed-identity
//   https://learn.microsoft.com/en-us/rest/api/compute/usage/list
//   https://learn.microsoft.com/en-us/rest/api/virtualnetwork/usages/list
//   https://learn.microsoft.com/en-us/rest/api/storagerp/usages/list-by-location
//   https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/request-limits-and-throttling
//   https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/common-deployment-errors
//   https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/error-register-resource-provider
// No test sleeps to pass and none asserts on timing.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

#include <triage/testing.hpp>

#include "azure_identity.hpp"
#include "check_result.hpp"
#include "checks.hpp"
#include "replay_server.hpp"
#include "services.hpp"

using nlohmann::json;
using triage::test::all_text;
using triage::test::has;
using triage::test::value;
using namespace std::string_literals;
using triage::Severity;
using triage::Status;
using triage::test::Blackhole;
using triage::test::ReplayServer;
namespace testing = triage::testing;
namespace identity = triage::azure_identity;

namespace {

constexpr const char* kTenant = "aaaabbbb-0000-cccc-1111-dddd2222eeee";
constexpr const char* kClient = "00001111-aaaa-2222-bbbb-3333cccc4444";
constexpr const char* kSecret = "Qx8Q~valid.secret-value_0123456789abcd";
constexpr const char* kExpiredSecret = "Qx8Q~expired.secret-value_000000000000";
constexpr const char* kWrongSecret = "Qx8Q~wrong.secret-value_99999999999999";
constexpr const char* kToken =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.replay-arm-access-token.c2lnbmF0dXJl";
constexpr const char* kIdentityHeader = "853b9a84-5bfa-4b22-a3f3-0b9a43d9ad8a";
constexpr const char* kArm = "https://management.azure.com/";

std::string attribute(const testing::Result& r, const std::string& key) {
  const auto it = r.attributes.find(key);
  return it == r.attributes.end() ? std::string() : it->second;
}

// A check type made for these tests: reads the credential params, asks for
// a token and reports what came back (never the token itself).
const std::string kProbeSchema =
    std::string(R"({"type":"object","properties":{)") + identity::kParamsSchemaProperties + R"(,
    "resource": {"type": "string", "description": "the resource"},
    "expect_token": {"type": "string", "description": "the token the test expects"}
  },"additionalProperties":false})";

struct IdentityProbe {
  static constexpr const char* name = "identity_probe";
  static constexpr const char* description = "Asks for an Azure AD token";
  static const char* const params_schema;
  void run(triage::Context& ctx) {
    const auto credentials = identity::read_credentials(ctx);
    using Kind = identity::Credentials::Kind;
    ctx.attribute("kind", credentials.kind == Kind::client_secret      ? "client_secret"
                          : credentials.kind == Kind::managed_identity ? "managed_identity"
                                                                       : "none");
    ctx.attribute("endpoint_source", credentials.endpoint_source);
    ctx.attribute("protocol", credentials.protocol == identity::Credentials::Protocol::app_service
                                  ? "app_service"
                                  : "imds");
    const auto t = identity::get_token(credentials, ctx.param<std::string>("resource", kArm), ctx);
    ctx.attribute("from_cache", t.from_cache ? "yes" : "no");
    ctx.attribute("retries", std::to_string(t.response.retries));
    if (!t.access_token) {
      ctx.attribute("error_code", t.error_code);
      ctx.attribute("unreachable", t.unreachable ? "yes" : "no");
      ctx.finding(Severity::critical, t.title, t.detail, t.remediation);
      return ctx.status(Status::critical, t.title);
    }
    ctx.attribute("token_matches",
                  *t.access_token == ctx.param<std::string>("expect_token", kToken) ? "yes" : "no");
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(
        t.expires_on - std::chrono::system_clock::now());
    ctx.attribute("expires_in_s", std::to_string(left.count()));
    ctx.status(Status::ok, "token");
  }
};
const char* const IdentityProbe::params_schema = kProbeSchema.c_str();

testing::Result probe(const json& params,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return testing::run<IdentityProbe>(params, testing::Options(timeout));
}

json secret_params(const ReplayServer& s, const std::string& secret = kSecret) {
  return {{"tenant_id", kTenant},
          {"client_id", kClient},
          {"client_secret", secret},
          {"authority", s.url()},
          {"identity_ca_file", s.certs().ca.string()}};
}

json imds_params(const ReplayServer& s) {
  return {{"managed_identity", true},
          {"identity_endpoint", s.url("/metadata/identity/oauth2/token")},
          {"identity_ca_file", s.certs().ca.string()}};
}

// Sets an environment variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string query(const ReplayServer::Request& r, const std::string& key) {
  const auto it = r.query.find(key);
  return it == r.query.end() ? std::string("<absent>") : it->second;
}

std::string header(const ReplayServer::Request& r, const std::string& key) {
  const auto it = r.headers.find(key);
  return it == r.headers.end() ? std::string("<absent>") : it->second;
}

}  // namespace

// ---- azure_identity -------------------------------------------------------

TEST_CASE("azure identity: the credential params are a documented schema with secrets marked",
          "[azure_identity]") {
  const json schema = json::parse(kProbeSchema);
  const auto& props = schema.at("properties");
  for (const char* name :
       {"tenant_id", "client_id", "client_secret", "authority", "managed_identity",
        "identity_endpoint", "identity_header", "identity_ca_file"}) {
    INFO(name);
    REQUIRE(props.contains(name));
    CHECK(!props.at(name).value("description", std::string()).empty());
  }
  for (const char* secret : {"client_secret", "identity_header"}) {
    INFO(secret);
    CHECK(props.at(secret).value("writeOnly", false));
    CHECK(props.at(secret).value("x-triage-secret", false));
  }
  CHECK_FALSE(props.at("tenant_id").value("x-triage-secret", false));
}

TEST_CASE("azure identity: a client secret gets a token once, then it comes from the cache",
          "[azure_identity]") {
  identity::clear_token_cache();
  ReplayServer aad("azure_ad");
  const auto r = probe(secret_params(aad));
  INFO(all_text(r));
  CHECK(r.refused_params.empty());
  REQUIRE(r.status() == Status::ok);
  CHECK(attribute(r, "kind") == "client_secret");
  CHECK(attribute(r, "token_matches") == "yes");
  CHECK(attribute(r, "from_cache") == "no");
  CHECK(std::stol(attribute(r, "expires_in_s")) > 3500);

  const auto requests = aad.requests();
  REQUIRE(requests.size() == 1);
  const auto& token_request = requests.front();
  CHECK(token_request.method == "POST");
  CHECK(token_request.path == std::string("/") + kTenant + "/oauth2/v2.0/token");
  CHECK(has(header(token_request, "content-type"), "application/x-www-form-urlencoded"));
  CHECK(has(token_request.body, "grant_type=client_credentials"));
  CHECK(has(token_request.body, "scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
  CHECK(header(token_request, "authorization") == "<absent>");

  const auto again = probe(secret_params(aad));
  CHECK(again.status() == Status::ok);
  CHECK(attribute(again, "from_cache") == "yes");
  CHECK(aad.requests().size() == 1);

  // Another resource is another token.
  auto storage = secret_params(aad);
  storage["resource"] = "https://storage.azure.com/";
  const auto other = probe(storage);
  CHECK(attribute(other, "from_cache") == "no");
  CHECK(aad.requests().size() == 2);
}

TEST_CASE("azure identity: the cache is keyed by the secret, so a wrong one is not served",
          "[azure_identity]") {
  identity::clear_token_cache();
  ReplayServer aad("azure_ad");
  REQUIRE(probe(secret_params(aad)).status() == Status::ok);
  const auto r = probe(secret_params(aad, kWrongSecret));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(attribute(r, "from_cache") == "no");
  CHECK(aad.requests().size() == 2);
}

TEST_CASE("azure identity: a token inside the refresh margin is not reused", "[azure_identity]") {
  identity::clear_token_cache();
  ReplayServer aad("azure_ad"s, "short_lived");
  CHECK(probe(secret_params(aad)).status() == Status::ok);
  const auto r = probe(secret_params(aad));
  CHECK(r.status() == Status::ok);
  CHECK(attribute(r, "from_cache") == "no");
  CHECK(aad.requests().size() == 2);
}

TEST_CASE("azure identity: AADSTS errors become findings an operator can act on",
          "[azure_identity]") {
  identity::clear_token_cache();
  ReplayServer aad("azure_ad");
  struct Case {
    json params;
    std::string code, title, remediation;
  };
  auto unknown_tenant = secret_params(aad);
  unknown_tenant["tenant_id"] = "bbbbcccc-1111-dddd-2222-eeee3333ffff";
  auto unknown_app = secret_params(aad);
  unknown_app["client_id"] = "99998888-7777-6666-5555-444433332222";
  const Case cases[] = {
      {secret_params(aad, kWrongSecret), "AADSTS7000215", "rejected the client secret",
       "Secret ID"},
      {secret_params(aad, kExpiredSecret), "AADSTS7000222", "client secret has expired",
       "New client secret"},
      {unknown_tenant, "AADSTS90002", "Tenant not found", "tenant_id"},
      {unknown_app, "AADSTS700016", "Application not found in the tenant", "client_id"},
  };
  for (const auto& c : cases) {
    const auto r = probe(c.params);
    const std::string text = all_text(r);
    INFO(text);
    CHECK(r.status() == Status::critical);
    CHECK(attribute(r, "error_code") == c.code);
    const auto* f = r.finding(Severity::critical, c.title);
    REQUIRE(f != nullptr);
    CHECK(has(f->title, c.code));
    CHECK(has(f->detail, "/oauth2/v2.0/token"));
    CHECK(has(f->remediation, c.remediation));
    // AAD's trace lines are cut; no secret appears anywhere.
    CHECK_FALSE(has(text, "Trace ID"));
    for (const char* secret : {kSecret, kWrongSecret, kExpiredSecret})
      CHECK_FALSE(has(text, secret));
  }
}

TEST_CASE("azure identity: unavailable, malformed, slow and unreachable token endpoints",
          "[azure_identity]") {
  identity::clear_token_cache();
  {
    ReplayServer aad("azure_ad"s, "aad_unavailable");
    const auto r = probe(secret_params(aad));
    INFO(all_text(r));
    CHECK(r.finding(Severity::critical, "unavailable (HTTP 503)") != nullptr);
  }
  {
    ReplayServer aad("azure_ad"s, "malformed");
    const auto r = probe(secret_params(aad));
    INFO(all_text(r));
    CHECK(attribute(r, "error_code") == "malformed");
    CHECK(r.finding(Severity::critical, "answered without a token") != nullptr);
  }
  {
    ReplayServer aad("azure_ad"s, "slow");
    const auto r = probe(secret_params(aad), std::chrono::milliseconds(1500));
    INFO(all_text(r));
    CHECK(attribute(r, "unreachable") == "yes");
    const auto* f = r.finding(Severity::critical, "did not answer in time");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, aad.url("/")));
    CHECK_FALSE(has(all_text(r), kSecret));
  }
  {
    Blackhole hole;
    json params = {{"tenant_id", kTenant},
                   {"client_id", kClient},
                   {"client_secret", kSecret},
                   {"authority", "https://127.0.0.1:" + std::to_string(hole.port())}};
    const auto r = probe(params, std::chrono::milliseconds(1500));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Azure AD token endpoint");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "https://127.0.0.1:" + std::to_string(hole.port()) + "/" + kTenant));
    CHECK_FALSE(has(all_text(r), kSecret));
  }
  {
    const auto port = triage::test::free_port();
    json params = {{"tenant_id", kTenant},
                   {"client_id", kClient},
                   {"client_secret", kSecret},
                   {"authority", "https://127.0.0.1:" + std::to_string(port)}};
    const auto r = probe(params);
    INFO(all_text(r));
    const auto* f = r.finding(Severity::critical, "Azure AD token endpoint is unreachable");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "Connection refused"));
  }
}

TEST_CASE("azure identity: managed identity with the IMDS protocol", "[azure_identity]") {
  identity::clear_token_cache();
  ReplayServer imds("azure_ad");
  const auto r = probe(imds_params(imds));
  INFO(all_text(r));
  REQUIRE(r.status() == Status::ok);
  CHECK(attribute(r, "kind") == "managed_identity");
  CHECK(attribute(r, "endpoint_source") == "param");
  CHECK(attribute(r, "protocol") == "imds");
  CHECK(attribute(r, "token_matches") == "yes");
  CHECK(std::stol(attribute(r, "expires_in_s")) > 3500);
  const auto requests = imds.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "GET");
  CHECK(header(requests[0], "metadata") == "true");
  CHECK(query(requests[0], "api-version") == "2018-02-01");
  CHECK(query(requests[0], "resource") == kArm);
  CHECK(query(requests[0], "client_id") == "<absent>");

  // A user-assigned identity the machine does not have.
  auto user = imds_params(imds);
  user["client_id"] = "11112222-bbbb-3333-cccc-4444dddd5555";
  const auto missing = probe(user);
  INFO(all_text(missing));
  CHECK(missing.finding(Severity::critical, "Managed identity not found") != nullptr);
  CHECK(query(imds.requests().back(), "client_id") == "11112222-bbbb-3333-cccc-4444dddd5555");
}

TEST_CASE("azure identity: IMDS throttling is waited out once", "[azure_identity]") {
  identity::clear_token_cache();
  ReplayServer imds("azure_ad"s, "imds_throttled");
  const auto r = probe(imds_params(imds));
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  CHECK(attribute(r, "retries") == "1");
  CHECK(imds.requests().size() == 2);
}

TEST_CASE(
    "azure identity: App Service's IDENTITY_ENDPOINT and IDENTITY_HEADER from the environment",
    "[azure_identity]") {
  identity::clear_token_cache();
  ReplayServer app("azure_ad");
  ScopedEnv endpoint("IDENTITY_ENDPOINT", app.url("/msi/token/"));
  ScopedEnv header_env("IDENTITY_HEADER", kIdentityHeader);
  const auto r = probe({{"managed_identity", true}, {"identity_ca_file", app.certs().ca.string()}});
  const std::string text = all_text(r);
  INFO(text);
  REQUIRE(r.status() == Status::ok);
  CHECK(attribute(r, "endpoint_source") == "IDENTITY_ENDPOINT");
  CHECK(attribute(r, "protocol") == "app_service");
  CHECK(std::stol(attribute(r, "expires_in_s")) > 86000);
  const auto requests = app.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].path == "/msi/token/");
  CHECK(query(requests[0], "api-version") == "2019-08-01");
  CHECK(header(requests[0], "x-identity-header") == kIdentityHeader);
  CHECK_FALSE(has(text, kIdentityHeader));
}

TEST_CASE("azure identity: incomplete or contradictory credentials are bad params",
          "[azure_identity]") {
  identity::clear_token_cache();
  const json cases[] = {
      {{"client_secret", kSecret}},
      {{"client_secret", kSecret}, {"tenant_id", kTenant}},
      {{"tenant_id", kTenant}, {"client_id", kClient}},
      {{"managed_identity", true}, {"client_secret", kSecret}},
      {{"identity_endpoint", "https://localhost:1/x"}},
      {{"managed_identity", true}, {"identity_header", kIdentityHeader}},
      {{"client_secret", kSecret}, {"tenant_id", "common"}, {"client_id", kClient}},
      {{"client_secret", kSecret}, {"tenant_id", kTenant}, {"client_id", "not-a-guid"}},
      {{"client_secret", kSecret},
       {"tenant_id", kTenant},
       {"client_id", kClient},
       {"authority", "http://login.example"}},
  };
  for (const auto& params : cases) {
    const auto r = probe(params);
    const std::string text = all_text(r);
    INFO(params.dump() << "\n" << text);
    CHECK(r.status() == Status::unknown);
    CHECK_FALSE(r.error.empty());
    CHECK_FALSE(has(text, kSecret));
    CHECK_FALSE(has(text, kIdentityHeader));
  }
  // No credentials at all is not an error of read_credentials.
  const auto none = probe(json::object());
  CHECK(attribute(none, "kind") == "none");
}

// ---- cluster.azure_quota --------------------------------------------------

namespace {

using triage::cluster::AzureQuotaCheck;
constexpr const char* kSub = "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e";
const std::string kUsages = std::string("/subscriptions/") + kSub + "/providers/";

testing::Result quota(const json& params,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return testing::run<AzureQuotaCheck>(params, testing::Options(timeout));
}

json quota_params(const ReplayServer& arm) {
  return {{"subscription", kSub},
          {"location", "westeurope"},
          {"management_url", arm.url()},
          {"ca_file", arm.certs().ca.string()},
          {"bearer_token", kToken}};
}

std::size_t count_path(const ReplayServer& s, const std::string& path) {
  std::size_t n = 0;
  for (const auto& r : s.requests()) n += r.path == path ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("azure quota: the params schema documents every param and marks the secrets",
          "[azure_quota]") {
  const json schema = json::parse(AzureQuotaCheck::params_schema);
  for (const auto& [name, prop] : schema.at("properties").items()) {
    INFO(name);
    CHECK(!prop.value("description", std::string()).empty());
  }
  for (const char* secret : {"bearer_token", "client_secret", "identity_header"}) {
    INFO(secret);
    CHECK(schema["properties"][secret].value("x-triage-secret", false));
    CHECK(schema["properties"][secret].value("writeOnly", false));
  }
}

TEST_CASE("azure quota: a healthy subscription, three providers and two pages", "[azure_quota]") {
  ReplayServer arm("azure_arm");
  const auto r = quota(quota_params(arm));
  const std::string text = all_text(r);
  INFO(text);
  CHECK(r.refused_params.empty());
  CHECK(r.undeclared.empty());
  CHECK(r.error.empty());
  CHECK(r.status() == Status::ok);
  // 7 + 2 Compute items (standardNCFamily has limit 0), 5 Network, 1 Storage.
  CHECK(value(r, "items") == 14);
  CHECK(value(r, "usage_pct_max") == Approx(24));
  CHECK(value(r, "usage_pct[cores]") == Approx(24));
  CHECK(value(r, "usage_pct[standardESv5Family]") == Approx(8));  // from page 2
  CHECK(value(r, "usage_pct[PublicIPAddresses]") == Approx(0.5));
  CHECK(value(r, "usage_pct[StorageAccounts]") == Approx(7.2));
  CHECK(value(r, "items_near_limit") == 0);
  CHECK(r.metric("usage_pct[standardNCFamily]") == nullptr);
  CHECK(attribute(r, "items_without_limit") == "1");
  CHECK(attribute(r, "ratelimit_remaining_reads") == "11999");
  CHECK(attribute(r, "auth") == "bearer_token");
  CHECK(r.findings.empty());
  CHECK(has(r.summary, "Total Regional vCPUs 24.0 %"));
  CHECK_FALSE(has(text, kToken));

  CHECK(count_path(arm, kUsages + "Microsoft.Compute/locations/westeurope/usages") == 2);
  for (const auto& q : arm.requests()) {
    INFO(q.path);
    CHECK(header(q, "authorization") == std::string("Bearer ") + kToken);
    const std::string api = query(q, "api-version");
    if (has(q.path, "Microsoft.Compute")) CHECK(api == "2023-07-01");
    if (has(q.path, "Microsoft.Network")) CHECK(api == "2023-09-01");
    if (has(q.path, "Microsoft.Storage")) CHECK(api == "2023-01-01");
  }
}

TEST_CASE("azure quota: items near their limit warn at 80 %, go critical at 95 % and are named",
          "[azure_quota]") {
  ReplayServer arm("azure_arm"s, "near_limit");
  const auto r = quota(quota_params(arm));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(value(r, "usage_pct_max") == Approx(97));
  CHECK(r.metric("usage_pct[standardDSv3Family]")->status == Status::critical);
  CHECK(r.metric("usage_pct[cores]")->status == Status::warning);
  CHECK(r.metric("usage_pct[PublicIPAddresses]")->status == Status::warning);
  CHECK(r.metric("usage_pct[virtualMachines]")->status == Status::ok);
  CHECK(value(r, "items_near_limit") == 3);
  const auto* dsv3 =
      r.finding(Severity::info, "Quota limit: Standard DSv3 Family vCPUs at 97.0 % (97 of 100)");
  REQUIRE(dsv3 != nullptr);
  CHECK(has(dsv3->title, "westeurope"));
  CHECK(has(dsv3->detail, "Microsoft.Compute usage standardDSv3Family"));
  CHECK(has(dsv3->remediation, "80 % of quota reached"));
  CHECK(r.finding(Severity::info, "Total Regional vCPUs at 92.0 % (92 of 100)") != nullptr);
  CHECK(r.finding(Severity::info, "Public IP Addresses at 85.0 % (85 of 100)") != nullptr);
  CHECK(has(r.summary, "3 at or above 80.0 %"));
}

TEST_CASE("azure quota: one provider and the items asked for only", "[azure_quota]") {
  ReplayServer arm("azure_arm");
  auto params = quota_params(arm);
  params["provider"] = "Microsoft.Compute";
  params["items"] = {"cores", "LOWPRIORITYCORES"};
  const auto r = quota(params);
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  CHECK(value(r, "items") == 2);
  CHECK(value(r, "usage_pct[lowPriorityCores]") == 0);  // asked for: reported even unused
  CHECK(r.metric("usage_pct[virtualMachines]") == nullptr);
  for (const auto& q : arm.requests()) CHECK(has(q.path, "Microsoft.Compute"));

  params["items"] = {"noSuchQuota"};
  const auto none = quota(params);
  CHECK(none.finding(Severity::warning, "None of the items asked for") != nullptr);
}

TEST_CASE("azure quota: a service principal's token is fetched once and never reported",
          "[azure_quota]") {
  identity::clear_token_cache();
  ReplayServer aad("azure_ad");
  ReplayServer arm("azure_arm");
  auto params = quota_params(arm);
  params.erase("bearer_token");
  params.update(secret_params(aad));
  params["token_resource"] = kArm;
  const auto r = quota(params);
  const std::string text = all_text(r);
  INFO(text);
  CHECK(r.status() == Status::ok);
  CHECK(value(r, "items") == 14);
  CHECK(attribute(r, "auth") == std::string("service principal ") + kClient);
  CHECK(attribute(r, "token_from_cache") == "no");
  CHECK_FALSE(has(text, kSecret));
  CHECK_FALSE(has(text, kToken));

  const auto again = quota(params);
  CHECK(again.status() == Status::ok);
  CHECK(attribute(again, "token_from_cache") == "yes");
  CHECK(aad.requests().size() == 1);

  // A managed identity (IMDS protocol at identity_endpoint) works the same.
  auto managed = quota_params(arm);
  managed.erase("bearer_token");
  managed.update(imds_params(aad));
  managed["token_resource"] = kArm;
  const auto m = quota(managed);
  INFO(all_text(m));
  CHECK(m.status() == Status::ok);
  CHECK(has(attribute(m, "auth"), "managed identity (param)"));
}

TEST_CASE("azure quota: no token means a critical finding and no Resource Manager request",
          "[azure_quota]") {
  identity::clear_token_cache();
  ReplayServer aad("azure_ad");
  ReplayServer arm("azure_arm");
  auto params = quota_params(arm);
  params.erase("bearer_token");
  params.update(secret_params(aad, kExpiredSecret));
  params["token_resource"] = kArm;
  const auto r = quota(params);
  const std::string text = all_text(r);
  INFO(text);
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "client secret has expired (AADSTS7000222)") != nullptr);
  CHECK(attribute(r, "token_error") == "AADSTS7000222");
  CHECK(arm.requests().empty());
  CHECK_FALSE(has(text, kExpiredSecret));
}

TEST_CASE("azure quota: Resource Manager's 401, 403, 404 and 409 answers", "[azure_quota]") {
  {
    ReplayServer arm("azure_arm");
    auto params = quota_params(arm);
    params["bearer_token"] = "not-the-replay-token";
    const auto r = quota(params);
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "rejected the token (InvalidAuthenticationToken)") !=
          nullptr);
    CHECK_FALSE(has(all_text(r), "not-the-replay-token"));
  }
  {
    ReplayServer arm("azure_arm"s, "expired_token");
    const auto r = quota(quota_params(arm));
    INFO(all_text(r));
    const auto* f = r.finding(Severity::critical, "(ExpiredAuthenticationToken)");
    REQUIRE(f != nullptr);
    CHECK(has(f->remediation, "service principal or managed_identity"));
  }
  {
    ReplayServer arm("azure_arm"s, "forbidden");
    const auto r = quota(quota_params(arm));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    const auto* f =
        r.finding(Severity::critical,
                  "Not authorized to read Microsoft.Compute quotas (AuthorizationFailed)");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "Microsoft.Compute/locations/usages/read"));
    CHECK(has(f->remediation, "--role Reader --scope /subscriptions/" + std::string(kSub)));
    CHECK(value(r, "items") == 6);  // Network and Storage were still read
    CHECK(has(r.summary, "not read: Microsoft.Compute (not authorized)"));
  }
  {
    ReplayServer arm("azure_arm"s, "subscription_not_found");
    const auto r = quota(quota_params(arm));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "(SubscriptionNotFound)") != nullptr);
    CHECK(attribute(r, "http_status") == "404");
  }
  {
    ReplayServer arm("azure_arm"s, "network_not_registered");
    const auto r = quota(quota_params(arm));
    INFO(all_text(r));
    CHECK(r.status() == Status::warning);
    const auto* f = r.finding(Severity::warning, "Microsoft.Network is not registered");
    REQUIRE(f != nullptr);
    CHECK(has(f->remediation, "az provider register --namespace Microsoft.Network"));
    CHECK(value(r, "items") == 9);  // Compute and Storage
  }
}

TEST_CASE("azure quota: throttling is waited out within the deadline, else unknown",
          "[azure_quota]") {
  {
    ReplayServer arm("azure_arm"s, "throttled_once");
    const auto r = quota(quota_params(arm));
    INFO(all_text(r));
    CHECK(r.status() == Status::ok);
    CHECK(attribute(r, "throttled_retries") == "1");
    CHECK(value(r, "items") == 14);
  }
  {
    ReplayServer arm("azure_arm"s, "throttled_long");
    const auto r = quota(quota_params(arm), std::chrono::seconds(3));
    INFO(all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "HTTP 429"));
    CHECK(has(r.error, "Retry-After 3600 s"));
  }
}

TEST_CASE("azure quota: 5xx, a slow answer, a malformed body and an endpoint that never answers",
          "[azure_quota]") {
  {
    ReplayServer arm("azure_arm"s, "unavailable");
    const auto r = quota(quota_params(arm));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "unavailable (HTTP 503)") != nullptr);
  }
  {
    ReplayServer arm("azure_arm"s, "slow");
    const auto r = quota(quota_params(arm), std::chrono::milliseconds(1500));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "did not answer in time");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "Microsoft.Compute/locations/westeurope/usages"));
    CHECK_FALSE(has(all_text(r), kToken));
  }
  {
    ReplayServer arm("azure_arm"s, "malformed");
    const auto r = quota(quota_params(arm));
    INFO(all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "without a usage list"));
  }
  {
    Blackhole hole;
    const json params = {{"subscription", kSub},
                         {"location", "westeurope"},
                         {"management_url", "https://127.0.0.1:" + std::to_string(hole.port())},
                         {"bearer_token", kToken}};
    const auto r = quota(params, std::chrono::milliseconds(1500));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(r.finding(Severity::critical, "Azure Resource Manager did not answer in time") !=
          nullptr);
    CHECK_FALSE(has(all_text(r), kToken));
  }
}

TEST_CASE("azure quota: pagination is bounded and never leaves management_url's host",
          "[azure_quota]") {
  {
    ReplayServer arm("azure_arm"s, "endless_pages");
    auto params = quota_params(arm);
    params["provider"] = "Microsoft.Compute";
    const auto r = quota(params);
    INFO(all_text(r));
    CHECK(r.status() == Status::warning);
    CHECK(r.finding(Severity::warning, "more than 10 pages") != nullptr);
    CHECK(count_path(arm, kUsages + "Microsoft.Compute/locations/westeurope/usages") == 10);
  }
  {
    ReplayServer arm("azure_arm"s, "foreign_nextlink");
    auto params = quota_params(arm);
    params["provider"] = "Microsoft.Compute";
    const auto r = quota(params);
    INFO(all_text(r));
    CHECK(r.status() == Status::warning);
    const auto* f = r.finding(Severity::warning, "nextLink not followed");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "https://collector.example"));
    CHECK(count_path(arm, kUsages + "Microsoft.Compute/locations/westeurope/usages") == 1);
    CHECK(value(r, "items") == 6);
  }
}

TEST_CASE("azure quota: bad params end unknown without quoting a secret", "[azure_quota]") {
  const json base = {{"subscription", kSub},
                     {"location", "westeurope"},
                     {"management_url", "https://localhost:1"},
                     {"bearer_token", kToken}};
  auto with = [&](const char* key, const json& v) {
    json p = base;
    if (v.is_null())
      p.erase(key);
    else
      p[key] = v;
    return p;
  };
  json both = base;
  both.update({{"tenant_id", kTenant}, {"client_id", kClient}, {"client_secret", kSecret}});
  const json cases[] = {
      with("subscription", nullptr),
      with("subscription", "not-a-guid"),
      with("location", nullptr),
      with("location", "west europe"),
      with("location", "../westeurope"),
      with("provider", "Microsoft.Sql"),
      with("provider", json::array({"Microsoft.Compute", "Microsoft.Web"})),
      with("management_url", "http://management.azure.com"),
      with("management_url", "https://user:pw@management.azure.com"),
      with("per_item", 500),
      with("near_pct", 0),
      with("bearer_token", nullptr),
      both,
  };
  for (const auto& params : cases) {
    const auto r = quota(params);
    const std::string text = all_text(r);
    INFO(params.dump() << "\n" << text);
    CHECK(r.status() == Status::unknown);
    CHECK_FALSE(r.error.empty());
    CHECK_FALSE(has(text, kToken));
    CHECK_FALSE(has(text, kSecret));
  }
}
