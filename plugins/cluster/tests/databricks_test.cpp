// The databricks check against tests/support/replays/databricks.json, a
// documented-response replay of a workspace's Clusters API 2.0 and Jobs API
// 2.1 served on 127.0.0.1 by triage::test::ReplayServer; it is not the
// service. The fixture was written from these pages:
//   https://docs.databricks.com/api/workspace/clusters/list
//   https://docs.databricks.com/api/workspace/clusters/get
//   https://docs.databricks.com/api/workspace/jobs/listruns
//   https://learn.microsoft.com/en-us/azure/databricks/dev-tools/api/latest/clusters
//   https://docs.databricks.com/dev-tools/api/latest/clusters.html
//   https://learn.microsoft.com/en-us/azure/databricks/kb/clusters/termination-reasons
//   https://databricks.github.io/sdk-js/api/interfaces/_databricks_sdk-clusters.v2.ListClustersResponse.html
//   https://databricks.github.io/sdk-js/api/interfaces/_databricks_sdk-jobs.v2.ListRunsRequest.html
//   https://github.com/databricks/databricks-sdk-go/issues/873 (a 403 "Invalid access token." body)
//   https://github.com/databricks/databricks-sdk-py/blob/main/tests/test_errors.py (error codes)
// Covered: a healthy workspace over two pages, each problem the check
// detects, cluster_ids, 401 and 403 bodies, 429 with Retry-After, 5xx, an
// answer past the deadline, malformed answers, an endpoint that never
// answers, bounded paging, bad params, a cancel, and that the token never
// shows. No test sleeps to pass and none asserts on timing.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <triage/testing.hpp>

#include "azure_identity.hpp"
#include "check_result.hpp"
#include "checks.hpp"
#include "databricks_api.hpp"
#include "replay_server.hpp"

using nlohmann::json;
using triage::Severity;
using triage::Status;
using triage::cluster::DatabricksCheck;
using triage::test::all_text;
using triage::test::Blackhole;
using triage::test::has;
using triage::test::ReplayServer;
using triage::test::value;
namespace testing = triage::testing;
namespace db = triage::cluster::databricks;

