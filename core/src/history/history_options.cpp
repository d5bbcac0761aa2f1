// What the commands that record or read the history share: ages as
// --keep, --since and history.keep spell them, and which file to use.
#include <charconv>

#include "triage/core/duration.hpp"
#include "triage/core/history.hpp"

namespace triage::core {

namespace {

constexpr std::int64_t kMaxAgeSeconds = 100LL * 366 * 24 * 3600;  // 100 years

}  // namespace

std::optional<std::chrono::seconds> parse_age(std::string_view text) {
  std::int64_t seconds = 0;
  const char unit = text.empty() ? '\0' : text.back();
  if (unit == 'd' || unit == 'w') {
    // Whole days or weeks: what a retention is counted in.
    std::int64_t n = 0;
    const auto digits = text.substr(0, text.size() - 1);
    const auto* end = digits.data() + digits.size();
    const auto [ptr, ec] = std::from_chars(digits.data(), end, n);
    if (digits.empty() || ec != std::errc() || ptr != end || n < 0 || n > kMaxAgeSeconds / 86400)
      return std::nullopt;
    seconds = n * (unit == 'd' ? 86400 : 7 * 86400);
  } else {
    const auto d = parse_duration(text);
    if (!d) return std::nullopt;
    seconds = std::chrono::duration_cast<std::chrono::seconds>(*d).count();
  }
  if (seconds <= 0 || seconds > kMaxAgeSeconds) return std::nullopt;
  return std::chrono::seconds(seconds);
}

std::filesystem::path choose_history_path(const std::string& flag, const Config* config) {
  if (!flag.empty()) return flag;
  if (config != nullptr && config->history && !config->history->path.empty())
    return config->history->path;
  return kDefaultHistoryPath;
}

}  // namespace triage::core
