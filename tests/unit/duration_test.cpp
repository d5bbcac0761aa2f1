#include <catch2/catch.hpp>

#include "triage/core/duration.hpp"

using namespace std::chrono_literals;
using triage::core::format_duration;
using triage::core::parse_duration;

TEST_CASE("durations take ms, s, m, h and bare seconds", "[duration]") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("10s") == 10s);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("2m") == 2min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("3") == 3s);
}

TEST_CASE("non-durations are refused", "[duration]") {
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("10 parsecs"));
  CHECK_FALSE(parse_duration("10parsecs"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("1e300h"));
}

TEST_CASE("durations print in their shortest exact form", "[duration]") {
  CHECK(format_duration(2000ms) == "2s");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(120s) == "2m");
}
