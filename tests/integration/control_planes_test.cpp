// The control-plane checks end to end through the real `triage` binary, each
// plugin in its own host process: Databricks, Kubernetes, Azure quotas (with
// a service principal's token from Microsoft Entra ID) and a storage
// account's geo-replication, against tests/support's replay server of
// documented vendor responses (tests/support/replays/*.json; not the
// services). Every credential comes from the environment through ${env:...};
// the checks must use them (their results depend on it) and no output, in
// any format, may show one.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "replay_server.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::run_triage;
using triage::itest::RunEnv;
using triage::itest::schema_errors;
using triage::itest::write_file;
using triage::test::ReplayServer;
using triage::test::TempDir;

namespace {

// The credentials the fixtures accept (made-up values of the documented shapes).
const std::string kDatabricksToken = "dapi0123456789abcdef0123456789abcdef-2";
const std::string kKubeToken = "eyJhbGciOiJSUzI1NiJ9.replay-k8s-sa-token.c2lnbmF0dXJlLXNlY3JldA";
const std::string kClientSecret = "Qx8Q~valid.secret-value_0123456789abcd";
const std::string kStorageToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.replay-storage-token";
// What Entra ID hands out for the client secret; the checks send it on.
const std::string kArmToken =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.replay-arm-access-token.c2lnbmF0dXJl";

const char* const kConfig = R"(defaults: { timeout: 15s }
checks:
  - id: workspace
    plugin: cluster
    type: databricks
    params:
      target: "@databricks@"
      ca_file: "@databricks_ca@"
      token: "${env:IT_DATABRICKS_TOKEN}"
      streaming_jobs: [1001, "orders-stream"]
  - id: aks
    plugin: cluster
    type: kubernetes
    params:
      target: "@kubernetes@"
      ca_file: "@kubernetes_ca@"
      bearer_token: "${env:IT_KUBE_TOKEN}"
  - id: quota
    plugin: cluster
    type: azure_quota
    params:
      subscription: aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e
      location: westeurope
      management_url: "@arm@"
      token_resource: "https://management.azure.com/"
      ca_file: "@arm_ca@"
      tenant_id: aaaabbbb-0000-cccc-1111-dddd2222eeee
      client_id: 00001111-aaaa-2222-bbbb-3333cccc4444
      client_secret: "${env:IT_CLIENT_SECRET}"
      authority: "@login@"
      identity_ca_file: "@login_ca@"
  - id: lake-replica
    plugin: storage
    type: geo_replication
    params:
      target: "@storage@/myaccount"
      ca_file: "@storage_ca@"
      bearer_token: "${env:IT_STORAGE_TOKEN}"
)";

// kConfig with each @NAME@ replaced (${...} is the config's own syntax).
std::string config_text(const std::vector<std::pair<std::string, std::string>>& vars) {
  std::string text = kConfig;
  for (const auto& [name, value] : vars) {
    const std::string key = "@" + name + "@";
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at))
      text.replace(at, key.size(), value);
  }
  REQUIRE(text.find('@') == std::string::npos);
  return text;
}

}  // namespace

TEST_CASE("control-plane checks run isolated, judge what the APIs say and show no credential",
          "[control-planes]") {
  ReplayServer databricks("databricks");
  ReplayServer kubernetes("kubernetes", "problems");
  ReplayServer arm("azure_arm", "near_limit");
  ReplayServer login("azure_ad");
  ReplayServer storage("azure_storage", "lagging");
  TempDir dir;
  const auto config = write_file(dir.path(), "control-planes.yaml",
                                 config_text({{"databricks", databricks.url()},
                                              {"databricks_ca", databricks.certs().ca.string()},
                                              {"kubernetes", kubernetes.url()},
                                              {"kubernetes_ca", kubernetes.certs().ca.string()},
                                              {"arm", arm.url()},
                                              {"arm_ca", arm.certs().ca.string()},
                                              {"login", login.url()},
                                              {"login_ca", login.certs().ca.string()},
                                              {"storage", storage.url()},
                                              {"storage_ca", storage.certs().ca.string()}}));
  const RunEnv env{{{"IT_DATABRICKS_TOKEN", kDatabricksToken},
                    {"IT_KUBE_TOKEN", kKubeToken},
                    {"IT_CLIENT_SECRET", kClientSecret},
                    {"IT_STORAGE_TOKEN", kStorageToken}}};
  const auto report_path = dir.path() / "report.json";
  const auto r = run_triage(
      {"run", "-c", config.string(), "-f", "json", "-o", report_path.string(), "-v"}, env);
  INFO(describe(r));
  const auto report = parse_json(r.out);
  CHECK(schema_errors(report).empty());
  // The Kubernetes fixture has deployments with no replica available: critical.
  CHECK(r.exit_code == 2);
  CHECK(check_of(report, "workspace").at("status") == "ok");
  CHECK(check_of(report, "aks").at("status") == "critical");
  CHECK(check_of(report, "quota").at("status") == "critical");  // one family at 97 %
  CHECK(check_of(report, "lake-replica").at("status") == "warning");

  // Each credential reached its API (the fixtures of Databricks, Kubernetes
  // and Resource Manager answer only to them)...
  auto authorization_of = [](const ReplayServer& s) {
    std::vector<std::string> values;
    for (const auto& q : s.requests())
      if (auto it = q.headers.find("authorization"); it != q.headers.end())
        values.push_back(it->second);
    return values;
  };
  for (const auto& [server, token] :
       std::vector<std::pair<const ReplayServer*, std::string>>{{&databricks, kDatabricksToken},
                                                                {&kubernetes, kKubeToken},
                                                                {&arm, kArmToken},
                                                                {&storage, kStorageToken}}) {
    const auto seen = authorization_of(*server);
    REQUIRE_FALSE(seen.empty());
    for (const auto& value : seen) CHECK(value == "Bearer " + token);
  }
  REQUIRE(login.requests().size() == 1);
  CHECK(login.requests().front().body.find("client_secret=") != std::string::npos);

  // ...and none of them, nor the token Entra ID issued, is in any output.
  const std::string file = read_file(report_path);
  CHECK_FALSE(file.empty());
  for (const std::string& secret :
       {kDatabricksToken, kKubeToken, kClientSecret, kStorageToken, kArmToken}) {
    INFO("secret " << secret);
    CHECK(r.out.find(secret) == std::string::npos);
    CHECK(r.err.find(secret) == std::string::npos);
    CHECK(file.find(secret) == std::string::npos);
  }
  // The text view an operator reads names the problems in the runbook's words.
  const auto text = run_triage({"report", report_path.string(), "-f", "text"});
  INFO(describe(text));
  CHECK(text.out.find("Quota limit") != std::string::npos);
  CHECK(text.out.find("Data Lake RPO") != std::string::npos);
}
