#include "azure_sas.hpp"

#include <cctype>
#include <stdexcept>

namespace triage::storage::azure {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads exactly n digits at s[at...]; -1 when they are not all digits.
int digits(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i])) == 0) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view s) {
  using namespace std::chrono;
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  if (y < 0 || mo < 0 || d < 0 || s[4] != '-' || s[7] != '-') return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  sys_seconds t = sys_days{ymd};
  if (s.size() == 10) return t;
  // "THH:MM" then optional ":SS", optional ".fraction", then "Z".
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2);
  if (s[10] != 'T' || h < 0 || h > 23 || mi < 0 || mi > 59 || s.size() < 17 || s[13] != ':')
    return std::nullopt;
  t += hours{h} + minutes{mi};
  std::size_t at = 16;
  if (s[at] == ':') {
    const int sec = digits(s, at + 1, 2);
    if (sec < 0 || sec > 60) return std::nullopt;
    t += seconds{sec};
    at += 3;
    if (at < s.size() && s[at] == '.') {
      ++at;
      while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at])) != 0) ++at;
    }
  }
  if (at + 1 != s.size() || s[at] != 'Z') return std::nullopt;
  return t;
}

SasInfo parse_sas(std::string_view token) {
  while (!token.empty() && (token.front() == ' ' || token.front() == '\n')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r'))
    token.remove_suffix(1);
  if (!token.empty() && token.front() == '?') token.remove_prefix(1);
  if (token.empty()) throw std::invalid_argument("the SAS token is empty");
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#')
      throw std::invalid_argument(
          "the SAS token contains a character that cannot be in a URL query (space, control "
          "character, '#' or non-ASCII)");
  }
  SasInfo info;
  info.token = std::string(token);
  bool has_sig = false;
  std::string_view rest = token;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view field = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = field.find('=');
    const std::string_view name = field.substr(0, eq);
    const std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode(field.substr(eq + 1));
    if (name == "sig")
      has_sig = !value.empty();
    else if (name == "se")
      info.expiry_text = value;
    else if (name == "st")
      info.start_text = value;
    else if (name == "sp")
      info.permissions = value;
    else if (name == "sv")
      info.version = value;
  }
  if (!has_sig)
    throw std::invalid_argument(
        "the SAS token has no 'sig' field: give the query string of a SAS URL (sv=...&sig=...)");
  if (!info.expiry_text.empty()) info.expiry = parse_iso8601_utc(info.expiry_text);
  return info;
}

}  // namespace triage::storage::azure
