// Small pure helpers of the http check, kept apart so unit tests can reach them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace triage::network::http {

// The p-th percentile (0..100) of values, by linear interpolation between the
// closest ranks (the "R-7" / numpy default method): with one value every
// percentile is that value; p50 of {1,2,3,4} is 2.5. NaN when empty.
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  p = std::clamp(p, 0.0, 100.0);
  const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto lower = static_cast<std::size_t>(std::floor(rank));
  const auto upper = std::min(lower + 1, values.size() - 1);
  const double fraction = rank - static_cast<double>(lower);
  return values[lower] + (values[upper] - values[lower]) * fraction;
}

// True when `code` is one of `codes`, or within 200..399 when `codes` is
// empty (the default of expect_status).
inline bool status_accepted(const std::vector<long>& codes, long code) {
  if (codes.empty()) return code >= 200 && code <= 399;
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace triage::network::http
