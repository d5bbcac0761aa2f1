// The prometheus and promql checks against a real Prometheus scraping a real
// node_exporter (job "node") and a stopped exporter (job "stopped", a port
// where nothing listens), started once on loopback by tests/support
// (prometheus.hpp) and waited for by polling its API until the series exist;
// then failures: nothing listening, a listener that never answers
// (Blackhole), an nginx that is no Prometheus, bad params and bad PromQL.
// The parser of API answers is also fed the documented error bodies (503,
// 422) that a healthy local Prometheus cannot be made to give.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <string>

#include <triage/testing.hpp>

#include "check_result.hpp"
#include "checks.hpp"
#include "prometheus.hpp"
#include "prometheus_api.hpp"

using nlohmann::json;
using triage::Severity;
using triage::Status;
using triage::cluster::PrometheusCheck;
using triage::cluster::PromqlCheck;
using triage::test::has;
using triage::testing::Options;
using triage::testing::Result;
namespace prom = triage::cluster::prom;

namespace {

using namespace std::chrono_literals;

// Enough for the few local requests even on a loaded CI machine; no test
// asserts on how long anything took.
constexpr std::chrono::milliseconds kTimeout = 20s;
// rate() over it needs two scrapes (1 s apart) within it.
constexpr const char* kWindow = "30s";

// One Prometheus for every test of this file (it takes seconds to gather data).
triage::test::Prometheus& server() {
  static triage::test::Prometheus p;
  static const bool ready = [] {
    p.wait_ready(kWindow);
    return true;
  }();
  (void)ready;
  return p;
}

template <class Check>
Result check(json params, Options options = Options(kTimeout)) {
  auto r = triage::testing::run<Check>(params, options);
  INFO("status " << static_cast<int>(r.status()) << " | " << r.summary << " | " << r.error);
  CHECK(r.refused_params.empty());
  CHECK(r.undeclared.empty());
  CHECK_FALSE(r.truncated);
  return r;
}

// Whether text appears anywhere in what the check reported.
bool reported(const Result& r, const std::string& text) {
  if (has(r.summary, text) || has(r.error, text)) return true;
  for (const auto& f : r.findings)
    if (has(f.title, text) || has(f.detail, text) || has(f.remediation, text)) return true;
  for (const auto& [k, v] : r.attributes)
    if (has(k, text) || has(v, text)) return true;
  for (const auto& l : r.logs)
    if (has(l, text)) return true;
  for (const auto& m : r.metrics)
    if (has(m.name, text)) return true;
  return false;
}

std::string unused_url() {
  return "http://127.0.0.1:" + std::to_string(triage::test::free_port());
}

std::string item(const std::string& instance, const std::string& job) {
  return "value[instance=\"" + instance + "\",job=\"" + job + "\"]";
}

}  // namespace

// ---- prometheus ------------------------------------------------------------

