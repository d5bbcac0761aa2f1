// C++ test checks, written with the SDK wrapper, for the loader and runner tests.
#include <triage/plugin.hpp>

#include <stdexcept>
#include <thread>

namespace {

// Reports params.value as metric "value" and params.status as its status.
struct Report {
  static constexpr const char* name = "report";
  static constexpr const char* description = "Reports the status and value it is given";
  static constexpr const char* params_schema = R"({"type":"object"})";
  void run(triage::Context& ctx) {
    ctx.metric("value", ctx.param<double>("value", 0), "ms", {"50", "100"});
    const auto status = ctx.param<std::string>("status", "ok");
    ctx.status(status == "critical"  ? triage::Status::critical
               : status == "warning" ? triage::Status::warning
                                     : triage::Status::ok,
               "reported " + status);
  }
};

// Throws: the wrapper must turn it into an error, never let it cross.
struct Throws {
  static constexpr const char* name = "throws";
  static constexpr const char* description = "Throws a std::runtime_error";
  static constexpr const char* params_schema = R"({"type":"object"})";
  void run(triage::Context&) { throw std::runtime_error("boom from a check"); }
};

// Waits, politely, until cancelled.
struct WaitsForCancel {
  static constexpr const char* name = "waits";
  static constexpr const char* description = "Waits until cancelled";
  static constexpr const char* params_schema = R"({"type":"object"})";
  void run(triage::Context& ctx) {
    while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ctx.status(triage::Status::critical, "gave up at the deadline");
  }
};

}  // namespace

TRIAGE_PLUGIN("test-cxx", "0.1.0", "C++ checks for the core's tests", Report, Throws,
              WaitsForCancel)
