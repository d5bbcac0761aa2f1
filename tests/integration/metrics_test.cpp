// Declared metrics (plugin ABI 1.1) through the real `triage`: a threshold on
// a metric the check type does not declare is a config error (exit 78, file,
// line, suggestion); `plugin info` and `plugins -f json` list the
// declarations; a crossed threshold carries the declared remediation into the
// JSON report; a plugin that declares nothing (the frozen 1.0 one) still gets
// the runtime warning, once per check; the conformance kit fails a check type
// that emits an undeclared metric; http's json_metrics get thresholds.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::metric_of;
using triage::itest::parse_json;
using triage::itest::run_triage;
using triage::itest::RunResult;
using triage::itest::schema_errors;
using triage::itest::services;
using triage::itest::test_plugin_dir;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

const std::string kAbiPluginDir = TRIAGE_ABI_PLUGIN_DIR;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int occurrences(const std::string& text, const std::string& part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// `triage run` and `triage list` must both refuse the config, the same way.
RunResult refuse(const std::string& file, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> run{"run", "--config", file, "--format", "json"};
  std::vector<std::string> list{"list", "--config", file};
  run.insert(run.end(), extra.begin(), extra.end());
  list.insert(list.end(), extra.begin(), extra.end());
  const auto r = run_triage(run);
  const auto l = run_triage(list);
  INFO("run: " << describe(r));
  INFO("list: " << describe(l));
  CHECK(r.exit_code == 78);
  CHECK(l.exit_code == 78);
  CHECK(r.out.empty());
  CHECK(l.out.empty());
  return r;
}

const nlohmann::json* type_of(const nlohmann::json& plugins_doc, const std::string& plugin,
                              const std::string& type) {
  for (const auto& p : plugins_doc.at("plugins"))
    if (p.at("name") == plugin)
      for (const auto& t : p.at("check_types"))
        if (t.at("name") == type) return &t;
  return nullptr;
}

const nlohmann::json* declared(const nlohmann::json& type, const std::string& name) {
  if (!type.at("metrics").is_array()) return nullptr;
  for (const auto& m : type.at("metrics"))
    if (m.at("name") == name) return &m;
  return nullptr;
}

}  // namespace

TEST_CASE("a threshold on an undeclared metric is exit 78 with file, line and a suggestion",
          "[metrics][config][errors]") {
  const TempDir dir;
  SECTION("a built-in check type") {
    const auto file = write_file(dir.path(), "tcp.yaml", R"(checks:
  - id: web
    plugin: network
    type: tcp
    params: { target: "127.0.0.1:1" }
  - id: db
    plugin: network
    type: tcp
    params: { target: "127.0.0.1:1" }
    thresholds:
      latency_msec: { warning: "100" }
)")
                          .string();
    const auto r = refuse(file);
    CHECK(r.err == "triage: config error: " + file +
                       ":11: checks[db].thresholds.latency_msec: check type network.tcp emits "
                       "no metric 'latency_msec' (did you mean 'latency_ms'?)\n");
  }
  SECTION("no near name: the declared ones are listed") {
    const auto file = write_file(dir.path(), "far.yaml", R"(checks:
  - id: disk
    plugin: storage
    type: filesystem
    params: { target: "/" }
    thresholds:
      fullness: { warning: "70" }
)")
                          .string();
    const auto r = refuse(file);
    CHECK(contains(r.err, file + ":7: checks[disk].thresholds.fullness: check type "
                                 "storage.filesystem emits no metric 'fullness' (it emits: "
                                 "used_pct, free_bytes, inodes_used_pct, used_pct[ITEM]"));
  }
  SECTION("a per-item metric of a C plugin") {
    const auto file = write_file(dir.path(), "c.yaml", R"(checks:
  - id: g
    plugin: c-metrics
    type: gauge
    params: { target: x }
    thresholds:
      dept[a]: { critical: "1" }
)")
                          .string();
    const auto r = refuse(file, {"--plugin-dir", test_plugin_dir()});
    CHECK(contains(r.err, file + ":7: checks[g].thresholds.dept[a]: check type c-metrics.gauge "
                                 "emits no metric 'dept[a]' (did you mean 'depth[a]'?)"));
  }
  SECTION("a name from json_metrics, misspelt") {
    const auto file = write_file(dir.path(), "http.yaml", R"(checks:
  - id: api
    plugin: network
    type: http
    params:
      target: "http://127.0.0.1:1/status"
      json_metrics: { lag_s: /lag/seconds }
    thresholds:
      lag_sec: { critical: "30" }
)")
                          .string();
    const auto r = refuse(file);
    CHECK(contains(r.err, file + ":9: checks[api].thresholds.lag_sec: check type network.http "
                                 "emits no metric 'lag_sec' (did you mean 'lag_s'?)"));
  }
}

