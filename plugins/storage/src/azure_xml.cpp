#include "azure_xml.hpp"

#include <array>
#include <cctype>

namespace triage::storage::azure {
namespace {

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

std::string xml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto end = s.find(';', i);
    const std::string_view entity =
        end == std::string_view::npos ? std::string_view() : s.substr(i + 1, end - i - 1);
    if (entity == "amp")
      out += '&';
    else if (entity == "lt")
      out += '<';
    else if (entity == "gt")
      out += '>';
    else if (entity == "quot")
      out += '"';
    else if (entity == "apos")
      out += '\'';
    else {
      out += s[i];
      continue;
    }
    i = end;
  }
  return out;
}

std::optional<XmlElement> xml_find(std::string_view xml, std::string_view name, std::size_t from) {
  const std::string open = "<" + std::string(name) + ">";
  const std::string close = "</" + std::string(name) + ">";
  if (from > xml.size()) return std::nullopt;
  const auto begin = xml.find(open, from);
  if (begin == std::string_view::npos) return std::nullopt;
  const auto text_at = begin + open.size();
  const auto end = xml.find(close, text_at);
  if (end == std::string_view::npos) return std::nullopt;
  return XmlElement{xml.substr(text_at, end - text_at), end + close.size()};
}

std::string xml_text(std::string_view xml, std::string_view name) {
  const auto e = xml_find(xml, name);
  return e ? xml_unescape(e->text) : std::string();
}

std::optional<std::chrono::system_clock::time_point> parse_rfc1123(std::string_view s) {
  using namespace std::chrono;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (const auto comma = s.find(','); comma != std::string_view::npos) {
    s.remove_prefix(comma + 1);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  }
  // "03 Dec 2025 18:00:00 GMT"
  if (s.size() != 24 || s[2] != ' ' || s[6] != ' ' || s[11] != ' ' || s[14] != ':' ||
      s[17] != ':' || s.substr(20) != " GMT")
    return std::nullopt;
  static constexpr std::array<std::string_view, 12> kMonths{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (s.substr(3, 3) == kMonths[i]) month = i + 1;
  const int d = digits(s, 0, 2), y = digits(s, 7, 4), h = digits(s, 12, 2), mi = digits(s, 15, 2),
            sec = digits(s, 18, 2);
  if (month == 0 || d < 0 || y < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
    return std::nullopt;
  const year_month_day ymd{year{y}, std::chrono::month{month}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec};
}

}  // namespace triage::storage::azure
