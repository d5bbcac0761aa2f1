#include "triage/core/lexical.hpp"

#include <triage/evaluation.hpp>

#include <algorithm>
#include <cstddef>

namespace triage::core::lexical {

namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool alnum(char c) {
  return digit(c) || lower(c) || (c >= 'A' && c <= 'Z');
}

// Advances i past digits; how many there were.
std::size_t digits(std::string_view s, std::size_t& i) {
  const std::size_t start = i;
  while (i < s.size() && digit(s[i])) ++i;
  return i - start;
}

void sign(std::string_view s, std::size_t& i) {
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
}

}  // namespace

bool is_check_id(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return digit(c) || lower(c) || c == '.' || c == '_' || c == '-';
  });
}

bool is_plugin_name(std::string_view s) {
  return !s.empty() && lower(s.front()) && std::all_of(s.begin(), s.end(), [](char c) {
    return digit(c) || lower(c) || c == '_' || c == '-';
  });
}

bool is_integer(std::string_view s, std::size_t max_digits) {
  std::size_t i = 0;
  sign(s, i);
  const std::size_t n = digits(s, i);
  return n > 0 && n <= max_digits && i == s.size();
}

bool is_decimal(std::string_view s) {
  std::size_t i = 0;
  sign(s, i);
  const std::size_t whole = digits(s, i);
  if (i == s.size() || s[i] != '.') return false;
  ++i;
  const std::size_t fraction = digits(s, i);
  if (whole == 0 && fraction == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    sign(s, i);
    if (digits(s, i) == 0) return false;
  }
  return i == s.size();
}

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();)
    if (!evaluation::next_code_point(s, i)) return false;
  return true;
}

bool is_version(std::string_view s) {
  std::size_t i = 0;
  if (digits(s, i) == 0 || i == s.size() || s[i] != '.') return false;
  ++i;
  if (digits(s, i) == 0) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits(s, i) == 0) return false;
  }
  if (i == s.size()) return true;
  if (s[i] != '-' && s[i] != '+') return false;
  ++i;
  const std::size_t rest = i;
  while (i < s.size() && (alnum(s[i]) || s[i] == '.' || s[i] == '+' || s[i] == '-')) ++i;
  return i > rest && i == s.size();
}

}  // namespace triage::core::lexical