TEST_CASE("declared names, items and json_metrics keys are accepted", "[metrics][config]") {
  const TempDir dir;
  const auto file = write_file(dir.path(), "ok.yaml", R"(checks:
  - id: disks
    plugin: storage
    type: filesystem
    params: { target: all }
    thresholds:
      used_pct: { warning: "85" }
      used_pct[/]: { critical: "95" }
      inodes_used_pct[*]: { warning: "70" }
  - id: api
    plugin: network
    type: http
    params:
      target: "http://127.0.0.1:1/status"
      json_metrics: { lag_s: /lag/seconds }
    thresholds:
      lag_s: { critical: "30" }
      latency_p99_ms: { warning: "800" }
)")
                        .string();
  const auto r = run_triage({"list", "--config", file});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
}

TEST_CASE("a 1.0 plugin's unmatched threshold is warned once per check, retries or not",
          "[metrics][abi]") {
  const TempDir dir;
  const auto config = write_file(dir.path(), "frozen.yaml", R"(checks:
  - id: retried
    plugin: frozen-abi
    type: probe
    retries: 2
    params: { target: "t", value: 500 }
    thresholds:
      probe_valu: { warning: "50" }
  - id: failing
    plugin: frozen-abi
    type: probe
    retries: 1
    params: { target: "t", mode: error }
    thresholds:
      probe_valu: { warning: "50" }
)")
                          .string();
  const std::string isolation = GENERATE(as<std::string>{}, "process", "in-process");
  INFO("isolation " << isolation);
  const auto r = run_triage({"run", "--config", config, "--format", "json", "--isolation",
                             isolation, "--plugin-dir", kAbiPluginDir});
  INFO(describe(r));
  const auto report = parse_json(r.out);
  CHECK(check_of(report, "retried").at("attempts") == 3);  // critical: retried twice
  CHECK(check_of(report, "failing").at("attempts") == 2);
  CHECK(occurrences(r.err, "retried: threshold for 'probe_valu' matches no metric") == 1);
  // It failed before emitting anything: nothing to compare the threshold with.
  CHECK_FALSE(contains(r.err, "failing: threshold for"));
}

