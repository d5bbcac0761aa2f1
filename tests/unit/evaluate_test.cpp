// Thresholds and status combination: the core, not the plugin, applies them.
#include <catch2/catch.hpp>

#include "triage/core/evaluate.hpp"

using namespace triage::core;

namespace {

CheckSpec spec_with(const std::string& thresholds) {
  return parse_config("checks:\n  - {id: a, plugin: p, type: t, thresholds: " + thresholds + "}\n",
                      "e.yaml")
      .checks.at(0);
}

Outcome with_metric(double value, std::string warn = "", std::string crit = "") {
  Outcome o;
  o.status = TRIAGE_STATUS_OK;
  o.summary = "measured";
  o.metrics.push_back({"latency_ms", value, "ms", std::move(warn), std::move(crit)});
  return o;
}

}  // namespace

TEST_CASE("plugin default thresholds apply when the config gives none", "[evaluate]") {
  CheckResult r;
  evaluate(spec_with("{}"), with_metric(150, "100", "500"), TRIAGE_RC_OK, r);
  CHECK(r.status == Status::warning);
  CHECK(r.metrics.at(0).status == Status::warning);
  CHECK(r.metrics.at(0).warning->text() == "100");
  CHECK_THAT(r.summary, Catch::Contains("latency_ms 150ms > 100 (warning)"));
}

TEST_CASE("config thresholds replace the plugin's, level by level", "[evaluate]") {
  CheckResult r;
  evaluate(spec_with("{latency_ms: {critical: \"120\"}}"), with_metric(150, "100", "500"),
           TRIAGE_RC_OK, r);
  CHECK(r.status == Status::critical);
  CHECK(r.metrics.at(0).warning->text() == "100");
  CHECK(r.metrics.at(0).critical->text() == "120");
}

TEST_CASE("thresholds raise the plugin's status, never lower it", "[evaluate]") {
  Outcome o = with_metric(1, "100", "500");
  o.status = TRIAGE_STATUS_CRITICAL;
  CheckResult r;
  evaluate(spec_with("{}"), o, TRIAGE_RC_OK, r);
  CHECK(r.status == Status::critical);
}

TEST_CASE("findings raise the status to their severity", "[evaluate]") {
  Outcome o = with_metric(1);
  o.findings.push_back({Severity::warning, "Weak protocol", "TLSv1.0", "Disable it"});
  o.findings.push_back({Severity::info, "Note", "", ""});
  CheckResult r;
  evaluate(spec_with("{}"), o, TRIAGE_RC_OK, r);
  CHECK(r.status == Status::warning);
}

TEST_CASE("an error or a failing return code makes the result unknown", "[evaluate]") {
  Outcome o = with_metric(1);
  o.error = "missing required param 'target'";
  CheckResult r;
  evaluate(spec_with("{}"), o, TRIAGE_RC_ERROR, r);
  CHECK(r.status == Status::unknown);
  CHECK(r.error == "missing required param 'target'");
  CheckResult silent;
  evaluate(spec_with("{}"), Outcome{}, TRIAGE_RC_ERROR, silent);
  CHECK(silent.status == Status::unknown);
  CHECK_THAT(silent.error, Catch::Contains("code 4"));
}

TEST_CASE("bad plugin output is capped and cleaned", "[evaluate][limits]") {
  Attempt a("x", std::chrono::steady_clock::now() + std::chrono::seconds(1));
  a.set_status(TRIAGE_STATUS_OK, std::string(10'000, 'a'));
  for (int i = 0; i < 1000; ++i) a.add_metric({"m", 1, "", "", ""});
  a.set_attribute("bad", "caf\xC3\x28 \xFF ok");
  const auto o = a.take();
  CHECK(o.truncated);
  CHECK(o.summary.size() < 4200);
  CHECK_THAT(o.summary, Catch::EndsWith("[truncated]"));
  CHECK(o.metrics.size() == OutputLimits{}.metrics);
  CHECK(o.attributes.at(0).second == "caf\xEF\xBF\xBD( \xEF\xBF\xBD ok");
}