TEST_CASE("prometheus: fleet metrics from node_exporter, the stopped exporter named by job",
          "[prometheus]") {
  auto& p = server();
  const auto r = check<PrometheusCheck>({{"target", p.url()}, {"window", kWindow}});
  REQUIRE(r.error.empty());
  CHECK(r.status() == Status::critical);
  CHECK(r.metric("instances")->value == 2);
  CHECK(r.metric("instances_down")->value == 1);
  CHECK(r.metric("instances_down")->status == Status::critical);
  for (const char* name :
       {"cpu_used_pct_avg", "cpu_used_pct_max", "memory_used_pct_avg", "memory_used_pct_max"}) {
    INFO(name);
    REQUIRE(r.metric(name) != nullptr);
    CHECK(r.metric(name)->value >= 0);
    CHECK(r.metric(name)->value <= 100);
    CHECK(r.metric(name)->unit == "%");
  }
  CHECK(r.metric("memory_used_pct_max")->value > 0);
  // One instance reports node data: nothing to be skewed against.
  CHECK(r.metric("utilization_skew_pct")->value == 0);
  CHECK(r.metric("cpu_used_pct_max")->warning == "85");
  CHECK(r.metric("cpu_used_pct_max")->critical == "95");
  CHECK(r.metric("cpu_used_pct_avg")->warning == "65");
  REQUIRE(r.metric("cpu_used_pct[" + p.node_instance() + "]") != nullptr);
  REQUIRE(r.metric("memory_used_pct[" + p.node_instance() + "]") != nullptr);
  CHECK(r.metric("api_ms")->value > 0);
  CHECK(r.attributes.at("node_instances") == "1");

  // Filesystems, where node_exporter sees one that is storage (a container
  // with only an overlay root has none).
  const auto fs = p.query("node_filesystem_size_bytes{fstype!~\"tmpfs|overlay|squashfs\"}");
  if (!fs["data"]["result"].empty()) {
    REQUIRE(r.metric("filesystem_used_pct_max") != nullptr);
    CHECK(r.metric("filesystem_used_pct_max")->value >= 0);
    CHECK(r.metric("filesystem_used_pct_max")->value <= 100);
    CHECK(r.metric("filesystem_used_pct_max")->critical == "90");
    CHECK(r.metric("filesystem_used_pct[" + p.node_instance() + "]") != nullptr);
    CHECK(has(r.summary, "fullest filesystem"));
  }

  // The down target: named with its job, and with Prometheus' scrape error.
  const auto* f = r.finding(Severity::critical, "Job stopped: 1 of 1 target(s) down");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, p.stopped_instance()));
  CHECK(has(f->detail, "connection refused"));
  CHECK(has(f->remediation, "systemctl status"));
  CHECK(r.finding(Severity::critical, "Job node") == nullptr);
  CHECK(has(r.summary, "2 target(s), 1 down: " + p.stopped_instance() + " (stopped)"));
  CHECK(has(r.summary, "CPU avg"));
}

TEST_CASE("prometheus: a selector restricts the check to node_exporter's job", "[prometheus]") {
  auto& p = server();
  const auto r = check<PrometheusCheck>(
      {{"target", p.url() + "/"}, {"window", kWindow}, {"selector", "job=\"node\""}});
  REQUIRE(r.error.empty());
  CHECK(r.metric("instances")->value == 1);
  CHECK(r.metric("instances_down")->value == 0);
  CHECK(r.finding(Severity::critical) == nullptr);
  CHECK(r.metric("cpu_used_pct_max") != nullptr);
  CHECK(has(r.summary, "1 target(s), all up"));
  CHECK(r.attributes.at("selector") == "job=\"node\"");

  SECTION("per_instance 0: no per-instance metrics") {
    const auto none = check<PrometheusCheck>({{"target", p.url()},
                                              {"window", kWindow},
                                              {"selector", "job=\"node\""},
                                              {"per_instance", 0}});
    for (const auto& m : none.metrics) CHECK(m.name.find('[') == std::string::npos);
  }
  SECTION("a threshold crossed on a fleet metric is the status") {
    Options o(kTimeout);
    o.thresholds["memory_used_pct_max"] = {"", "0:0.001"};  // any memory in use is critical
    const auto crossed = check<PrometheusCheck>(
        {{"target", p.url()}, {"window", kWindow}, {"selector", "job=\"node\""}}, o);
    CHECK(crossed.metric("memory_used_pct_max")->status == Status::critical);
    CHECK(crossed.status() == Status::critical);
  }
}

TEST_CASE("prometheus: a selector matching nothing is a warning, not a silent ok", "[prometheus]") {
  auto& p = server();
  const auto r = check<PrometheusCheck>({{"target", p.url()}, {"selector", "job=\"no-such-job\""}});
  CHECK(r.status() == Status::warning);
  CHECK(r.metric("instances")->value == 0);
  CHECK(r.finding(Severity::warning, "No scrape targets") != nullptr);
}

TEST_CASE("prometheus: a window too short for rate() is named", "[prometheus]") {
  auto& p = server();
  // Scrapes are 1 s apart: 1 ms holds at most one of them.
  const auto r = check<PrometheusCheck>(
      {{"target", p.url()}, {"window", "1ms"}, {"selector", "job=\"node\""}});
  // The check's own status (the metrics' may be higher on a busy machine).
  CHECK(r.reported_status == Status::warning);
  CHECK(r.metric("cpu_used_pct_max") == nullptr);
  CHECK(r.metric("memory_used_pct_max") != nullptr);
  CHECK(r.finding(Severity::warning, "No CPU utilization over 1ms") != nullptr);
}

