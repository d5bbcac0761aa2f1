// libFuzzer target: a saved report as `triage report FILE` reads it. The shape
// check refuses what is not a report with std::invalid_argument; a report it
// accepts renders in every view, or fails with a JSON type error that the
// command turns into exit 65 — never a crash, a hang or another exception.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <typeinfo>

#include "triage/core/report.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::exception& e) {
  std::fprintf(stderr, "fuzz_report: %s: %s: %s\n", what, typeid(e).name(), e.what());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto report = nlohmann::ordered_json::parse(text, nullptr, false);
  if (report.is_discarded()) return 0;
  try {
    triage::core::check_report_shape(report);
  } catch (const std::invalid_argument&) {
    return 0;
  } catch (const std::exception& e) {
    fail("unexpected exception from check_report_shape", e);
  }
  using triage::core::Format;
  for (const auto format : {Format::text, Format::json, Format::ndjson, Format::nagios,
                            Format::junit, Format::prometheus}) {
    try {
      triage::core::RenderOptions options;
      options.utf8 = (size % 2) == 0;
      options.width = 40 + size % 100;
      const std::string out = triage::core::render(report, format, options);
      if (out.empty() && format != Format::ndjson) std::abort();
      if (format == Format::nagios) {
        const auto line = out.substr(0, out.find('\n'));
        if (line.size() > 1023) std::abort();  // NRPE's line, whatever the report says
      }
    } catch (const nlohmann::json::exception&) {
      // A field of the wrong type: `triage report` says so (exit 65).
    } catch (const std::exception& e) {
      fail("unexpected exception from render", e);
    }
  }
  return 0;
}