namespace {

const std::string kToken = "dapi0123456789abcdef0123456789abcdef-2";
// A std::string, not a literal: a literal would convert to a JSON fixture too.
const std::string kFixture = "databricks";

testing::Options options(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  testing::Options o(timeout);
  o.thresholds["api_ms"] = {"~:", "~:"};
  return o;
}

json params(const ReplayServer& server, json extra = json::object()) {
  json p = {{"target", server.url()}, {"token", kToken}, {"ca_file", server.certs().ca.string()}};
  for (auto& [k, v] : extra.items()) p[k] = v;
  return p;
}

testing::Result run(const json& p, testing::Options o = options()) {
  return testing::run<DatabricksCheck>(p, o);
}

// Everything a result says, for INFO and for looking for the token.
std::vector<ReplayServer::Request> requests_to(const ReplayServer& s, const std::string& path) {
  std::vector<ReplayServer::Request> out;
  for (auto& r : s.requests())
    if (r.path == path) out.push_back(r);
  return out;
}

std::string query(const ReplayServer::Request& r, const std::string& name) {
  const auto it = r.query.find(name);
  return it == r.query.end() ? "" : it->second;
}

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("databricks: a healthy workspace, two pages of clusters and of active runs, is ok",
          "[databricks]") {
  ReplayServer server(kFixture);
  const auto r = run(params(server, {{"streaming_jobs", json::array({1001, "orders-stream"})}}));
  INFO(all_text(r));
  CHECK(r.error.empty());
  CHECK(r.refused_params.empty());
  CHECK(r.undeclared.empty());
  CHECK(r.status() == Status::ok);
  CHECK(r.findings.empty());
  CHECK(value(r, "clusters") == 5);
  CHECK(value(r, "clusters_running") == 2);
  CHECK(value(r, "workers_total") == 7);
  CHECK(value(r, "cluster_workers[etl-shared]") == 4);
  CHECK(value(r, "cluster_workers[clickstream]") == 3);
  CHECK(value(r, "clusters_error") == 0);
  CHECK(value(r, "clusters_terminated_unexpectedly") == 0);
  CHECK(value(r, "clusters_at_max") == 0);
  CHECK(value(r, "runs_active") == 3);
  CHECK(value(r, "runs_completed") == 4);
  CHECK(value(r, "runs_failed") == 0);
  CHECK(value(r, "runs_runaway") == 0);
  CHECK(value(r, "streaming_jobs_down") == 0);
  CHECK(value(r, "longest_run_hours") < 1);  // hourly-aggregates, 20 min; streams left out
  CHECK(r.attributes.at("workspace") == server.url());
  CHECK(r.attributes.at("streaming_jobs") == "2 of 2 running");
  CHECK(has(r.summary, "5 cluster(s), 2 running with 7 worker(s)"));

  // Both listings were followed to their last page, with the token in a header only.
  const auto lists = requests_to(server, "/api/2.0/clusters/list");
  REQUIRE(lists.size() == 2);
  CHECK(query(lists[1], "page_token") == "eyJvZmZzZXQiOjN9");
  const auto runs = requests_to(server, "/api/2.1/jobs/runs/list");
  REQUIRE(runs.size() == 3);
  CHECK(query(runs[0], "active_only") == "true");
  CHECK(query(runs[1], "page_token") == "CAEomPuciYcxMKbM9JvMlwU=");
  CHECK(query(runs[2], "completed_only") == "true");
  CHECK(query(runs[2], "limit") == "25");
  // start_time_from is the window's start, 24 h ago by default.
  const long long from = std::stoll(query(runs[2], "start_time_from"));
  CHECK(from < now_ms() - 23LL * 3600 * 1000);
  CHECK(from > now_ms() - 25LL * 3600 * 1000);
  for (const auto& q : server.requests()) {
    REQUIRE(q.headers.count("authorization") == 1);
    CHECK(q.headers.find("authorization")->second == "Bearer " + kToken);
    for (const auto& [k, v] : q.query) CHECK_FALSE(has(v, kToken));
  }
  CHECK_FALSE(has(all_text(r), kToken));
}

TEST_CASE("databricks: a long run of a job not named in streaming_jobs is a runaway",
          "[databricks]") {
  ReplayServer server(kFixture);
  // orders-stream has run for 2 days as a one-time run: a stream to the
  // operator, a runaway to a check that is not told so.
  const auto r = run(params(server, {{"max_job_hours", 24}}));
  INFO(all_text(r));
  CHECK(r.status() == Status::warning);
  CHECK(value(r, "runs_runaway") == 1);
  CHECK(value(r, "longest_run_hours") > 47);
  const auto* f = r.finding(Severity::warning, "Cost spike");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "run 7003 of orders-stream"));
  CHECK(has(f->remediation, "runaway jobs -> implement job timeout"));
  CHECK(r.metric("streaming_jobs_down") == nullptr);  // none asked for

  // A limit above its age: no runaway.
  const auto calm = run(params(server, {{"max_job_hours", 72}}));
  INFO(all_text(calm));
  CHECK(calm.status() == Status::ok);
  CHECK(value(calm, "runs_runaway") == 0);
}