TEST_CASE("prometheus: a bad selector is unknown, quoting Prometheus' error", "[prometheus]") {
  auto& p = server();
  const auto r = check<PrometheusCheck>({{"target", p.url()}, {"selector", "job=~\"(\""}});
  CHECK(r.status() == Status::unknown);
  CHECK(has(r.error, "Prometheus rejected the up query"));
  CHECK(has(r.error, "HTTP 400, bad_data: "));
  CHECK(has(r.error, "missing closing )"));
  CHECK(r.attributes.at("error_type") == "bad_data");
}

TEST_CASE("prometheus: nothing listening is critical, with the reason, secrets unsaid",
          "[prometheus]") {
  const std::string url = unused_url();
  const std::string token = "tkn-0123456789-secret";
  const auto r = check<PrometheusCheck>({{"target", url}, {"bearer_token", token}});
  CHECK(r.status() == Status::critical);
  CHECK(r.error.empty());
  const auto* f = r.finding(Severity::critical, "Prometheus is unreachable");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "the up query on " + url));
  // libcurl's words ("Couldn't connect to server"), or the OS's ("refused").
  CHECK((has(f->detail, "connect") || has(f->detail, "refused")));
  CHECK(has(r.summary, "Prometheus is unreachable"));
  CHECK_FALSE(reported(r, token));
}

TEST_CASE("prometheus: a server that never answers is critical within the deadline",
          "[prometheus]") {
  triage::test::Blackhole hole;
  const auto r = check<PrometheusCheck>(
      {{"target", "http://127.0.0.1:" + std::to_string(hole.port())}}, Options(3s));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Prometheus did not answer in time");
  REQUIRE(f != nullptr);
  CHECK(has(f->detail, "no answer within"));
}

TEST_CASE("prometheus: a web server that is not Prometheus is unknown", "[prometheus]") {
  triage::test::Nginx nginx;
  const auto r = check<PrometheusCheck>({{"target", nginx.http_url("/")}});
  CHECK(r.status() == Status::unknown);
  CHECK(has(r.error, "HTTP 404"));
  CHECK(has(r.error, "no Prometheus API under this URL"));
  CHECK(r.attributes.at("http_status") == "404");
}

TEST_CASE("prometheus: params errors are unknown, naming the param", "[prometheus]") {
  struct Case {
    json params;
    const char* says;
  };
  const Case cases[] = {
      {{{"target", "http://admin:pw@127.0.0.1:9090"}}, "must not hold credentials"},
      {{{"target", "127.0.0.1:9090"}}, "http:// or https://"},
      {{{"target", "http://127.0.0.1:9090/?x=1"}}, "without a query"},
      {{{"target", "http://127.0.0.1:9090"}, {"window", "5 minutes"}}, "param 'window'"},
      {{{"target", "http://127.0.0.1:9090"}, {"window", "0s"}}, "param 'window'"},
      {{{"target", "http://127.0.0.1:9090"}, {"selector", "job=\"a\"} or vector(1) {"}},
       "param 'selector'"},
      {{{"target", "http://127.0.0.1:9090"}, {"selector", "job=\"a"}}, "unclosed quote"},
      {{{"target", "http://127.0.0.1:9090"}, {"per_instance", 51}}, "param 'per_instance'"},
      {{{"target", "http://127.0.0.1:9090"}, {"username", "u"}}, "'username' and 'password'"},
      {{{"target", "http://127.0.0.1:9090"}, {"ca_file", "/nonexistent/ca.pem"}},
       "param 'ca_file'"},
      {{{"target", "http://127.0.0.1:9090"}, {"bearer_token", "a\nb"}}, "line break"},
  };
  for (const auto& c : cases) {
    INFO(c.params.dump());
    const auto r = triage::testing::run<PrometheusCheck>(c.params, Options(kTimeout));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, c.says));
    CHECK_FALSE(has(r.error, "pw@"));
  }
  const auto unknown_param = triage::testing::run<PrometheusCheck>(
      {{"target", "http://127.0.0.1:9090"}, {"job", "node"}}, Options(kTimeout));
  CHECK(unknown_param.status() == Status::unknown);
  CHECK(has(unknown_param.error, "unknown param 'job'"));
  CHECK(unknown_param.refused_params == "no param 'job' in the schema");
}

