// The C++ wrapper's reporting calls return what the host said, so an author
// can see a refused value (a NaN metric) in a test.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <triage/testing.hpp>

namespace {

struct RefusedValues {
  static constexpr const char* name = "refused";
  static constexpr const char* description = "Reports a NaN and an empty name";
  static constexpr const char* params_schema = R"json({"type":"object"})json";
  void run(triage::Context& ctx) {
    const triage_rc nan = ctx.metric("nan_value", std::nan(""), "ms");
    const triage_rc unnamed = ctx.metric("", 1);
    const triage_rc good = ctx.metric("good", 1);
    const triage_rc attribute = ctx.attribute("k", "v");
    const triage_rc log = ctx.log(triage::LogLevel::info, "line");
    const triage_rc finding = ctx.finding(triage::Severity::info, "t", "d", "r");
    ctx.status(triage::Status::ok, std::to_string(nan) + " " + std::to_string(unnamed) + " " +
                                       std::to_string(good) + " " + std::to_string(attribute) +
                                       " " + std::to_string(log) + " " + std::to_string(finding));
  }
};

}  // namespace

TEST_CASE("the wrapper's calls return the host's status", "[sdk]") {
  const auto r = triage::testing::run<RefusedValues>(nlohmann::json::object());
  const std::string refused = std::to_string(TRIAGE_RC_INVALID_ARGUMENT);
  const std::string ok = std::to_string(TRIAGE_RC_OK);
  CHECK(r.summary == refused + " " + refused + " " + ok + " " + ok + " " + ok + " " + ok);
  REQUIRE(r.metrics.size() == 1);
  CHECK(r.metrics[0].name == "good");
}
