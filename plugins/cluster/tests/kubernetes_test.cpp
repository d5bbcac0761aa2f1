// The kubernetes check against a replay of the Kubernetes API server's
// documented responses (tests/support/replays/kubernetes.json; there is no
// local API server here): a healthy cluster, every problem the check detects,
// pagination with limit/continue, an expired continue token (410), 401 and
// 403 with the API server's Status bodies, 429 with Retry-After, a 500, a
// slow answer past the deadline, malformed bodies, an endpoint that never
// answers, bad params, and kubeconfig files (CA and client certificate as
// *-data, tokens, contexts, what is refused). No test sleeps to pass and none
// asserts on timing.
//
// The fixture was written from these pages of the Kubernetes documentation:
//   https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/node-v1/
//   https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/
//   https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/
//   https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
//   https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/list-meta/
//   https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
//   https://kubernetes.io/docs/concepts/architecture/nodes/#condition
//   https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-state-waiting
//   https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status
//   https://kubernetes.io/docs/reference/access-authn-authz/authentication/
//   https://kubernetes.io/docs/reference/access-authn-authz/rbac/
//   https://kubernetes.io/docs/concepts/cluster-administration/flow-control/
//   https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <triage/testing.hpp>

#include "check_result.hpp"
#include "checks.hpp"
#include "kubeconfig.hpp"
#include "replay_server.hpp"
#include "services.hpp"

using nlohmann::json;
using triage::Severity;
using triage::Status;
using triage::cluster::KubernetesCheck;
using triage::test::all_text;
using triage::test::Blackhole;
using triage::test::has;
using triage::test::ReplayServer;
using triage::test::TempDir;
using triage::test::value;
namespace testing = triage::testing;

