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
