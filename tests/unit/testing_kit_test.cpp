// triage/testing.hpp evaluates what a check reported as the core does
// (triage/evaluation.hpp): thresholds, the status order, output limits,
// text cleaning, and what the core would refuse at load.
#include <catch2/catch.hpp>

#include <string>
#include <triage/testing.hpp>

#include "triage/core/range.hpp"
#include "triage/core/result.hpp"

namespace {

// A disk check that reports params.used as used_pct (declared: warning 80,
// critical 90), and whatever text params.summary gives.
struct Disk {
  static constexpr const char* name = "disk";
  static constexpr const char* description = "Reports params.used as used_pct";
  static constexpr const char* params_schema = R"json({
    "type": "object", "required": ["used"], "additionalProperties": false,
    "properties": {
      "used":    {"type": "number", "description": "the percentage to report"},
      "summary": {"type": "string", "description": "the summary to report"},
      "lines":   {"type": "integer", "description": "log lines to write"}}})json";
  static constexpr triage::MetricDecl metrics[] = {
      triage::metric("used_pct", "%", "Share of the blocks in use").warning("80").critical("90"),
      triage::metric("inode_pct[*]", "%", "Inodes in use per filesystem")};
  void run(triage::Context& ctx) {
    const double used = ctx.param<double>("used", 0);
    ctx.metric(metrics[0], used);
    last_rc = ctx.metric(metrics[1], "/data", used);
    for (std::int64_t i = 0; i < ctx.param<std::int64_t>("lines", 0); ++i)
      last_rc = ctx.log(triage::LogLevel::info, "line " + std::to_string(i));
    ctx.status(triage::Status::ok, ctx.param<std::string>("summary", "fine"));
  }
  static inline triage_rc last_rc = TRIAGE_RC_OK;
};

}  // namespace

TEST_CASE("the testing kit applies declared default thresholds", "[sdk][testing]") {
  const auto r = triage::testing::run<Disk>({{"used", 91}});
  const auto* used = r.metric("used_pct");
  REQUIRE(used != nullptr);
  CHECK(used->warning == "80");
  CHECK(used->critical == "90");
  CHECK(used->unit == "%");
  CHECK(used->status == triage::Status::critical);
  CHECK(r.status() == triage::Status::critical);  // the check itself said ok
}

TEST_CASE("the testing kit's thresholds replace the defaults, like a config's", "[sdk][testing]") {
  triage::testing::Options options;
  options.thresholds["used_pct"] = {"90", "95"};
  options.thresholds["inode_pct[*]"] = {"", "@50:"};
  const auto r = triage::testing::run<Disk>({{"used", 91}}, options);
  CHECK(r.metric("used_pct")->status == triage::Status::warning);
  CHECK(r.metric("inode_pct[/data]")->status == triage::Status::critical);
  CHECK(r.status() == triage::Status::critical);
  SECTION("a threshold on a metric the type does not declare is refused, as at load") {
    options.thresholds["used_percent"] = {"1", "2"};
    CHECK_THROWS_WITH(triage::testing::run<Disk>({{"used", 1}}, options),
                      Catch::Contains("declares no such metric"));
  }
  SECTION("a threshold that is not a range is refused") {
    options.thresholds["used_pct"] = {"ninety", ""};
    CHECK_THROWS_WITH(triage::testing::run<Disk>({{"used", 1}}, options),
                      Catch::Contains("'ninety' is not a number"));
  }
}

TEST_CASE("the testing kit's status order is the core's: a warning beats an unknown",
          "[sdk][testing]") {
  triage::testing::Result r;
  r.reported_status = triage::Status::unknown;
  r.metrics.emplace_back("x", 1);
  r.metrics.back().status = triage::Status::warning;
  CHECK(r.status() == triage::Status::warning);
  CHECK(triage::core::severity_rank(triage::core::Status::warning) >
        triage::core::severity_rank(triage::core::Status::unknown));
}

TEST_CASE("the testing kit caps and cleans output at the core's limits", "[sdk][testing]") {
  const std::string big(5000, 'x');
  const auto r =
      triage::testing::run<Disk>({{"used", 1}, {"summary", big + "\xE2\x80\xAE"}, {"lines", 150}});
  CHECK(r.truncated);
  CHECK(r.summary.size() == triage::core::OutputLimits{}.summary_bytes + 12);
  CHECK(r.summary.substr(r.summary.size() - 12) == " [truncated]");
  CHECK(r.logs.size() == 100);
  CHECK(r.logs_suppressed == 50);
  CHECK(Disk::last_rc == TRIAGE_RC_LIMIT);

  const auto clean = triage::testing::run<Disk>({{"used", 1},
                                                 {"summary",
                                                  "a\xE2\x80\xAE"
                                                  "b\x1b"}});
  CHECK(clean.summary == "a<U+202E>b ");
  CHECK(clean.cleaned);
  CHECK_FALSE(clean.truncated);
  // The very cleaning the core does.
  CHECK(triage::core::sanitize_utf8("a\xE2\x80\xAE"
                                    "b\x1b") == clean.summary);
}

TEST_CASE("the testing kit says what the core would refuse in the params", "[sdk][testing]") {
  CHECK(triage::testing::run<Disk>({{"used", 1}}).refused_params.empty());
  CHECK(triage::testing::run<Disk>(nlohmann::json::object()).refused_params ==
        "missing required param 'used'");
  CHECK(triage::testing::run<Disk>({{"used", 1}, {"usde", 2}}).refused_params ==
        "no param 'usde' in the schema");
}

TEST_CASE("the core and the testing kit parse ranges with the same code", "[sdk][testing]") {
  const auto range = triage::core::Range::parse("@10:20");
  CHECK(range.alerts(15));
  CHECK_FALSE(range.alerts(25));
  CHECK(range.describe() == "inside 10..20");
}