TEST_CASE("databricks: every problem is found and named in the runbook's words", "[databricks]") {
  ReplayServer server(kFixture, "problems");
  const auto r = run(params(
      server, {{"streaming_jobs", json::array({1001, "orders-stream"})}, {"max_job_hours", 24}}));
  INFO(all_text(r));
  CHECK(r.error.empty());
  CHECK(r.status() == Status::critical);

  // A cluster in ERROR, with its state message and termination reason.
  CHECK(value(r, "clusters_error") == 1);
  const auto* error = r.finding(Severity::critical, "reporting is in ERROR");
  REQUIRE(error != nullptr);
  CHECK(has(error->detail, "INIT_SCRIPT_FAILURE"));
  CHECK(has(error->detail, "Init script failure"));

  // Terminated unexpectedly within the window: code, type and parameters
  // named; a user's, inactivity's and an old termination are not counted.
  CHECK(value(r, "clusters_terminated_unexpectedly") == 1);
  const auto* gpu = r.finding(Severity::warning, "gpu-train terminated unexpectedly");
  REQUIRE(gpu != nullptr);
  CHECK(has(gpu->title, "CLOUD_PROVIDER_LAUNCH_FAILURE"));
  CHECK(has(gpu->detail, "type CLOUD_FAILURE"));
  CHECK(has(gpu->detail, "azure_error_code=QuotaExceeded"));
  CHECK(has(gpu->remediation, "80 % of quota"));
  CHECK(r.finding(Severity::warning, "adhoc-analytics") == nullptr);
  CHECK(r.finding(Severity::warning, "ml-sandbox") == nullptr);
  CHECK(r.finding(Severity::warning, "old-crash") == nullptr);
  CHECK(r.attributes.at("terminated_unexpectedly_before_window") == "1");

  // At its autoscale maximum: the runbook's High latency row.
  CHECK(value(r, "clusters_at_max") == 1);
  CHECK(value(r, "cluster_workers[etl-shared]") == 8);
  const auto* maxed = r.finding(Severity::warning, "autoscale maximum");
  REQUIRE(maxed != nullptr);
  CHECK(has(maxed->title, "cluster undersized"));
  CHECK(has(maxed->detail, "8 of max 8 workers"));
  CHECK(has(maxed->remediation, "cluster undersized -> scale up"));

  // Failed runs: FAILED, TIMEDOUT and INTERNAL_ERROR, not CANCELED.
  CHECK(value(r, "runs_completed") == 5);
  CHECK(value(r, "runs_failed") == 3);
  const auto* failed = r.finding(Severity::warning, "failed in the last 24h");
  REQUIRE(failed != nullptr);
  CHECK(has(failed->detail, "run 9001 of daily-report: FAILED"));
  CHECK(has(failed->detail, "run 9002 of ingest-files: TIMEDOUT"));
  CHECK(has(failed->detail, "run 9003 of vacuum-tables"));
  CHECK_FALSE(has(failed->detail, "ad-hoc-export"));

  // A runaway run, and the streaming jobs that are not running.
  CHECK(value(r, "runs_runaway") == 1);
  const auto* runaway = r.finding(Severity::warning, "Cost spike");
  REQUIRE(runaway != nullptr);
  CHECK(has(runaway->detail, "run 8002 of nightly-backfill"));
  CHECK(value(r, "streaming_jobs_down") == 2);
  const auto* down = r.finding(Severity::critical, "streaming job(s) not running");
  REQUIRE(down != nullptr);
  CHECK(has(down->detail, "1001 (its run is WAITING_FOR_RETRY)"));
  CHECK(has(down->detail, "orders-stream (no active run)"));
  CHECK(r.attributes.at("streaming_jobs") == "0 of 2 running");

  // A shorter window leaves out what happened before it.
  const auto hour = run(params(server, {{"window", "1h"}}));
  INFO(all_text(hour));
  CHECK(value(hour, "runs_failed") == 0);
  CHECK(value(hour, "clusters_terminated_unexpectedly") == 0);
  CHECK(value(hour, "clusters_error") == 1);  // an ERROR counts whenever it began
}

TEST_CASE("databricks: cluster_ids are read with clusters/get; an unknown id is a warning",
          "[databricks]") {
  ReplayServer server(kFixture);
  const auto r = run(
      params(server, {{"cluster_ids", json::array({"0923-164208-meows279", "0101-000000-strm0001",
                                                   "0000-000000-missing0"})}}));
  INFO(all_text(r));
  CHECK(r.error.empty());
  CHECK(value(r, "clusters") == 2);
  CHECK(value(r, "clusters_running") == 2);
  CHECK(value(r, "workers_total") == 7);
  const auto* missing = r.finding(Severity::warning, "not found");
  REQUIRE(missing != nullptr);
  CHECK(has(missing->detail, "0000-000000-missing0"));
  CHECK(requests_to(server, "/api/2.0/clusters/list").empty());
  const auto gets = requests_to(server, "/api/2.0/clusters/get");
  REQUIRE(gets.size() == 3);
  CHECK(query(gets[2], "cluster_id") == "0000-000000-missing0");
}

TEST_CASE(
    "databricks: 401 and 403 with Databricks' error bodies are critical and name the "
    "credential problem",
    "[databricks]") {
  for (const auto& [scenario, said] : std::vector<std::pair<std::string, std::string>>{
           {"unauthenticated_401", "Credential was not sent or was of an unsupported type"},
           {"invalid_token_403", "Invalid access token."}}) {
    ReplayServer server(kFixture, scenario);
    const auto r = run(params(server));
    INFO(scenario << "\n" << all_text(r));
    CHECK(r.error.empty());
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Databricks refused the token");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, said));
    CHECK(has(f->remediation, "Create a new token"));
    CHECK(has(r.summary, "refused the token"));
    // Nothing more is asked with a refused token.
    CHECK(server.requests().size() == 1);
    CHECK_FALSE(has(all_text(r), kToken));
  }
}

