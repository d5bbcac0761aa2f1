#include "azure_time.hpp"

#include <array>
#include <cctype>
#include <ctime>

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

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace triage::storage::azure
