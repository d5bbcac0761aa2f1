// The schedule of `triage serve`: which checks a sweep runs when some have
// an `interval:` of their own, that their prerequisites run with them, and
// that the jitter stays within its bound. Times are given, never waited for.
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "triage/core/serve_schedule.hpp"

using namespace std::chrono_literals;
using triage::core::Config;
using triage::core::serve::Clock;
using triage::core::serve::Schedule;

namespace {

triage::core::CheckSpec check(const std::string& id) {
  triage::core::CheckSpec c;
  c.id = id;
  c.base_id = id;
  c.plugin = "network";
  c.type = "loopback";
  return c;
}

}  // namespace

TEST_CASE("a check with its own interval runs only once that much time has passed",
          "[serve][schedule]") {
  Config config;
  config.checks = {check("fast"), check("slow")};
  config.checks[1].interval = 15min;
  Schedule schedule(1min, 42);
  const auto t0 = Clock::now();

  // The first sweep runs everything: nothing has run yet.
  auto due = schedule.due(config, t0);
  CHECK(due == std::vector<std::size_t>{0, 1});
  schedule.ran(config, due, t0);

  // A minute later only the check without an interval of its own is due.
  due = schedule.due(config, t0 + 1min);
  CHECK(due == std::vector<std::size_t>{0});
  schedule.ran(config, due, t0 + 1min);

  // Fifteen minutes after it last started (within half a tick), slow is due again.
  CHECK(schedule.due(config, t0 + 14min) == std::vector<std::size_t>{0});
  CHECK(schedule.due(config, t0 + 14min + 31s) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("a check that runs takes the checks it depends on with it", "[serve][schedule]") {
  Config config;
  config.checks = {check("dns"), check("api")};
  config.checks[0].interval = 1h;  // would run hourly on its own
  config.checks[1].depends_on = {"dns"};
  Schedule schedule(1min, 7);
  const auto t0 = Clock::now();
  schedule.ran(config, schedule.due(config, t0), t0);
  // api runs every sweep, so dns (its prerequisite) runs with it.
  CHECK(schedule.due(config, t0 + 1min) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("the wait between sweeps is the interval within its jitter", "[serve][schedule]") {
  Schedule schedule(10s, 1);
  bool varies = false;
  const auto first = schedule.next_wait();
  for (int i = 0; i < 200; ++i) {
    const auto wait = schedule.next_wait();
    CHECK(wait >= 9s);
    CHECK(wait <= 11s);
    varies = varies || wait != first;
  }
  CHECK(varies);  // jitter, so a fleet started together drifts apart
}