TEST_CASE("prometheus: the params schema marks the secrets", "[prometheus][promql]") {
  for (const char* text : {PrometheusCheck::params_schema, PromqlCheck::params_schema}) {
    const auto schema = json::parse(text);
    for (const char* secret : {"password", "bearer_token"}) {
      INFO(secret);
      CHECK(schema["properties"][secret]["writeOnly"] == true);
      CHECK(schema["properties"][secret]["x-triage-secret"] == true);
    }
    CHECK(schema["additionalProperties"] == false);
  }
}

// ---- promql ----------------------------------------------------------------

TEST_CASE("promql: each series is a metric value[labels], thresholds per series", "[promql]") {
  auto& p = server();
  Options o(kTimeout);
  o.thresholds["value[*]"] = {"", "1:"};  // a target not up is critical
  const auto r = check<PromqlCheck>({{"target", p.url()}, {"query", "up"}}, o);
  REQUIRE(r.error.empty());
  CHECK(r.status() == Status::critical);
  CHECK(r.metric("series")->value == 2);
  const auto* node = r.metric(item(p.node_instance(), "node"));
  const auto* stopped = r.metric(item(p.stopped_instance(), "stopped"));
  REQUIRE(node != nullptr);
  REQUIRE(stopped != nullptr);
  CHECK(node->value == 1);
  CHECK(node->status == Status::ok);
  CHECK(stopped->value == 0);
  CHECK(stopped->status == Status::critical);
  CHECK(stopped->critical == "1:");
  CHECK(r.metric("value_min")->value == 0);
  CHECK(r.metric("value_max")->value == 1);
  CHECK(r.metric("query_ms")->value > 0);
  CHECK(r.findings.empty());
  CHECK(has(r.summary, "up: 2 series, min 0, max 1"));
  CHECK(r.attributes.at("result_type") == "vector");

  SECTION("not crossed") {
    const auto ok = check<PromqlCheck>({{"target", p.url()}, {"query", "up{job=\"node\"}"}}, o);
    CHECK(ok.status() == Status::ok);
    REQUIRE(ok.metric(item(p.node_instance(), "node")) != nullptr);
    CHECK(ok.metric(item(p.node_instance(), "node"))->status == Status::ok);
  }
  SECTION("a threshold on one series by its name") {
    Options one(kTimeout);
    one.thresholds[item(p.node_instance(), "node")] = {"", "@1"};  // 1 is critical
    const auto r1 = check<PromqlCheck>({{"target", p.url()}, {"query", "up"}}, one);
    CHECK(r1.metric(item(p.node_instance(), "node"))->status == Status::critical);
    CHECK(r1.metric(item(p.stopped_instance(), "stopped"))->status == Status::ok);
  }
  SECTION("labels choose the item") {
    const auto by_job = check<PromqlCheck>(
        {{"target", p.url()}, {"query", "up"}, {"labels", json::array({"job"})}});
    CHECK(by_job.metric("value[job=\"node\"]")->value == 1);
    CHECK(by_job.metric("value[job=\"stopped\"]")->value == 0);
  }
  SECTION("max_series bounds the metrics, not series/min/max") {
    const auto one = check<PromqlCheck>({{"target", p.url()}, {"query", "up"}, {"max_series", 1}});
    int items = 0;
    for (const auto& m : one.metrics) items += m.name.rfind("value[", 0) == 0;
    CHECK(items == 1);
    CHECK(one.metric("series")->value == 2);
    CHECK(one.metric("value_min")->value == 0);
    CHECK(one.metric("value_max")->value == 1);
    CHECK(one.finding(Severity::info, "Only the first 1 of 2 series are metrics") != nullptr);
  }
}

