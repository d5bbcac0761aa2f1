// Declared metrics (plugin ABI 1.1): the loader reads them from a pure C
// plugin, the config is checked against them (a threshold on an undeclared
// metric is a config error with a suggestion), evaluate() takes their default
// ranges and remediations, and they travel through the plugin-host protocol.
// Check types that declare nothing (ABI 1.0) keep a runtime warning, logged
// once per check.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "triage/core/evaluate.hpp"
#include "triage/core/host_protocol.hpp"
#include "triage/core/plugin_loader.hpp"
#include "triage/core/runner.hpp"

using namespace triage::core;

namespace {

const std::filesystem::path kDir = TRIAGE_TEST_PLUGIN_DIR;

const PluginRegistry& registry() {
  static PluginRegistry r;
  static const bool loaded = [] {
    r.load_directory(kDir);
    return true;
  }();
  (void)loaded;
  return r;
}

// The ConfigError validate_plugins throws for a config, or "(no error)".
std::string error_of(const std::string& text) {
  try {
    auto config = parse_config(text, "m.yaml");
    validate_plugins(config, registry());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string gauge_with(const std::string& thresholds, const std::string& type = "gauge") {
  return "checks:\n  - id: g\n    plugin: c-metrics\n    type: " + type +
         "\n    params: {target: x}\n    thresholds: " + thresholds + "\n";
}

// Captures what spdlog logs while it lives.
class LogCapture {
 public:
  LogCapture()
      : previous_(spdlog::default_logger()),
        logger_(std::make_shared<spdlog::logger>(
            "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_))) {
    logger_->set_pattern("%v");
    spdlog::set_default_logger(logger_);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const { return out_.str(); }
  int count(const std::string& part) const {
    const std::string all = out_.str();
    int n = 0;
    for (auto at = all.find(part); at != std::string::npos; at = all.find(part, at + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::logger> logger_;
};

Outcome emitted(std::vector<RawMetric> metrics, int status = TRIAGE_STATUS_OK) {
  Outcome o;
  o.status = status;
  o.summary = "measured";
  o.metrics = std::move(metrics);
  return o;
}

CheckSpec spec_of(const std::string& thresholds,
                  std::shared_ptr<const MetricCatalog> metrics = nullptr) {
  auto spec = parse_config(
                  "checks:\n  - {id: a, plugin: p, type: t, params: {m: {lag: /lag}}, "
                  "thresholds: " +
                      thresholds + "}\n",
                  "e.yaml")
                  .checks.at(0);
  spec.metrics = std::move(metrics);
  return spec;
}

std::shared_ptr<const MetricCatalog> catalog() {
  return std::make_shared<const MetricCatalog>(std::vector<MetricDecl>{
      {"latency_ms", "ms", "Time to answer", "100", "500", "Scale the service up."},
      {"used_pct[*]", "%", "Usage per mount", "", "", "Free space on that mount."},
      {"{m}", "", "Numbers named by params.m", "", "", ""}});
}

}  // namespace

TEST_CASE("declared names: exact, per item, or the keys of a param", "[metrics]") {
  CHECK(declared_name_problem("latency_ms").empty());
  CHECK(declared_name_problem("used_pct[*]").empty());
  CHECK(declared_name_problem("{json_metrics}").empty());
  for (const char* bad : {"", "a b", "used_pct[x]", "{}", "[*]", "a{b}", "x[*"})
    CHECK_FALSE(declared_name_problem(bad).empty());

  const nlohmann::json params{{"json_metrics", {{"lag_s", "/lag"}}}, {"flat", 3}};
  CHECK(declared_name_covers("used_pct[*]", "used_pct[/var]", params));
  CHECK(declared_name_covers("used_pct[*]", "used_pct[*]", params));
  CHECK_FALSE(declared_name_covers("used_pct[*]", "used_pct[]", params));
  CHECK_FALSE(declared_name_covers("used_pct[*]", "used_pct", params));
  CHECK_FALSE(declared_name_covers("used_pct[*]", "used_pctx[/var]", params));
  CHECK(declared_name_covers("{json_metrics}", "lag_s", params));
  CHECK_FALSE(declared_name_covers("{json_metrics}", "lag", params));
  CHECK_FALSE(declared_name_covers("{flat}", "3", params));
  CHECK_FALSE(declared_name_covers("{missing}", "lag_s", params));

  const auto c = catalog();
  CHECK(c->find("latency_ms", params)->unit == "ms");
  CHECK(c->find("used_pct[/var]", params)->name == "used_pct[*]");
  CHECK(c->find("latency", params) == nullptr);
  CHECK(c->describe() == "latency_ms, used_pct[ITEM], the keys of params.m");
}

TEST_CASE("the loader reads a C plugin's declarations; NULL declares nothing",
          "[metrics][loader]") {
  const Plugin* plugin = registry().find("c-metrics");
  REQUIRE(plugin != nullptr);
  CHECK(plugin->abi_minor == TRIAGE_ABI_MINOR);
  const CheckType* gauge = plugin->find("gauge");
  REQUIRE(gauge != nullptr);
  REQUIRE(gauge->metrics != nullptr);
  const auto& decls = gauge->metrics->decls();
  REQUIRE(decls.size() == 2);
  CHECK(decls[0].name == "level");
  CHECK(decls[0].unit == "%");
  CHECK(decls[0].description == "How full the gauge is");
  CHECK(decls[0].warning == "80");
  CHECK(decls[0].critical == "90");
  CHECK_THAT(decls[0].remediation, Catch::StartsWith("Drain the gauge"));
  CHECK(decls[1].name == "depth[*]");
  CHECK(decls[1].unit.empty());
  CHECK(decls[1].remediation.empty());
  const CheckType* quiet = plugin->find("quiet");
  REQUIRE(quiet != nullptr);
  REQUIRE(quiet->metrics != nullptr);  // declared: no metric at all
  CHECK(quiet->metrics->decls().empty());
  // A 1.1-built plugin whose type leaves metrics NULL declares nothing.
  REQUIRE(registry().find("c-echo") != nullptr);
  CHECK(registry().find("c-echo")->types.at(0).metrics == nullptr);
  // The C++ wrapper without a `metrics` member: nothing declared either.
  CHECK(registry().find("test-cxx")->find("report")->metrics == nullptr);
}

TEST_CASE("a threshold on an undeclared metric is a config error naming file, line, key",
          "[metrics][errors]") {
  CHECK(error_of(gauge_with("{levl: {warning: \"5\"}}")) ==
        "m.yaml:6: checks[g].thresholds.levl: check type c-metrics.gauge emits no metric 'levl' "
        "(did you mean 'level'?)");
  CHECK(error_of(gauge_with("{\"dept[a]\": {warning: \"5\"}}")) ==
        "m.yaml:6: checks[g].thresholds.dept[a]: check type c-metrics.gauge emits no metric "
        "'dept[a]' (did you mean 'depth[a]'?)");
  CHECK(error_of(gauge_with("{zzzzzzzz: {warning: \"5\"}}")) ==
        "m.yaml:6: checks[g].thresholds.zzzzzzzz: check type c-metrics.gauge emits no metric "
        "'zzzzzzzz' (it emits: level, depth[ITEM])");
  CHECK(error_of(gauge_with("{level: {warning: \"5\"}}", "quiet")) ==
        "m.yaml:6: checks[g].thresholds.level: check type c-metrics.quiet emits no metric "
        "'level' (it emits no metrics)");
  // Declared names, one item of a per-item metric, and all its items.
  CHECK(error_of(gauge_with("{level: {warning: \"5\"}, \"depth[a]\": {critical: \"9\"}, "
                            "\"depth[*]\": {warning: \"3\"}}")) == "(no error)");
  // In block style the brackets need no quotes.
  CHECK(error_of("checks:\n  - id: g\n    plugin: c-metrics\n    type: gauge\n"
                 "    thresholds:\n      depth[a]: {critical: \"9\"}\n"
                 "      depth[*]: {warning: \"3\"}\n") == "(no error)");
  // A type that declares nothing accepts any name (a warning at run time at most).
  CHECK(error_of("checks:\n  - {id: e, plugin: c-echo, type: echo, thresholds: {anything: "
                 "{warning: \"1\"}}}\n") == "(no error)");
}

TEST_CASE("validate_plugins gives each check its type's declarations", "[metrics]") {
  auto config = parse_config(
      gauge_with("{}") + "  - {id: e, plugin: c-echo, type: echo, targets: [a, b]}\n", "m.yaml");
  validate_plugins(config, registry());
  REQUIRE(config.checks.size() == 3);
  REQUIRE(config.checks[0].metrics != nullptr);
  CHECK(config.checks[0].metrics->decls().size() == 2);
  CHECK(config.checks[1].metrics == nullptr);
  CHECK(config.checks[2].metrics == nullptr);
}

TEST_CASE("declared defaults apply when a metric carries none; remediation when crossed",
          "[metrics][evaluate]") {
  SECTION("the declared ranges and the remediation") {
    CheckResult r;
    evaluate(spec_of("{}", catalog()), emitted({{"latency_ms", 700, "", "", ""}}), TRIAGE_RC_OK, r);
    REQUIRE(r.metrics.size() == 1);
    CHECK(r.metrics[0].warning->text() == "100");
    CHECK(r.metrics[0].critical->text() == "500");
    CHECK(r.metrics[0].unit == "ms");  // the declared unit when none was emitted
    CHECK(r.metrics[0].status == Status::critical);
    CHECK(r.metrics[0].remediation == "Scale the service up.");
    CHECK(r.status == Status::critical);
  }
  SECTION("ranges given with the metric win, per level; no remediation when not crossed") {
    CheckResult r;
    evaluate(spec_of("{}", catalog()), emitted({{"latency_ms", 150, "ms", "200", ""}}),
             TRIAGE_RC_OK, r);
    CHECK(r.metrics[0].warning->text() == "200");
    CHECK(r.metrics[0].critical->text() == "500");
    CHECK(r.metrics[0].status == Status::ok);
    CHECK(r.metrics[0].remediation.empty());
  }
  SECTION("the config's thresholds win over both") {
    CheckResult r;
    evaluate(spec_of("{latency_ms: {warning: \"1000\", critical: \"2000\"}}", catalog()),
             emitted({{"latency_ms", 700, "ms", "", ""}}), TRIAGE_RC_OK, r);
    CHECK(r.metrics[0].status == Status::ok);
  }
  SECTION("per-item thresholds: one item by name, every item with [*]") {
    CheckResult r;
    evaluate(spec_of("{\"used_pct[/var]\": {critical: \"50\"}, \"used_pct[*]\": {warning: \"70\"}}",
                     catalog()),
             emitted({{"used_pct[/var]", 60, "%", "", ""},
                      {"used_pct[/]", 75, "%", "", ""},
                      {"used_pct[/tmp]", 10, "%", "", ""}}),
             TRIAGE_RC_OK, r);
    REQUIRE(r.metrics.size() == 3);
    CHECK(r.metrics[0].status == Status::critical);
    CHECK_FALSE(r.metrics[0].warning.has_value());  // its own entry replaces [*]
    CHECK(r.metrics[0].remediation == "Free space on that mount.");
    CHECK(r.metrics[1].status == Status::warning);
    CHECK(r.metrics[2].status == Status::ok);
    CHECK(r.metrics[2].remediation.empty());
  }
  SECTION("metrics named by a param's keys") {
    CheckResult r;
    evaluate(spec_of("{lag: {critical: \"30\"}}", catalog()), emitted({{"lag", 42, "", "", ""}}),
             TRIAGE_RC_OK, r);
    CHECK(r.metrics[0].status == Status::critical);
  }
}

TEST_CASE("a 1.0 type's unmatched threshold is warned once per check, not per attempt",
          "[metrics][evaluate]") {
  const auto spec = spec_of("{latency_msec: {warning: \"1\"}, latency_ms: {warning: \"1\"}}");
  const std::string warning = "a: threshold for 'latency_msec' matches no metric";
  SECTION("three attempts that emitted: one warning, and none for the matching name") {
    LogCapture log;
    CheckResult r;
    for (int attempt = 1; attempt <= 3; ++attempt) {
      r.attempts = attempt;
      evaluate(spec, emitted({{"latency_ms", 5, "ms", "", ""}}, TRIAGE_STATUS_CRITICAL),
               TRIAGE_RC_OK, r);
    }
    CHECK(log.count(warning) == 1);
    CHECK(log.count("'latency_ms'") == 0);
  }
  SECTION("attempts that failed before emitting say nothing; the first that emitted does") {
    LogCapture log;
    CheckResult r;
    Outcome failed;
    failed.error = "connection refused";
    evaluate(spec, failed, TRIAGE_RC_OK, r);
    evaluate(spec, Outcome{}, TRIAGE_RC_ERROR, r);
    evaluate(spec, emitted({}, TRIAGE_STATUS_UNKNOWN), TRIAGE_RC_OK, r);
    Outcome unknown_with_metric = emitted({{"other", 1, "", "", ""}}, TRIAGE_STATUS_UNKNOWN);
    evaluate(spec, unknown_with_metric, TRIAGE_RC_OK, r);
    CHECK(log.count("matches no metric") == 0);
    evaluate(spec, emitted({{"latency_ms", 5, "ms", "", ""}}), TRIAGE_RC_OK, r);
    CHECK(log.count(warning) == 1);
  }
  SECTION("a type that declares its metrics was checked with the config: no warning") {
    LogCapture log;
    CheckResult r;
    evaluate(
        spec_of("{latency_ms: {warning: \"1\"}, \"used_pct[/x]\": {warning: \"1\"}}", catalog()),
        emitted({{"latency_ms", 5, "ms", "", ""}}), TRIAGE_RC_OK, r);
    CHECK(log.count("matches no metric") == 0);
  }
}

TEST_CASE("declared metrics travel through the plugin-host protocol", "[metrics][protocol]") {
  Plugin p;
  p.name = "x";
  p.abi_major = 1;
  p.abi_minor = 1;
  CheckType declared;
  declared.name = "declared";
  declared.metrics = catalog();
  CheckType none;
  none.name = "none";
  CheckType empty;
  empty.name = "empty";
  empty.metrics = std::make_shared<const MetricCatalog>(std::vector<MetricDecl>{});
  p.types = {declared, none, empty};
  // Through text, as the host sends it.
  const auto back =
      protocol::plugin_from_json(nlohmann::json::parse(protocol::plugin_to_json(p).dump()));
  REQUIRE(back.types.size() == 3);
  REQUIRE(back.types[0].metrics != nullptr);
  const auto& decls = back.types[0].metrics->decls();
  REQUIRE(decls.size() == 3);
  CHECK(decls[0].name == "latency_ms");
  CHECK(decls[0].unit == "ms");
  CHECK(decls[0].description == "Time to answer");
  CHECK(decls[0].warning == "100");
  CHECK(decls[0].critical == "500");
  CHECK(decls[0].remediation == "Scale the service up.");
  CHECK(decls[1].warning.empty());
  CHECK(decls[2].name == "{m}");
  CHECK(back.types[1].metrics == nullptr);
  REQUIRE(back.types[2].metrics != nullptr);
  CHECK(back.types[2].metrics->decls().empty());
  // A host of an older core sends no "metrics" at all: nothing declared.
  auto old = protocol::plugin_to_json(p);
  for (auto& t : old.at("types")) t.erase("metrics");
  CHECK(protocol::plugin_from_json(old).types[0].metrics == nullptr);
}

TEST_CASE("a declared check type runs in-process with its declarations", "[metrics][runner]") {
  auto config =
      parse_config(gauge_with("{\"depth[b]\": {critical: \"1\"}}") + "    retries: 0\n", "m.yaml");
  config.checks[0].params["value"] = 85;
  validate_plugins(config, registry());
  InProcessExecutor executor(registry());
  const auto out = run_checks(config.checks, executor, RunOptions{});
  REQUIRE(out.results.size() == 1);
  const auto& r = out.results[0];
  REQUIRE(r.metrics.size() == 3);
  CHECK(r.metrics[0].name == "level");
  CHECK(r.metrics[0].status == Status::warning);  // declared warning 80
  CHECK_THAT(r.metrics[0].remediation, Catch::StartsWith("Drain the gauge"));
  CHECK(r.metrics[2].name == "depth[b]");
  CHECK(r.metrics[2].status == Status::critical);
  CHECK(r.metrics[2].remediation.empty());  // declared without one
  CHECK(r.status == Status::critical);
}
