// libFuzzer target: Range::parse (Monitoring Plugins threshold syntax). A
// RangeError is the expected outcome for bad input. On success, exercises
// alerts() and describe() and checks that '@' inverts the range.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <typeinfo>

#include "triage/core/range.hpp"

namespace {

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "fuzz_range: invariant violated for '%.*s': %s\n",
               static_cast<int>(text.size()), text.data(), what);
  std::abort();
}

void check(const triage::core::Range& r, std::string_view text) {
  if (r.text() != text) fail("text() differs from the parsed text", text);
  if (r.describe().empty()) fail("empty describe()", text);
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double values[] = {0.0,  -0.0, 1.0,  -1.0, 10.0,  20.0,    0.1,     1e-300,
                           1e300, -1e300, inf, -inf, std::numeric_limits<double>::quiet_NaN()};
  bool any_alert = false;
  for (double v : values) any_alert = r.alerts(v) || any_alert;
  (void)any_alert;
  // The same range with '@' alerts exactly where this one does not (NaN aside).
  if (text.empty() || text.front() == '@') return;
  const auto inverted = triage::core::Range::parse("@" + std::string(text));
  for (double v : values) {
    if (std::isnan(v)) continue;
    if (inverted.alerts(v) == r.alerts(v)) fail("'@' does not invert the range", text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    check(triage::core::Range::parse(text), text);
  } catch (const triage::core::RangeError& e) {
    if (std::string_view(e.what()).empty()) fail("RangeError without a message", text);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_range: unexpected %s escaped Range::parse: %s\n",
                 typeid(e).name(), e.what());
    std::abort();
  }
  return 0;
}