TEST_CASE("promql: a scalar or a series without labels is the plain metric value", "[promql]") {
  auto& p = server();
  const auto scalar = check<PromqlCheck>({{"target", p.url()}, {"query", "1 + 1"}});
  CHECK(scalar.status() == Status::ok);
  CHECK(scalar.metric("value")->value == 2);
  CHECK(scalar.metric("series")->value == 1);
  CHECK(scalar.attributes.at("result_type") == "scalar");
  CHECK(has(scalar.summary, "scalar 2"));

  Options o(kTimeout);
  o.thresholds["value"] = {"~:1", ""};  // more than one target up is a warning
  const auto sum = check<PromqlCheck>({{"target", p.url()}, {"query", "sum(up)"}}, o);
  CHECK(sum.metric("value")->value == 1);
  CHECK(sum.metric("value")->status == Status::ok);
  CHECK(sum.status() == Status::ok);
}

TEST_CASE("promql: long label sets are cut to fit the core's name limit, kept apart", "[promql]") {
  auto& p = server();
  const std::string a(150, 'a');
  const std::string query = "label_replace(up, \"long\", \"" + a + "$1\", \"job\", \"(.*)\")";
  const auto r = check<PromqlCheck>({{"target", p.url()}, {"query", query}});
  REQUIRE(r.error.empty());
  int items = 0;
  for (const auto& m : r.metrics) {
    if (m.name.rfind("value[", 0) != 0) continue;
    ++items;
    CHECK(m.name.size() <= 128);
    CHECK(has(m.name, "~"));
  }
  CHECK(items == 2);
}

TEST_CASE("promql: expect none, any and count N", "[promql]") {
  auto& p = server();
  SECTION("none, but series returned: critical, naming them") {
    const auto r =
        check<PromqlCheck>({{"target", p.url()}, {"query", "up == 0"}, {"expect", "none"}});
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Expected no series, got 1");
    REQUIRE(f != nullptr);
    CHECK(has(f->detail, "up{instance=\"" + p.stopped_instance() + "\",job=\"stopped\"} = 0"));
    CHECK(has(r.summary, "(expected no series)"));
  }
  SECTION("none, and none returned: ok") {
    const auto r = check<PromqlCheck>(
        {{"target", p.url()}, {"query", "up{job=\"no-such-job\"}"}, {"expect", "none"}});
    CHECK(r.status() == Status::ok);
    CHECK(r.metric("series")->value == 0);
    CHECK(r.metric("value_max") == nullptr);
  }
  SECTION("any, but nothing returned: critical") {
    const auto r = check<PromqlCheck>(
        {{"target", p.url()}, {"query", "up{job=\"no-such-job\"}"}, {"expect", "any"}});
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "Expected at least one series, got 0");
    REQUIRE(f != nullptr);
    CHECK(has(f->remediation, "do not exist"));
  }
  SECTION("any, and series returned: ok") {
    const auto r = check<PromqlCheck>({{"target", p.url()}, {"query", "up"}, {"expect", "any"}});
    CHECK(r.status() == Status::ok);
  }
  SECTION("count N") {
    const auto two =
        check<PromqlCheck>({{"target", p.url()}, {"query", "up"}, {"expect", "count 2"}});
    CHECK(two.status() == Status::ok);
    const auto three =
        check<PromqlCheck>({{"target", p.url()}, {"query", "up"}, {"expect", "count 3"}});
    CHECK(three.status() == Status::critical);
    CHECK(three.finding(Severity::critical, "Expected 3 series, got 2") != nullptr);
  }
  SECTION("expect_severity warning") {
    const auto r = check<PromqlCheck>({{"target", p.url()},
                                       {"query", "up == 0"},
                                       {"expect", "none"},
                                       {"expect_severity", "warning"}});
    CHECK(r.status() == Status::warning);
    CHECK(r.finding(Severity::warning, "Expected no series") != nullptr);
  }
}

TEST_CASE("promql: bad PromQL is unknown, quoting Prometheus' error", "[promql]") {
  auto& p = server();
  const auto r = check<PromqlCheck>({{"target", p.url()}, {"query", "rate(up[5m]"}});
  CHECK(r.status() == Status::unknown);
  CHECK(has(r.error, "Prometheus rejected the query: HTTP 400, bad_data: "));
  CHECK(has(r.error, "parse error"));
  CHECK(r.attributes.at("error_type") == "bad_data");

  const auto range = check<PromqlCheck>({{"target", p.url()}, {"query", "up[1m]"}});
  CHECK(range.status() == Status::unknown);
  CHECK(has(range.error, "range vector"));

  // A query longer than a URL should be is sent as a POST form.
  std::string long_query = "up{job!=\"x\"";
  for (int i = 0; long_query.size() < 6000; ++i)
    long_query += ",job!=\"x" + std::to_string(i) + "\"";
  long_query += "}";
  const auto posted = check<PromqlCheck>({{"target", p.url()}, {"query", long_query}});
  CHECK(posted.status() == Status::ok);
  CHECK(posted.metric("series")->value == 2);
}

