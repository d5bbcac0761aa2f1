// Every example of the Monitoring Plugins guidelines' threshold table, plus
// the ranges they forbid.
#include <catch2/catch.hpp>

#include "triage/core/range.hpp"

using triage::core::Range;
using triage::core::RangeError;

TEST_CASE("'10' alerts below 0 or above 10", "[range]") {
  const auto r = Range::parse("10");
  CHECK(r.alerts(-1));
  CHECK_FALSE(r.alerts(0));
  CHECK_FALSE(r.alerts(10));
  CHECK(r.alerts(10.5));
}

TEST_CASE("'10:' alerts below 10", "[range]") {
  const auto r = Range::parse("10:");
  CHECK(r.alerts(9.99));
  CHECK_FALSE(r.alerts(10));
  CHECK_FALSE(r.alerts(1e9));
}

TEST_CASE("'~:10' alerts above 10", "[range]") {
  const auto r = Range::parse("~:10");
  CHECK_FALSE(r.alerts(-1e9));
  CHECK_FALSE(r.alerts(10));
  CHECK(r.alerts(11));
}

TEST_CASE("'10:20' alerts outside 10..20", "[range]") {
  const auto r = Range::parse("10:20");
  CHECK(r.alerts(9));
  CHECK_FALSE(r.alerts(10));
  CHECK_FALSE(r.alerts(20));
  CHECK(r.alerts(21));
}

TEST_CASE("'@10:20' alerts inside 10..20, ends included", "[range]") {
  const auto r = Range::parse("@10:20");
  CHECK_FALSE(r.alerts(9));
  CHECK(r.alerts(10));
  CHECK(r.alerts(15));
  CHECK(r.alerts(20));
  CHECK_FALSE(r.alerts(21));
}

TEST_CASE("ranges take decimals and negative bounds", "[range]") {
  CHECK(Range::parse("0.1").alerts(0.2));
  CHECK_FALSE(Range::parse("0.1").alerts(0.05));
  CHECK(Range::parse("-5:-1").alerts(0));
  CHECK_FALSE(Range::parse("-5:-1").alerts(-3));
  CHECK(Range::parse("@~:0").alerts(-4));
}

TEST_CASE("describe() says when a range alerts", "[range]") {
  CHECK(Range::parse("500").describe() == "> 500");
  CHECK(Range::parse("10:20").describe() == "outside 10..20");
  CHECK(Range::parse("30:").describe() == "< 30");
  CHECK(Range::parse("~:5").describe() == "> 5");
  CHECK(Range::parse("@1:2").describe() == "inside 1..2");
}

TEST_CASE("malformed ranges are refused with the reason", "[range]") {
  CHECK_THROWS_AS(Range::parse(""), RangeError);
  CHECK_THROWS_AS(Range::parse("@"), RangeError);
  CHECK_THROWS_AS(Range::parse("abc"), RangeError);
  CHECK_THROWS_AS(Range::parse("10:5"), RangeError);
  CHECK_THROWS_AS(Range::parse("1:2:3"), RangeError);
  CHECK_THROWS_AS(Range::parse("-3"), RangeError);
  CHECK_THROWS_AS(Range::parse("10ms"), RangeError);
  CHECK_THROWS_WITH(Range::parse("20:10"), Catch::Contains("start is greater than end"));
  CHECK_THROWS_WITH(Range::parse("x"), Catch::Contains("is not a number"));
}