TEST_CASE(
    "databricks: a 403 PERMISSION_DENIED on the Jobs API is critical; clusters are still "
    "judged",
    "[databricks]") {
  ReplayServer server(kFixture, "jobs_permission_denied");
  const auto r = run(params(server));
  INFO(all_text(r));
  CHECK(r.error.empty());
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "may not read the active job runs");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "PERMISSION_DENIED"));
  CHECK(has(f->remediation, "Can View"));
  CHECK(r.finding(Severity::critical, "refused the token") == nullptr);
  CHECK(value(r, "clusters") == 5);
  CHECK(value(r, "workers_total") == 7);
  CHECK(r.attributes.at("error_code") == "PERMISSION_DENIED");
}

TEST_CASE("databricks: a 429 with Retry-After is waited out, within the deadline", "[databricks]") {
  {
    ReplayServer server(kFixture, "throttled_once");
    const auto r = run(params(server, {{"streaming_jobs", json::array({1001, "orders-stream"})}}));
    INFO(all_text(r));
    CHECK(r.error.empty());
    CHECK(r.status() == Status::ok);
    CHECK(value(r, "clusters") == 5);
    CHECK(r.attributes.at("throttled_retries") == "1");
    CHECK(requests_to(server, "/api/2.0/clusters/list").size() == 3);  // 429, page 1, page 2
  }
  {
    // An hour's wait does not fit: the check could not judge, and says why.
    ReplayServer server(kFixture, "throttled_long");
    const auto r = run(params(server), options(std::chrono::seconds(3)));
    INFO(all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "throttled"));
    CHECK(has(r.error, "REQUEST_LIMIT_EXCEEDED"));
    CHECK(has(r.error, "Retry-After 3600 s"));
    CHECK(server.requests().size() == 1);
  }
}

TEST_CASE("databricks: server errors are critical: 503, 500 on the Jobs API, a proxy's 502 page",
          "[databricks]") {
  {
    ReplayServer server(kFixture, "unavailable_503");
    const auto r = run(params(server));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Databricks API unavailable (HTTP 503)");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "TEMPORARILY_UNAVAILABLE"));
    CHECK(r.metric("clusters") == nullptr);
  }
  {
    ReplayServer server(kFixture, "jobs_internal_error");
    const auto r = run(params(server));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "unavailable (HTTP 500)");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "INTERNAL_ERROR"));
    CHECK(has(f->detail, "/api/2.1/jobs/runs/list"));
    CHECK(value(r, "clusters") == 5);
  }
  {
    ReplayServer server(kFixture, "html_error");
    const auto r = run(params(server));
    INFO(all_text(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "unavailable (HTTP 502)");
    REQUIRE(f != nullptr);
    CHECK_FALSE(has(all_text(r), "<html>"));
  }
}

TEST_CASE("databricks: an answer slower than the check's timeout is critical", "[databricks]") {
  ReplayServer server(kFixture, "slow");
  const auto r = run(params(server), options(std::chrono::milliseconds(1500)));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "did not answer in time");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "/api/2.0/clusters/list"));
  CHECK(r.metric("clusters") == nullptr);
}

TEST_CASE("databricks: a malformed or wrongly shaped answer ends unknown, naming the endpoint",
          "[databricks]") {
  for (const auto& [scenario, said] : std::vector<std::pair<std::string, std::string>>{
           {"malformed", "is not JSON"}, {"wrong_shape", "\"clusters\" is not a list"}}) {
    ReplayServer server(kFixture, scenario);
    const auto r = run(params(server));
    INFO(scenario << "\n" << all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, "/api/2.0/clusters/list"));
    CHECK(has(r.error, said));
  }
}

TEST_CASE("databricks: an endpoint that never answers is critical at the deadline",
          "[databricks]") {
  Blackhole hole;
  const std::string url = "https://127.0.0.1:" + std::to_string(hole.port());
  const auto r =
      run({{"target", url}, {"token", kToken}}, options(std::chrono::milliseconds(1500)));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "did not answer in time");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "clusters/list"));
  CHECK_FALSE(has(all_text(r), kToken));
}

TEST_CASE("databricks: a cancelled run ends unknown at once", "[databricks]") {
  Blackhole hole;
  std::atomic<bool> cancel{true};
  testing::Options o(std::chrono::seconds(30), &cancel);
  const auto r =
      run({{"target", "https://127.0.0.1:" + std::to_string(hole.port())}, {"token", kToken}}, o);
  INFO(all_text(r));
  CHECK(r.status() == Status::unknown);
  CHECK(has(r.error, "cancelled"));
}