TEST_CASE("promql: nothing listening is critical, cancelled is unknown, secrets unsaid",
          "[promql]") {
  const std::string password = "pw-0123456789-secret";
  const json params = {
      {"target", unused_url()}, {"query", "up"}, {"username", "triage"}, {"password", password}};
  const auto r = check<PromqlCheck>(params);
  CHECK(r.status() == Status::critical);
  CHECK(r.finding(Severity::critical, "Prometheus is unreachable") != nullptr);
  CHECK_FALSE(reported(r, password));

  std::atomic<bool> cancel{true};
  const auto cancelled = check<PromqlCheck>(params, Options(kTimeout, &cancel));
  CHECK(cancelled.status() == Status::unknown);
  CHECK(has(cancelled.error, "cancelled"));
}

TEST_CASE("promql: params errors are unknown", "[promql]") {
  struct Case {
    json params;
    const char* says;
  };
  const Case cases[] = {
      {{{"target", "http://127.0.0.1:9090"}}, "missing required param 'query'"},
      {{{"target", "http://127.0.0.1:9090"}, {"query", "  "}}, "param 'query' is empty"},
      {{{"target", "http://u:p@127.0.0.1:9090"}, {"query", "up"}}, "must not hold credentials"},
      {{{"target", "http://127.0.0.1:9090"}, {"query", "up"}, {"expect", "some"}},
       "param 'expect'"},
      {{{"target", "http://127.0.0.1:9090"}, {"query", "up"}, {"expect", "count x"}},
       "param 'expect'"},
      {{{"target", "http://127.0.0.1:9090"}, {"query", "up"}, {"expect_severity", "info"}},
       "param 'expect_severity'"},
      {{{"target", "http://127.0.0.1:9090"}, {"query", "up"}, {"max_series", 0}},
       "param 'max_series'"},
      {{{"target", "http://127.0.0.1:9090"}, {"query", "up"}, {"labels", json::array({"a b"})}},
       "param 'labels'"},
  };
  for (const auto& c : cases) {
    INFO(c.params.dump());
    const auto r = triage::testing::run<PromqlCheck>(c.params, Options(kTimeout));
    CHECK(r.status() == Status::unknown);
    CHECK(has(r.error, c.says));
  }
}

// ---- the API client's parsing and naming -------------------------------------

