// Threshold ranges in the Monitoring Plugins syntax ("10", "10:", "~:10",
// "10:20", "@10:20"): a value outside the range alerts, or inside it with '@'.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace triage::core {

class RangeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class Range {
 public:
  // Throws RangeError with a message that says what was expected.
  static Range parse(std::string_view text);

  // True when value should raise an alert.
  bool alerts(double value) const;

  const std::string& text() const { return text_; }
  // Human wording of when it alerts, e.g. "> 500", "< 30", "outside 10..20".
  std::string describe() const;

 private:
  double start_ = 0;
  double end_ = 0;
  bool start_infinite_ = false;
  bool end_infinite_ = false;
  bool inside_ = false;
  std::string text_;
};

}  // namespace triage::core
