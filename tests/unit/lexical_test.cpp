// The linear scanners that replace std::regex for ids, numbers, plugin
// names and versions: the same shapes, at any length without recursion.
#include <catch2/catch.hpp>
#include <string>

#include "triage/core/lexical.hpp"

using namespace triage::core::lexical;

TEST_CASE("check ids, plugin names, numbers and versions are scanned linearly", "[lexical]") {
  CHECK(is_check_id("api-1.prod_eu"));
  CHECK_FALSE(is_check_id(""));
  CHECK_FALSE(is_check_id("Api"));
  CHECK_FALSE(is_check_id("a b"));
  CHECK(is_plugin_name("net-work_2"));
  CHECK_FALSE(is_plugin_name("2net"));
  CHECK_FALSE(is_plugin_name("Net"));
  CHECK(is_integer("-42", 9));
  CHECK(is_integer("+123456789", 9));
  CHECK_FALSE(is_integer("1234567890", 9));
  CHECK_FALSE(is_integer("-", 9));
  CHECK_FALSE(is_integer("1.0", 9));
  CHECK(is_decimal("1.5"));
  CHECK(is_decimal("-.5e-3"));
  CHECK(is_decimal("3."));
  CHECK_FALSE(is_decimal("."));
  CHECK_FALSE(is_decimal("1e5"));
  CHECK_FALSE(is_decimal("1.5e"));
  CHECK(is_version("1.2"));
  CHECK(is_version("1.2.3-rc.1+build"));
  CHECK_FALSE(is_version("1"));
  CHECK_FALSE(is_version("1.2.3-"));
  CHECK_FALSE(is_version("1.x"));
}

TEST_CASE("a megabyte of input is scanned without a stack overflow", "[lexical]") {
  const std::string long_id(1u << 20, 'a');
  CHECK(is_check_id(long_id));
  CHECK_FALSE(is_check_id(long_id + "A"));
  CHECK_FALSE(is_integer(std::string(1u << 20, '7'), 18));
  CHECK(is_decimal(std::string(1u << 20, '7') + ".5"));
  CHECK_FALSE(is_plugin_name(long_id + " "));
}