namespace {

// A std::string: two string literals would also match ReplayServer(json, scenario).
const std::string kFixture = "kubernetes";
constexpr const char* kToken = "eyJhbGciOiJSUzI1NiJ9.replay-k8s-sa-token.c2lnbmF0dXJlLXNlY3JldA";

testing::Options options(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  testing::Options o(timeout);
  o.thresholds["api_ms"] = {"~:", "~:"};  // speed is for benchmarks, not tests
  return o;
}

testing::Result run(const json& params, testing::Options o = options()) {
  return testing::run<KubernetesCheck>(params, o);
}

json params_for(const ReplayServer& server, json extra = json::object()) {
  json p = {
      {"target", server.url()}, {"ca_file", server.certs().ca.string()}, {"bearer_token", kToken}};
  for (const auto& [k, v] : extra.items()) p[k] = v;
  return p;
}

const testing::Finding* finding(const testing::Result& r, const std::string& title_part) {
  for (const auto& f : r.findings)
    if (has(f.title, title_part)) return &f;
  return nullptr;
}

std::size_t requests_to(const ReplayServer& s, const std::string& path) {
  std::size_t n = 0;
  for (const auto& q : s.requests())
    if (q.path == path) ++n;
  return n;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string base64(const std::string& data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                       (static_cast<unsigned char>(data[i + 1]) << 8) |
                       static_cast<unsigned char>(data[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < data.size()) {
    unsigned v = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::filesystem::path write(const TempDir& dir, const std::string& name, const std::string& text) {
  const auto path = dir.path() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace

TEST_CASE("kubernetes: a healthy cluster is ok, read with a bearer token over TLS",
          "[kubernetes]") {
  ReplayServer server(kFixture);
  const auto r = run(params_for(server));
  INFO(all_text(r));
  CHECK(r.error.empty());
  CHECK(r.refused_params.empty());
  CHECK(r.undeclared.empty());
  CHECK(r.status() == Status::ok);
  CHECK(value(r, "nodes") == 2);
  CHECK(value(r, "nodes_not_ready") == 0);
  CHECK(value(r, "nodes_under_pressure") == 0);
  CHECK(value(r, "pods") == 3);
  CHECK(value(r, "pods_crashlooping") == 0);
  CHECK(value(r, "pods_image_pull_failing") == 0);
  CHECK(value(r, "pods_pending") == 0);
  // cart's 3 restarts ended a day ago: outside the default 1 h window.
  CHECK(value(r, "restarts") == 0);
  CHECK(value(r, "deployments") == 3);
  CHECK(value(r, "deployments_unavailable") == 0);
  CHECK(r.findings.empty());
  CHECK(has(r.summary, "2 node(s)"));
  CHECK(r.attributes.at("credential") == "bearer token (bearer_token)");
  CHECK(r.attributes.at("namespace") == "(all)");

  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& q : requests) {
    CHECK(q.headers.find("authorization")->second == std::string("Bearer ") + kToken);
    CHECK(q.query.find("limit")->second == "250");
    CHECK(q.query.count("continue") == 0);
  }
  CHECK(!has(all_text(r), kToken));
}

TEST_CASE("kubernetes: a namespace limits pods and deployments, not nodes", "[kubernetes]") {
  ReplayServer server(kFixture);
  const auto r = run(params_for(server, {{"namespace", "shop"}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  CHECK(value(r, "pods") == 2);
  CHECK(value(r, "deployments") == 2);
  CHECK(value(r, "nodes") == 2);
  CHECK(requests_to(server, "/api/v1/namespaces/shop/pods") == 1);
  CHECK(requests_to(server, "/apis/apps/v1/namespaces/shop/deployments") == 1);
  CHECK(requests_to(server, "/api/v1/pods") == 0);
}

TEST_CASE("kubernetes: nodes, pods and deployments in trouble are each named", "[kubernetes]") {
  ReplayServer server(kFixture, "problems");
  const auto r = run(params_for(server));
  const std::string text = all_text(r);
  INFO(text);
  CHECK(r.error.empty());
  CHECK(r.undeclared.empty());

  SECTION("nodes not ready and under pressure") {
    CHECK(value(r, "nodes") == 3);
    CHECK(value(r, "nodes_not_ready") == 1);
    CHECK(value(r, "nodes_under_pressure") == 1);
    const auto* nr = finding(r, "Node not Ready: node-b");
    REQUIRE(nr != nullptr);
    CHECK(nr->severity == Severity::warning);
    CHECK(has(nr->detail, "Unknown"));
    CHECK(has(nr->detail, "Kubelet stopped posting node status"));
    const auto* mp = finding(r, "resource pressure: node-c");
    REQUIRE(mp != nullptr);
    CHECK(has(mp->detail, "MemoryPressure"));
    CHECK(has(mp->remediation, "Resource pressure"));
  }
  SECTION("pods crash-looping, failing to pull, pending, restarted, OOMKilled") {
    CHECK(value(r, "pods") == 6);
    CHECK(value(r, "pods_crashlooping") == 1);
    CHECK(value(r, "pods_image_pull_failing") == 1);
    // spark-driver-0 is pending for 15 min; spark-exec-1 for 30 s only.
    CHECK(value(r, "pods_pending") == 1);
    CHECK(value(r, "restarts") == 9);  // 7 of cart's crash loop, 2 of web's
    CHECK(value(r, "oom_kills") == 1);
    CHECK(value(r, "pod_restarts[shop/cart-5b6c7d8e9f-zz9x1]") == 7);
    CHECK(value(r, "pod_restarts[shop/web-7d9f8b6c5d-x2k4q]") == 2);
    CHECK(r.metric("restarts")->status == Status::warning);

    const auto* crash = finding(r, "Pod crash-looping: shop/cart-5b6c7d8e9f-zz9x1");
    REQUIRE(crash != nullptr);
    CHECK(has(crash->detail, "OOMKilled"));
    CHECK(has(crash->detail, "exit code 137"));
    CHECK(has(crash->remediation, "--previous"));
    const auto* pull = finding(r, "Pod cannot pull its image: shop/search");
    REQUIRE(pull != nullptr);
    CHECK(has(pull->detail, "ImagePullBackOff"));
    CHECK(has(pull->detail, "registry.example/shop/search:v9"));
    const auto* pending = finding(r, "Pending longer than 5m: analytics/spark-driver-0");
    REQUIRE(pending != nullptr);
    CHECK(has(pending->detail, "Insufficient cpu"));
    CHECK(has(pending->remediation, "scale up"));
    CHECK(finding(r, "spark-exec-1") == nullptr);
    const auto* oom = finding(r, "Container OOMKilled");
    REQUIRE(oom != nullptr);
    CHECK(has(oom->remediation, "Memory errors"));
    CHECK(has(oom->remediation, "Increase its memory limit"));
  }
  SECTION("deployments short of replicas; one with none is a service down") {
    CHECK(value(r, "deployments") == 3);
    CHECK(value(r, "deployments_unavailable") == 2);
    CHECK(value(r, "deployment_unavailable_replicas[shop/web]") == 2);
    CHECK(value(r, "deployment_unavailable_replicas[shop/cart]") == 2);
    const auto* cart = finding(r, "Deployment shop/cart has no replica available");
    REQUIRE(cart != nullptr);
    CHECK(cart->severity == Severity::critical);
    CHECK(has(cart->detail, "ProgressDeadlineExceeded"));
    const auto* web = finding(r, "Deployment shop/web is short of 2 replica(s)");
    REQUIRE(web != nullptr);
    CHECK(web->severity == Severity::warning);
    CHECK(r.status() == Status::critical);
  }
  SECTION("per_item bounds the per-item metrics") {
    const auto few = run(params_for(server, {{"per_item", 1}}));
    int per_item = 0;
    for (const auto& m : few.metrics)
      if (has(m.name, "pod_restarts[")) ++per_item;
    CHECK(per_item == 1);
    CHECK(few.metric("pod_restarts[shop/cart-5b6c7d8e9f-zz9x1]") != nullptr);
  }
  CHECK(!has(text, kToken));
}

TEST_CASE("kubernetes: lists are read page by page with limit and continue", "[kubernetes]") {
  ReplayServer server(kFixture, "paged");
  const auto r = run(params_for(server, {{"page_size", 2}}));
  INFO(all_text(r));
  CHECK(r.error.empty());
  CHECK(value(r, "nodes") == 3);
  CHECK(value(r, "nodes_not_ready") == 1);  // node-c, on the first page
  CHECK(value(r, "pods") == 3);
  CHECK(r.attributes.at("pages") == "nodes 2, pods 2, deployments 1");
  CHECK(requests_to(server, "/api/v1/nodes") == 2);
  CHECK(requests_to(server, "/api/v1/pods") == 2);
  // The token (base64 with '=') arrives as the server gave it.
  bool continued = false;
  for (const auto& q : server.requests())
    if (q.path == "/api/v1/nodes" && q.query.count("continue") == 1)
      continued = q.query.find("continue")->second ==
                  "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6ODEyNDAsInN0YXJ0Ijoibm9kZS1hXHUwMDAwIn0=";
  CHECK(continued);
}

TEST_CASE("kubernetes: an expired continue token restarts the list once", "[kubernetes]") {
  SECTION("expired once: the list is read again, nothing counted twice") {
    ReplayServer server(kFixture, "expired");
    const auto r = run(params_for(server, {{"page_size", 2}}));
    INFO(all_text(r));
    CHECK(r.error.empty());
    CHECK(r.status() == Status::ok);
    CHECK(value(r, "pods") == 3);
    CHECK(requests_to(server, "/api/v1/pods") == 4);
    bool logged = false;
    for (const auto& l : r.logs) logged = logged || has(l, "410 Gone");
    CHECK(logged);
  }
  SECTION("expired again after the restart: unknown, saying so") {
    ReplayServer server(kFixture, "expired_twice");
    const auto r = run(params_for(server, {{"page_size", 2}}));
    INFO(all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "continue token expired (410 Gone) twice"));
    CHECK(requests_to(server, "/api/v1/pods") == 4);
  }
}

TEST_CASE("kubernetes: 401 Unauthorized names the credential problem", "[kubernetes]") {
  ReplayServer server(kFixture, "unauthorized");
  const auto r = run(params_for(server));
  const std::string text = all_text(r);
  INFO(text);
  CHECK(r.status() == Status::critical);
  const auto* f = finding(r, "refused the credentials (401 Unauthorized)");
  REQUIRE(f != nullptr);
  CHECK(f->severity == Severity::critical);
  CHECK(has(f->remediation, "token"));
  CHECK(has(f->detail, "HTTP 401 Unauthorized"));
  CHECK(requests_to(server, "/api/v1/pods") == 0);  // no point asking again
  CHECK(!has(text, kToken));
}

TEST_CASE("kubernetes: 403 Forbidden names the RBAC rule missing", "[kubernetes]") {
  SECTION("every list forbidden: critical, with the API server's message") {
    ReplayServer server(kFixture, "forbidden");
    const auto r = run(params_for(server));
    const std::string text = all_text(r);
    INFO(text);
    CHECK(r.status() == Status::critical);
    const auto* f = finding(r, "RBAC forbids listing pods (403 Forbidden)");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "system:serviceaccount:monitoring:triage"));
    CHECK(has(f->remediation, "ClusterRole"));
    CHECK(has(f->remediation, "kubectl auth can-i list pods"));
    CHECK(finding(r, "RBAC forbids listing deployments") != nullptr);
    CHECK(has(r.summary, "RBAC forbids listing"));
    CHECK(!has(text, kToken));
  }
  SECTION("a namespaced identity that may not list nodes: a warning, pods still judged") {
    ReplayServer server(kFixture, "forbidden_nodes");
    const auto r = run(params_for(server, {{"namespace", "shop"}}));
    INFO(all_text(r));
    CHECK(r.status() == Status::warning);
    const auto* f = finding(r, "RBAC forbids listing nodes");
    REQUIRE(f != nullptr);
    CHECK(f->severity == Severity::warning);
    CHECK(value(r, "pods") == 2);
    CHECK(r.metric("nodes") == nullptr);
  }
}

TEST_CASE("kubernetes: 429 with Retry-After is waited out within the deadline", "[kubernetes]") {
  SECTION("throttled once, then answered") {
    ReplayServer server(kFixture, "throttled");
    const auto r = run(params_for(server));
    INFO(all_text(r));
    CHECK(r.status() == Status::ok);
    CHECK(value(r, "nodes") == 2);
    CHECK(requests_to(server, "/api/v1/nodes") == 2);
  }
  SECTION("a Retry-After past the deadline is not waited for: critical") {
    ReplayServer server(kFixture, "throttled_always");
    const auto r = run(params_for(server), options(std::chrono::seconds(5)));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    CHECK(finding(r, "throttling requests (429 Too Many Requests)") != nullptr);
    CHECK(requests_to(server, "/api/v1/nodes") == 1);
  }
}

TEST_CASE("kubernetes: a 500 from the API server is critical, quoting its Status", "[kubernetes]") {
  ReplayServer server(kFixture, "server_error");
  const auto r = run(params_for(server));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  const auto* f = finding(r, "unavailable (HTTP 500)");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "etcdserver: request timed out"));
}

TEST_CASE("kubernetes: an answer slower than the deadline is critical", "[kubernetes]") {
  ReplayServer server(kFixture, "slow");
  const auto r = run(params_for(server), options(std::chrono::milliseconds(1500)));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(finding(r, "did not answer in time") != nullptr);
}

TEST_CASE("kubernetes: a malformed or foreign body is unknown, never a crash", "[kubernetes]") {
  SECTION("cut JSON") {
    ReplayServer server(kFixture, "malformed");
    const auto r = run(params_for(server));
    INFO(all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "is not a NodeList: not JSON"));
  }
  SECTION("an HTML page") {
    ReplayServer server(kFixture, "not_a_list");
    const auto r = run(params_for(server));
    INFO(all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "NodeList"));
  }
}

TEST_CASE("kubernetes: an endpoint that never answers is critical within the timeout",
          "[kubernetes]") {
  Blackhole hole;
  const auto r = run(
      {{"target", "https://127.0.0.1:" + std::to_string(hole.port())}, {"bearer_token", kToken}},
      options(std::chrono::milliseconds(1500)));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(finding(r, "did not answer in time") != nullptr);
  CHECK(!has(all_text(r), kToken));
}

TEST_CASE("kubernetes: an untrusted certificate is a TLS failure, never skipped", "[kubernetes]") {
  ReplayServer server(kFixture);
  const auto r = run({{"target", server.url()}, {"bearer_token", kToken}});
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  const auto* f = finding(r, "TLS with the Kubernetes API server failed");
  REQUIRE(f != nullptr);
  CHECK(has(f->remediation, "ca_file"));
  CHECK(server.requests().empty());
}

TEST_CASE("kubernetes: bad params are unknown, naming the param", "[kubernetes]") {
  // No server: params are refused before anything is asked.
  TempDir dir;
  const auto certs = triage::test::make_certs(dir.path());
  const json good = {{"target", "https://localhost:6443"},
                     {"ca_file", certs.ca.string()},
                     {"bearer_token", kToken}};
  const auto with = [&](json extra) {
    json p = good;
    for (const auto& [k, v] : extra.items()) p[k] = v;
    return p;
  };
  const auto error_of = [](const json& p) {
    const auto r = run(p);
    CHECK(r.status() == Status::unknown);
    CHECK(!has(all_text(r), kToken));
    return r.error;
  };
  CHECK(has(error_of({{"namespace", "shop"}}), "'target'"));
  CHECK(has(error_of(with({{"context", "prod"}})), "'context' needs param 'kubeconfig'"));
  CHECK(has(error_of(with({{"window", "an hour"}})), "'window'"));
  CHECK(has(error_of(with({{"pending_for", "5x"}})), "'pending_for'"));
  CHECK(has(error_of(with({{"namespace", "Shop_1"}})), "'namespace'"));
  CHECK(has(error_of(with({{"page_size", 0}})), "'page_size'"));
  CHECK(has(error_of(with({{"verbose", true}})), "unknown param 'verbose'"));
  CHECK(has(error_of(with({{"cert_file", certs.client_cert.string()}})),
            "'cert_file' and 'key_file'"));
  CHECK(has(error_of(with({{"ca_file", (dir.path() / "absent.pem").string()}})), "'ca_file'"));
  CHECK(
      has(error_of({{"target", "http://127.0.0.1:8001"}, {"bearer_token", kToken}}), "plain http"));
  CHECK(has(error_of({{"target", "ftp://example.invalid"}}), "'target'"));
}

TEST_CASE("kubernetes: a kubeconfig with CA and client certificate as *-data", "[kubernetes]") {
  ReplayServer server(kFixture);
  TempDir dir;
  const auto& certs = server.certs();
  const std::string key_pem = read_file(certs.client_key);
  const auto path = write(dir, "config",
                          "apiVersion: v1\n"
                          "kind: Config\n"
                          "clusters:\n"
                          "- name: replay\n"
                          "  cluster:\n"
                          "    server: " +
                              server.url() + "\n" +
                              "    certificate-authority-data: " + base64(read_file(certs.ca)) +
                              "\n"
                              "users:\n"
                              "- name: admin\n"
                              "  user:\n"
                              "    client-certificate-data: " +
                              base64(read_file(certs.client_cert)) +
                              "\n"
                              "    client-key-data: " +
                              base64(key_pem) +
                              "\n"
                              "contexts:\n"
                              "- name: admin@replay\n"
                              "  context:\n"
                              "    cluster: replay\n"
                              "    user: admin\n"
                              "current-context: admin@replay\n");
  const auto r = run({{"kubeconfig", path.string()}});
  const std::string text = all_text(r);
  INFO(text);
  CHECK(r.error.empty());
  CHECK(r.status() == Status::ok);
  CHECK(value(r, "nodes") == 2);
  CHECK(r.attributes.at("context") == "admin@replay");
  CHECK(r.attributes.at("credential") == "client certificate");
  // The replay server does not ask for client certificates, so what can be
  // seen is that the certificate was loaded (libcurl refuses a bad pair
  // before connecting) and that no bearer token was sent instead.
  for (const auto& q : server.requests()) CHECK(q.headers.count("authorization") == 0);
  CHECK(server.requests().size() == 3);
  // Neither the key nor a line of it is reported.
  CHECK(!has(text, "PRIVATE KEY"));
  CHECK(!has(text, key_pem.substr(40, 40)));
}

TEST_CASE("kubernetes: kubeconfig contexts, tokens and token files", "[kubernetes]") {
  ReplayServer server(kFixture);
  TempDir dir;
  write(dir, "token", std::string(kToken) + "\n");
  write(dir, "ca.crt", read_file(server.certs().ca));
  // Relative paths are taken from the kubeconfig's folder, as kubectl does.
  const auto path =
      write(dir, "config",
            "apiVersion: v1\nkind: Config\n"
            "clusters:\n"
            "- name: replay\n  cluster:\n    server: " +
                server.url() +
                "\n    certificate-authority: ca.crt\n"
                "- name: elsewhere\n  cluster:\n    server: https://127.0.0.1:1\n"
                "users:\n"
                "- name: inline\n  user:\n    token: " +
                kToken +
                "\n"
                "- name: from-file\n  user:\n    tokenFile: token\n"
                "contexts:\n"
                "- name: other\n  context:\n    cluster: elsewhere\n    user: inline\n"
                "- name: replay-inline\n  context:\n    cluster: replay\n    user: inline\n"
                "    namespace: shop\n"
                "- name: replay-file\n  context:\n    cluster: replay\n    user: from-file\n"
                "current-context: other\n");
  SECTION("an inline token, a context named, the context's namespace not applied") {
    const auto r = run({{"kubeconfig", path.string()}, {"context", "replay-inline"}});
    INFO(all_text(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("credential") == "bearer token");
    CHECK(value(r, "pods") == 3);
    CHECK(server.requests().front().headers.find("authorization")->second ==
          std::string("Bearer ") + kToken);
    CHECK(!has(all_text(r), kToken));
  }
  SECTION("a token file") {
    const auto r = run({{"kubeconfig", path.string()}, {"context", "replay-file"}});
    INFO(all_text(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("credential") == "token file");
    CHECK(server.requests().front().headers.find("authorization")->second ==
          std::string("Bearer ") + kToken);
    CHECK(!has(all_text(r), kToken));
  }
  SECTION("target overrides the context's server") {
    const auto r =
        run({{"kubeconfig", path.string()}, {"target", server.url()}, {"namespace", "shop"}});
    INFO(all_text(r));
    CHECK(r.attributes.at("context") == "other");
    // The context 'other' has no CA for the replay server: the system store does not trust it.
    CHECK(finding(r, "TLS") != nullptr);
  }
}

TEST_CASE("kubernetes: kubeconfig users and clusters Triage refuses", "[kubernetes]") {
  TempDir dir;
  const std::string head =
      "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
      "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n";
  const auto error_of = [&](const std::string& body) {
    const auto path = write(dir, "config", head + body);
    const auto r = run({{"kubeconfig", path.string()}});
    CHECK(r.status() == Status::unknown);
    return r.error;
  };
  const std::string cluster =
      "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n";
  SECTION("an exec credential plugin") {
    const auto e = error_of(cluster +
                            "users:\n- name: u\n  user:\n    exec:\n"
                            "      apiVersion: client.authentication.k8s.io/v1\n"
                            "      command: kubelogin\n");
    CHECK(has(e, "exec plugin"));
    CHECK(has(e, "not supported"));
  }
  SECTION("an auth-provider") {
    CHECK(has(
        error_of(cluster + "users:\n- name: u\n  user:\n    auth-provider:\n      name: oidc\n"),
        "auth-provider"));
  }
  SECTION("insecure-skip-tls-verify") {
    const auto e = error_of(
        "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n"
        "    insecure-skip-tls-verify: true\n"
        "users:\n- name: u\n  user:\n    token: abc\n");
    CHECK(has(e, "insecure-skip-tls-verify"));
    CHECK(has(e, "always verifies"));
  }
  SECTION("a *-data field that is not base64 PEM") {
    CHECK(has(error_of(cluster + "users:\n- name: u\n  user:\n    client-certificate-data: "
                                 "bm90IGEgY2VydA==\n    client-key-data: bm90IGEga2V5\n"),
              "does not decode to PEM"));
  }
  SECTION("an unknown context") {
    const auto path = write(dir, "config", head + cluster + "users:\n- name: u\n  user: {}\n");
    const auto r = run({{"kubeconfig", path.string()}, {"context", "nope"}});
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "no context named 'nope'"));
  }
  SECTION("not YAML") {
    const auto path = write(dir, "config", "clusters: [unclosed\n");
    const auto r = run({{"kubeconfig", path.string()}});
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "not valid YAML"));
  }
  SECTION("a missing file") {
    const auto r = run({{"kubeconfig", (dir.path() / "absent").string()}});
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "cannot read"));
  }
}

TEST_CASE("kubernetes: base64 of kubeconfig *-data fields", "[kubernetes]") {
  using triage::cluster::kube::base64_decode;
  CHECK(base64_decode("aGVsbG8=") == std::optional<std::string>("hello"));
  CHECK(base64_decode("aGVs\nbG8") == std::optional<std::string>("hello"));
  CHECK(base64_decode("") == std::optional<std::string>(""));
  CHECK(!base64_decode("aGVsbG8=x").has_value());
  CHECK(!base64_decode("a*b").has_value());
}