TEST_CASE("prometheus API: answers parsed, failures classified", "[prometheus][promql]") {
  SECTION("a vector, with NaN, +Inf and a native histogram") {
    const auto r =
        prom::parse_query_response(200,
                                   R"({"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"__name__":"x","a":"1"},"value":[1700000000.5,"NaN"]},
          {"metric":{"a":"2"},"value":[1700000000.5,"+Inf"]},
          {"metric":{"a":"3"},"value":[1700000000.5,"1e3"]},
          {"metric":{"a":"4"},"histogram":[1700000000.5,{"count":"1","sum":"1"}]}]},
          "warnings":["careful"]})");
    REQUIRE(r.ok());
    REQUIRE(r.series.size() == 4);
    CHECK(std::isnan(r.series[0].value));
    CHECK(std::isinf(r.series[1].value));
    CHECK(r.series[2].value == 1000);
    CHECK(r.series[2].timestamp == 1700000000.5);
    CHECK_FALSE(r.series[3].numeric);
    CHECK(r.series[0].labels.at("__name__") == "x");
    CHECK(r.warnings == std::vector<std::string>{"careful"});
  }
  SECTION("a scalar") {
    const auto r = prom::parse_query_response(
        200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"-0.5"]}})");
    REQUIRE(r.ok());
    CHECK(r.result_type == "scalar");
    CHECK(r.series.at(0).value == -0.5);
    CHECK(r.series.at(0).labels.empty());
  }
  SECTION("503 from Prometheus: unavailable, its errorType and error quoted") {
    const auto r = prom::parse_query_response(
        503,
        R"({"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"})");
    CHECK(r.failure == prom::Failure::unavailable);
    CHECK(r.reason == "HTTP 503, timeout: query timed out in expression evaluation");
  }
  SECTION("503 from a proxy: unavailable, its page quoted") {
    const auto r = prom::parse_query_response(503, "\n<html><body>Service Unavailable</body>\n");
    CHECK(r.failure == prom::Failure::unavailable);
    CHECK(r.reason == "HTTP 503, \"<html><body>Service Unavailable</body>\"");
  }
  SECTION("422: the query cannot be executed") {
    const auto r = prom::parse_query_response(
        422,
        R"({"status":"error","errorType":"execution","error":"found duplicate series for the match group"})");
    CHECK(r.failure == prom::Failure::rejected);
    CHECK(r.error_type == "execution");
  }
  SECTION("401, 302, garbage and too large") {
    CHECK(prom::parse_query_response(401, "Unauthorized").failure == prom::Failure::unauthorized);
    CHECK(prom::parse_query_response(302, "").failure == prom::Failure::not_prometheus);
    CHECK(prom::parse_query_response(200, "<html>").failure == prom::Failure::not_prometheus);
    CHECK(prom::parse_query_response(200, R"({"status":"success","data":{}})").failure ==
          prom::Failure::not_prometheus);
    CHECK(prom::parse_query_response(200, "{", true).failure == prom::Failure::too_large);
  }
  SECTION("targets' last scrape errors") {
    const auto errors = prom::parse_target_errors(R"({"status":"success","data":{
      "activeTargets":[
        {"labels":{"job":"node","instance":"a:9100"},"health":"up","lastError":""},
        {"labels":{"job":"node","instance":"b:9100"},"health":"down","lastError":"refused"}]}})");
    REQUIRE(errors.size() == 1);
    CHECK(errors.at({"node", "b:9100"}) == "refused");
  }
}

TEST_CASE("prometheus API: label sets, items and durations", "[prometheus][promql]") {
  const prom::Labels labels{{"__name__", "up"}, {"job", "n\"o\\de"}, {"instance", "a\nb"}};
  CHECK(prom::label_text(labels) == R"(instance="a\nb",job="n\"o\\de")");
  CHECK(prom::label_text(labels, true) == R"(__name__="up",instance="a\nb",job="n\"o\\de")");
  CHECK(prom::series_text(labels) == R"(up{instance="a\nb",job="n\"o\\de"})");
  CHECK(prom::series_text({{"__name__", "up"}}) == "up");
  CHECK(prom::series_text({}) == "{}");

  CHECK(prom::fit_item("value[*]", "short") == "short");
  const std::string a = prom::fit_item("value[*]", std::string(200, 'x') + "a");
  const std::string b = prom::fit_item("value[*]", std::string(200, 'x') + "b");
  CHECK(a.size() == 128 - 7);
  CHECK(a != b);
  // Never cut inside a UTF-8 character.
  std::string utf8;
  while (utf8.size() < 200) utf8 += "\xc3\xa9";
  const std::string cut = prom::fit_item("value[*]", utf8);
  CHECK(cut.size() <= 121);
  CHECK((static_cast<unsigned char>(cut[cut.size() - 10]) & 0xC0) != 0xC0);

  for (const char* ok : {"5m", "30s", "1h30m", "250ms", "1d", "2w", "1y"})
    CHECK(prom::valid_duration(ok));
  for (const char* bad : {"", "5", "m", "0s", "5 m", "-5m", "5min", "1.5m"})
    CHECK_FALSE(prom::valid_duration(bad));

  CHECK_NOTHROW(prom::check_selector("job=\"a{b}\",env=~'x|(y)'", "selector"));
  CHECK_THROWS_AS(prom::check_selector("job=\"a\"}", "selector"), triage::ParamError);
  CHECK_THROWS_AS(prom::check_selector("job=\"a", "selector"), triage::ParamError);
}
