// Linear scanners for the few shapes of text the core checks (ids, numbers,
// plugin names, versions). Never std::regex for input we do not control:
// libstdc++'s matcher recurses once per character, so a 30 kB id overflows
// the stack.
#pragma once

#include <string_view>

namespace triage::core::lexical {

// [a-z0-9._-]+: a check id.
bool is_check_id(std::string_view s);

// [a-z][a-z0-9_-]*: a plugin name.
bool is_plugin_name(std::string_view s);

// [+-]?[0-9]+ with at most max_digits digits.
bool is_integer(std::string_view s, std::size_t max_digits);

// [+-]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?: a decimal with a point.
bool is_decimal(std::string_view s);

// Valid UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool is_utf8(std::string_view s);

// MAJOR.MINOR[.PATCH][(-|+)[0-9A-Za-z.+-]+]: a plugin version.
bool is_version(std::string_view s);

}  // namespace triage::core::lexical
