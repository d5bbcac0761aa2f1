// The in-process executor keeps the ABI's threading contract: a check type
// without TRIAGE_CHECK_THREAD_SAFE never runs two calls at once.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>

#include "triage/core/runner.hpp"

using namespace std::chrono_literals;
using namespace triage::core;

namespace {

// Counts the calls inside run() at once. A call waits (bounded) for a second
// one to come in, so overlap is seen whenever the executor allows it.
struct Overlap {
  std::mutex mutex;
  std::condition_variable changed;
  int inside = 0;
  int most = 0;
  std::chrono::milliseconds wait_for_partner{0};
};

triage_rc overlapping_run(const triage_host_api* host, triage_check_ctx ctx, const char*,
                          std::uint64_t, void* user_data) {
  auto& o = *static_cast<Overlap*>(user_data);
  {
    std::unique_lock lock(o.mutex);
    o.most = std::max(o.most, ++o.inside);
    o.changed.notify_all();
    o.changed.wait_for(lock, o.wait_for_partner, [&] { return o.inside >= 2; });
    --o.inside;
  }
  host->set_status(ctx, TRIAGE_STATUS_OK, "ran", 3);
  return TRIAGE_RC_OK;
}

}  // namespace

TEST_CASE("check types not declared thread-safe run one call at a time in-process",
          "[runner][threading]") {
  Overlap serial, parallel;
  serial.wait_for_partner = 100ms;  // a partner never comes: each call waits this long
  parallel.wait_for_partner = 5s;   // a partner comes at once: the control case
  PluginRegistry registry;
  registry.set_loader([&](const std::filesystem::path& file, std::string&) {
    Plugin plugin;
    plugin.file = file;
    plugin.name = "probe";
    CheckType s;
    s.name = "serial";
    s.run = &overlapping_run;
    s.user_data = &serial;
    CheckType p = s;
    p.name = "parallel";
    p.flags = TRIAGE_CHECK_THREAD_SAFE;
    p.user_data = &parallel;
    plugin.types = {s, p};
    return std::optional<Plugin>(plugin);
  });
  REQUIRE(registry.load_file(std::filesystem::path(TRIAGE_TEST_PLUGIN_DIR) / "test_c_plugin.so"));

  const auto config = parse_config(R"(checks:
  - {id: s, plugin: probe, type: serial, targets: [a, b, c, d], timeout: 20s}
  - {id: p, plugin: probe, type: parallel, targets: [a, b, c, d], timeout: 20s}
)",
                                   "t.yaml");
  InProcessExecutor executor(registry);
  RunOptions options;
  options.jobs = 8;
  const auto out = run_checks(config.checks, executor, options);
  REQUIRE(out.results.size() == 8);
  for (const auto& r : out.results) CHECK(r.status == Status::ok);
  CHECK(serial.most == 1);
  CHECK(parallel.most >= 2);
}