TEST_CASE("plugin info and plugins -f json list each check type's declared metrics",
          "[metrics][plugins]") {
  const std::string c_metrics = test_plugin_dir() + "/test_c_metrics_plugin.so";
  SECTION("plugin info, text") {
    const auto r = run_triage({"plugin", "info", c_metrics});
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.out, "built for plugin ABI 1.1"));
    CHECK(contains(r.out,
                   "    metrics:\n      level (%, warning 80, critical 90)  How full the "
                   "gauge is\n        remediation: Drain the gauge"));
    CHECK(contains(r.out, "      depth[*]  Depth of each queue, by queue name\n"));
    CHECK(contains(r.out, "    metrics:\n      (none)\n"));
  }
  SECTION("plugin info, json") {
    const auto r = run_triage({"plugin", "info", c_metrics, "-f", "json"});
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    const auto doc = parse_json(r.out);
    const auto& gauge = doc.at("check_types").at(0);
    REQUIRE(gauge.at("metrics").size() == 2);
    CHECK(
        gauge.at("metrics").at(0) ==
        nlohmann::json{{"name", "level"},
                       {"unit", "%"},
                       {"description", "How full the gauge is"},
                       {"warning", "80"},
                       {"critical", "90"},
                       {"remediation",
                        "Drain the gauge: empty the tank below 80 %, then find what filled it."}});
    CHECK(gauge.at("metrics").at(1).at("warning").is_null());
    CHECK(doc.at("check_types").at(1).at("metrics") == nlohmann::json::array());
  }
  SECTION("plugins -f json: built-in, C and frozen 1.0 plugins") {
    const auto r = run_triage({"plugins", "-f", "json", "--plugin-dir", test_plugin_dir(),
                               "--plugin-dir", kAbiPluginDir});
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    const auto doc = parse_json(r.out);
    const auto* tcp = type_of(doc, "network", "tcp");
    REQUIRE(tcp != nullptr);
    const auto* latency = declared(*tcp, "latency_ms");
    REQUIRE(latency != nullptr);
    CHECK(latency->at("unit") == "ms");
    CHECK_FALSE(latency->at("description").get<std::string>().empty());
    CHECK_FALSE(latency->at("remediation").get<std::string>().empty());
    const auto* http = type_of(doc, "network", "http");
    REQUIRE(http != nullptr);
    REQUIRE(declared(*http, "latency_p99_ms") != nullptr);
    CHECK(declared(*http, "latency_p99_ms")->at("warning") == "500");
    CHECK(declared(*http, "{json_metrics}") != nullptr);
    const auto* fs = type_of(doc, "storage", "filesystem");
    REQUIRE(fs != nullptr);
    CHECK(declared(*fs, "used_pct")->at("critical") == "90");
    CHECK(declared(*fs, "used_pct[*]") != nullptr);
    // Every built-in check type declares its metrics.
    for (const auto& p : doc.at("plugins")) {
      const std::string name = p.at("name");
      if (name != "cluster" && name != "network" && name != "storage" && name != "streaming")
        continue;
      for (const auto& t : p.at("check_types")) {
        INFO(p.at("name") << "." << t.at("name"));
        CHECK(t.at("metrics").is_array());
        CHECK_FALSE(t.at("metrics").empty());
      }
    }
    const auto* gauge = type_of(doc, "c-metrics", "gauge");
    REQUIRE(gauge != nullptr);
    CHECK(declared(*gauge, "depth[*]") != nullptr);
    const auto* probe = type_of(doc, "frozen-abi", "probe");
    REQUIRE(probe != nullptr);
    CHECK(probe->at("metrics").is_null());  // a 1.0 plugin declares nothing
  }
}

TEST_CASE("a crossed threshold carries the declared remediation into the JSON report",
          "[metrics][run]") {
  const TempDir dir;
  const auto& s = services();
  const std::string http = "127.0.0.1:" + std::to_string(s.nginx.http_port());
  const auto config = write_file(dir.path(), "remedy.yaml", R"(checks:
  - id: gauge
    plugin: c-metrics
    type: gauge
    params: { target: x, value: 95 }
  - id: calm
    plugin: c-metrics
    type: gauge
    params: { target: x, value: 10 }
  - id: web
    plugin: network
    type: tcp
    params: { target: ")" + http + R"(" }
    thresholds:
      latency_ms: { warning: "0" }
)")
                          .string();
  const std::string isolation = GENERATE(as<std::string>{}, "process", "in-process");
  INFO("isolation " << isolation);
  const auto r = run_triage({"run", "--config", config, "--format", "json", "--isolation",
                             isolation, "--plugin-dir", test_plugin_dir()});
  INFO(describe(r));
  const auto report = parse_json(r.out);
  CHECK(schema_errors(report).empty());

  const auto& gauge = check_of(report, "gauge");
  CHECK(gauge.at("status") == "critical");
  const auto* level = metric_of(gauge, "level");
  REQUIRE(level != nullptr);
  CHECK(level->at("status") == "critical");
  CHECK(level->at("critical") == "90");  // declared, not given with the metric
  CHECK(level->at("remediation") ==
        "Drain the gauge: empty the tank below 80 %, then find what filled it.");
  CHECK(metric_of(gauge, "depth[a]")->at("remediation").is_null());  // declared without one

  const auto* calm = metric_of(check_of(report, "calm"), "level");
  REQUIRE(calm != nullptr);
  CHECK(calm->at("status") == "ok");
  CHECK(calm->at("remediation").is_null());  // only when crossed

  const auto* latency = metric_of(check_of(report, "web"), "latency_ms");
  REQUIRE(latency != nullptr);
  CHECK(latency->at("status") == "warning");
  CHECK(contains(latency->at("remediation").get<std::string>(), "firewall"));
}

