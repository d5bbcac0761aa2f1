#include "triage/core/range.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace triage::core {

namespace {

double parse_number(std::string_view text, std::string_view whole) {
  double value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value))
    throw RangeError("invalid range '" + std::string(whole) + "': '" + std::string(text) +
                     "' is not a number (expected e.g. 10, 10:, ~:10, 10:20 or @10:20)");
  return value;
}

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

Range Range::parse(std::string_view text) {
  Range r;
  r.text_ = std::string(text);
  std::string_view rest = text;
  if (!rest.empty() && rest.front() == '@') {
    r.inside_ = true;
    rest.remove_prefix(1);
  }
  if (rest.empty()) throw RangeError("invalid range '" + std::string(text) + "': empty");
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos) {
    r.end_ = parse_number(rest, text);
    if (r.end_ < 0)
      throw RangeError("invalid range '" + std::string(text) +
                       "': a single number means 0..N and must not be negative (use N: or ~:N)");
    return r;
  }
  const auto start = rest.substr(0, colon);
  const auto end = rest.substr(colon + 1);
  if (start == "~")
    r.start_infinite_ = true;
  else if (!start.empty())
    r.start_ = parse_number(start, text);
  if (end.empty())
    r.end_infinite_ = true;
  else
    r.end_ = parse_number(end, text);
  if (!r.start_infinite_ && !r.end_infinite_ && r.start_ > r.end_)
    throw RangeError("invalid range '" + std::string(text) + "': start is greater than end");
  return r;
}

bool Range::alerts(double value) const {
  const bool in = (start_infinite_ || value >= start_) && (end_infinite_ || value <= end_);
  return inside_ ? in : !in;
}

std::string Range::describe() const {
  const std::string lo = number_text(start_), hi = number_text(end_);
  if (inside_) {
    if (start_infinite_ && end_infinite_) return "always";
    if (start_infinite_) return "<= " + hi;
    if (end_infinite_) return ">= " + lo;
    return "inside " + lo + ".." + hi;
  }
  if (start_infinite_ && end_infinite_) return "never";
  if (start_infinite_) return "> " + hi;
  if (end_infinite_) return "< " + lo;
  if (start_ == 0) return "> " + hi;  // "or < 0" is noise for the usual upper bound
  return "outside " + lo + ".." + hi;
}

}  // namespace triage::core