TEST_CASE("databricks: paging is bounded, and a token handed out twice ends the listing",
          "[databricks]") {
  // A server whose runs/list always says has_more, each page with a new token.
  json pages = json::array();
  for (int i = 0; i < 60; ++i)
    pages.push_back({{"status", 200},
                     {"json",
                      {{"runs", json::array({{{"job_id", 5},
                                              {"run_id", 100 + i},
                                              {"run_name", "endless"},
                                              {"state", {{"life_cycle_state", "RUNNING"}}},
                                              {"start_time", now_ms() - 60000},
                                              {"end_time", 0}}})},
                       {"has_more", true},
                       {"next_page_token", "t" + std::to_string(i)}}}});
  const json endless = {
      {"about", "test-made replay: paging without end"},
      {"routes",
       {{{"path", "/api/2.0/clusters/list"},
         {"responses", {{{"status", 200}, {"json", json::object()}}}}},
        {{"path", "/api/2.1/jobs/runs/list"},
         {"query", {{"active_only", "true"}}},
         {"responses", pages}},
        {{"path", "/api/2.1/jobs/runs/list"},
         {"responses",
          {{{"status", 200},
            {"json",
             {{"runs", json::array()}, {"has_more", true}, {"next_page_token", "same"}}}}}}}}},
      {"scenarios", json::object()}};
  ReplayServer server(endless, "");
  const auto r = run(params(server), options(std::chrono::seconds(30)));
  INFO(all_text(r));
  CHECK(r.error.empty());
  CHECK(value(r, "clusters") == 0);  // the API leaves out an empty list
  CHECK(value(r, "runs_active") == db::kMaxRunPages);
  CHECK(has(r.attributes.at("active_runs_truncated"), "yes"));
  CHECK(has(r.attributes.at("completed_runs_truncated"), "yes"));
  std::size_t active = 0, completed = 0;
  for (const auto& q : requests_to(server, "/api/2.1/jobs/runs/list"))
    (query(q, "active_only") == "true" ? active : completed) += 1;
  CHECK(active == static_cast<std::size_t>(db::kMaxRunPages));
  CHECK(completed == 2);  // the second page repeated the token
}

TEST_CASE("databricks: a token echoed by the server is redacted", "[databricks]") {
  const json echo = {
      {"about", "test-made replay: an error message that quotes the token"},
      {"routes",
       {{{"path", "/api/2.0/clusters/list"},
         {"responses",
          {{{"status", 403},
            {"json",
             {{"error_code", 403}, {"message", "Invalid access token " + kToken + "."}}}}}}}}},
      {"scenarios", json::object()}};
  ReplayServer server(echo, "");
  const auto r = run(params(server));
  INFO(all_text(r));
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "refused the token") != nullptr);
  CHECK(has(all_text(r), "Invalid access token ***"));
  CHECK_FALSE(has(all_text(r), kToken));
}

TEST_CASE("databricks: bad params end unknown, naming the param", "[databricks]") {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"target", "https://adb-1.azuredatabricks.net"}}, "token"},
      {{{"target", "http://adb-1.azuredatabricks.net"}, {"token", kToken}}, "https"},
      {{{"target", "https://adb-1.azuredatabricks.net/api"}, {"token", kToken}}, "path"},
      {{{"target", "https://user:pw@adb-1.azuredatabricks.net"}, {"token", kToken}}, "target"},
      {{{"target", "https://adb-1.azuredatabricks.net"}, {"token", "dapi x\r\nX-Evil: 1"}},
       "token"},
      {{{"target", "https://adb-1.azuredatabricks.net"}, {"token", kToken}, {"window", "24x"}},
       "window"},
      {{{"target", "https://adb-1.azuredatabricks.net"}, {"token", kToken}, {"window", "0m"}},
       "window"},
      {{{"target", "https://adb-1.azuredatabricks.net"}, {"token", kToken}, {"max_job_hours", 0}},
       "max_job_hours"},
      {{{"target", "https://adb-1.azuredatabricks.net"},
        {"token", kToken},
        {"streaming_jobs", json::array({true})}},
       "streaming_jobs"},
      {{{"target", "https://adb-1.azuredatabricks.net"},
        {"token", kToken},
        {"cluster_ids", json::array()}},
       "cluster_ids"},
      {{{"target", "https://adb-1.azuredatabricks.net"}, {"token", kToken}, {"tokne", "x"}},
       "tokne"},
  };
  for (const auto& [p, name] : cases) {
    const auto r = run(p, options(std::chrono::seconds(2)));
    INFO(p.dump() << "\n" << all_text(r));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, name));
    CHECK_FALSE(has(all_text(r), kToken));
  }
  // The schema says the same of what the core would refuse at load.
  const auto r = run({{"target", "https://adb-1.azuredatabricks.net"}, {"tokne", "x"}});
  CHECK((has(r.refused_params, "tokne") || has(r.refused_params, "'token'")));
}