TEST_CASE("http json_metrics from a JSON file nginx serves get the config's thresholds",
          "[metrics][run][http]") {
  const TempDir dir;
  auto& s = services();
  std::ofstream(s.nginx.files_dir() / "pipeline.json")
      << R"({"state":"RESIZING","consumer":{"lag_seconds":95.5},"queued":3})";
  const auto config = write_file(dir.path(), "lag.yaml",
                                 R"(checks:
  - id: pipeline
    plugin: network
    type: http
    params:
      target: ")" + s.nginx.http_url("/files/pipeline.json") +
                                     R"("
      json_pointer: /state
      one_of: [RUNNING, RESIZING]
      json_metrics: { lag_s: /consumer/lag_seconds, queued: /queued }
    thresholds:
      lag_s: { warning: "30", critical: "60" }
)")
                          .string();
  const auto r = run_triage({"run", "--config", config, "--format", "json"});
  INFO(describe(r));
  const auto report = parse_json(r.out);
  CHECK(schema_errors(report).empty());
  const auto& pipeline = check_of(report, "pipeline");
  CHECK(pipeline.at("status") == "critical");
  const auto* lag = metric_of(pipeline, "lag_s");
  REQUIRE(lag != nullptr);
  CHECK(lag->at("value") == 95.5);
  CHECK(lag->at("status") == "critical");
  const auto* queued = metric_of(pipeline, "queued");
  REQUIRE(queued != nullptr);
  CHECK(queued->at("status") == "ok");
  CHECK(contains(pipeline.at("summary").get<std::string>(), "lag_s 95.5 > 60 (critical)"));
}

TEST_CASE("plugin validate fails a check type that emits an undeclared metric",
          "[metrics][plugin]") {
  const TempDir dir;
  const std::string c_metrics = test_plugin_dir() + "/test_c_metrics_plugin.so";
  SECTION("declared metrics only: pass") {
    const auto r = run_triage({"plugin", "validate", c_metrics, "-f", "json"});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
  }
  SECTION("an undeclared one: fail, naming it") {
    const auto params = write_file(dir.path(), "p.json", R"({"gauge": {"mode": "undeclared"}})");
    const auto r =
        run_triage({"plugin", "validate", c_metrics, "--params", params.string(), "-f", "json"});
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    bool found = false;
    const auto doc = parse_json(r.out);
    for (const auto& result : doc.at("results"))
      if (result.at("check_type") == "gauge" && result.at("test") == "metrics") {
        found = true;
        CHECK(result.at("verdict") == "fail");
        CHECK(contains(result.at("reason").get<std::string>(),
                       "emitted metric 'surprise', which gauge does not declare"));
      }
    CHECK(found);
  }
  SECTION("a type that declares nothing: skipped") {
    const auto r =
        run_triage({"plugin", "validate", test_plugin_dir() + "/test_c_plugin.so", "-f", "json"});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    bool skipped = false;
    const auto doc = parse_json(r.out);
    for (const auto& result : doc.at("results"))
      skipped = skipped || (result.at("test") == "metrics" && result.at("verdict") == "skip");
    CHECK(skipped);
  }
}