TEST_CASE("databricks: hostile bodies are parsed without a crash, within bounds", "[databricks]") {
  // Numbers as strings, fields of the wrong type, and more clusters than kept.
  json clusters = json::array();
  for (std::size_t i = 0; i < db::kMaxClusters + 10; ++i)
    clusters.push_back({{"cluster_id", std::to_string(i)},
                        {"state", i == 0 ? json(42) : json("RUNNING")},
                        {"num_workers", "3"},
                        {"autoscale", {{"min_workers", "x"}, {"max_workers", 1e300}}},
                        {"executors", "not a list"},
                        {"termination_reason", {{"parameters", {{"k", {{"deep", {1, 2}}}}}}}}});
  const auto page = db::parse_cluster_page(json{{"clusters", clusters}}.dump());
  CHECK(page.clusters.size() == db::kMaxClusters);
  CHECK(page.clusters[0].state.empty());
  CHECK(page.clusters[1].workers() == 3);
  CHECK_FALSE(page.clusters[1].max_workers.has_value());
  CHECK(page.clusters[1].termination.parameters.at(0).second == "{\"deep\":[1,2]}");
  CHECK_THROWS_WITH(db::parse_cluster_page("[1,2]"), Catch::Contains("not a JSON object"));
  CHECK_THROWS_WITH(db::parse_run_page("{\"runs\": 7}"), Catch::Contains("not a list"));
  CHECK_THROWS_WITH(db::parse_cluster("{}"), Catch::Contains("cluster_id"));
  const auto runs = db::parse_run_page(
      R"({"runs":[{"run_id":"12","state":[],"start_time":-5},null,"x"],"has_more":"yes"})");
  REQUIRE(runs.runs.size() == 1);
  CHECK(runs.runs[0].run_id == 12);
  CHECK_FALSE(runs.has_more);
}

TEST_CASE("databricks: Azure AD credentials get a token for the AzureDatabricks resource",
          "[databricks][azure_identity]") {
  triage::azure_identity::clear_token_cache();
  ReplayServer login(std::string("azure_ad"));
  ReplayServer workspace(kFixture);
  const std::string secret = "Qx8Q~valid.secret-value_0123456789abcd";
  json p = {{"target", workspace.url()},
            {"ca_file", workspace.certs().ca.string()},
            {"tenant_id", "aaaabbbb-0000-cccc-1111-dddd2222eeee"},
            {"client_id", "00001111-aaaa-2222-bbbb-3333cccc4444"},
            {"client_secret", secret},
            {"authority", login.url()},
            {"identity_ca_file", login.certs().ca.string()},
            {"streaming_jobs", json::array({1001, "orders-stream"})}};
  const auto r = run(p);
  INFO(all_text(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("auth") == "service principal 00001111-aaaa-2222-bbbb-3333cccc4444");
  // The token asked for the AzureDatabricks application is the one sent.
  const std::string token =
      "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.replay-databricks-access-token.c2lnbmF0dXJl";
  const auto listed = requests_to(workspace, "/api/2.0/clusters/list");
  REQUIRE_FALSE(listed.empty());
  CHECK(listed.front().headers.find("authorization")->second == "Bearer " + token);
  CHECK_FALSE(has(all_text(r), token));
  CHECK_FALSE(has(all_text(r), secret));

  SECTION("a token and credentials together are refused") {
    p["token"] = kToken;
    const auto both = run(p);
    CHECK(both.status() == Status::unknown);
    CHECK(has(both.error, "not both"));
  }
  SECTION("a rejected secret is critical before the workspace is asked") {
    triage::azure_identity::clear_token_cache();
    p["client_secret"] = "Qx8Q~wrong.secret-value_000000000000";
    const auto bad = run(p);
    INFO(all_text(bad));
    CHECK(bad.status() == Status::critical);
    CHECK(bad.attributes.at("token_error").find("7000215") != std::string::npos);
    CHECK(requests_to(workspace, "/api/2.0/clusters/list").size() == listed.size());
  }
}
