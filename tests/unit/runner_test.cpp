// The runner's scheduling, with an in-test executor standing in for plugins:
// job limit, dependency skips, retries with backoff, deadlines, cancellation.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "triage/core/runner.hpp"

using namespace std::chrono_literals;
using namespace triage::core;

namespace {

// Runs a function per check id; a check without one reports ok.
class FnExecutor : public Executor {
 public:
  std::map<std::string, std::function<triage_rc(Attempt&)>> behaviours;
  std::function<triage_rc(Attempt&)> fallback = [](Attempt& a) {
    a.set_status(TRIAGE_STATUS_OK, "fine");
    return TRIAGE_RC_OK;
  };
  triage_rc execute(const CheckSpec& spec, Attempt& attempt) override {
    // A copy: an abandoned check may still run after the test (and this
    // executor) is gone, so it must not run from the executor's storage.
    auto it = behaviours.find(spec.base_id);
    auto fn = it == behaviours.end() ? fallback : it->second;
    return fn(attempt);
  }
};

std::vector<CheckSpec> checks_from(const std::string& yaml) {
  return parse_config(yaml, "t.yaml").checks;
}

const CheckResult& by_id(const RunOutcome& out, const std::vector<CheckSpec>& checks,
                         const std::string& id) {
  for (const auto& r : out.results)
    if (checks[r.index].id == id) return r;
  FAIL("no result for " << id);
  throw;
}

RunOptions fast() {
  RunOptions o;
  o.backoff = 1ms;
  o.grace = 50ms;
  return o;
}

triage_rc critical(Attempt& a) {
  a.set_status(TRIAGE_STATUS_CRITICAL, "down");
  return TRIAGE_RC_OK;
}

}  // namespace

TEST_CASE("checks run concurrently up to the job limit and no further", "[runner]") {
  std::string yaml = "checks:\n";
  for (int i = 0; i < 12; ++i) yaml += "  - {id: c" + std::to_string(i) + ", plugin: p, type: t}\n";
  const auto checks = checks_from(yaml);
  std::mutex m;
  std::condition_variable cv;
  int running = 0, max_running = 0;
  bool reached_three = false;
  FnExecutor ex;
  ex.fallback = [&](Attempt& a) {
    std::unique_lock lock(m);
    max_running = std::max(max_running, ++running);
    if (running == 3) reached_three = true;
    cv.notify_all();
    // Hold the slot until three checks overlap (an event, not a sleep).
    cv.wait_until(lock, a.deadline(), [&] { return reached_three; });
    --running;
    a.set_status(TRIAGE_STATUS_OK, "fine");
    return TRIAGE_RC_OK;
  };
  auto options = fast();
  options.jobs = 3;
  const auto out = run_checks(checks, ex, options);
  CHECK(reached_three);
  CHECK(max_running == 3);
  for (const auto& r : out.results) CHECK(r.status == Status::ok);
}

TEST_CASE("dependents of a failing check are skipped with the reason", "[runner][dag]") {
  const auto checks = checks_from(R"(checks:
  - {id: network, plugin: p, type: t}
  - {id: api, plugin: p, type: t, depends_on: [network]}
  - {id: app, plugin: p, type: t, depends_on: [api]}
  - {id: disk, plugin: p, type: t}
  - {id: backup, plugin: p, type: t, depends_on: [disk]}
)");
  FnExecutor ex;
  ex.behaviours["network"] = critical;
  const auto out = run_checks(checks, ex, fast());
  CHECK(by_id(out, checks, "network").status == Status::critical);
  const auto& api = by_id(out, checks, "api");
  CHECK(api.status == Status::skipped);
  CHECK(api.skipped_because == "dependency network is critical");
  CHECK(api.attempts == 0);
  CHECK(by_id(out, checks, "app").skipped_because == "dependency api is skipped");
  CHECK(by_id(out, checks, "backup").status == Status::ok);
}

TEST_CASE("a dependency on a fanned-out check waits for every target", "[runner][dag]") {
  const auto checks = checks_from(R"(checks:
  - {id: web, plugin: p, type: t, targets: [a, b, c]}
  - {id: after, plugin: p, type: t, depends_on: [web]}
)");
  FnExecutor ex;
  std::atomic<int> web_done{0};
  ex.behaviours["web"] = [&](Attempt& a) {
    ++web_done;
    a.set_status(TRIAGE_STATUS_OK, "up");
    return TRIAGE_RC_OK;
  };
  int seen_before_after = -1;
  ex.behaviours["after"] = [&](Attempt& a) {
    seen_before_after = web_done.load();
    a.set_status(TRIAGE_STATUS_OK, "ran");
    return TRIAGE_RC_OK;
  };
  SECTION("all ok: it runs after all three") {
    const auto out = run_checks(checks, ex, fast());
    CHECK(seen_before_after == 3);
    CHECK(by_id(out, checks, "after").status == Status::ok);
  }
  SECTION("one target critical: it is skipped naming that instance") {
    ex.behaviours["web"] = [&](Attempt& a) {
      a.set_status(a.label() == "web[b]" ? TRIAGE_STATUS_CRITICAL : TRIAGE_STATUS_OK, "");
      return TRIAGE_RC_OK;
    };
    const auto out = run_checks(checks, ex, fast());
    CHECK(by_id(out, checks, "after").skipped_because == "dependency web[b] is critical");
  }
}

TEST_CASE("failing checks are retried until they pass or retries run out", "[runner][retry]") {
  const auto checks = checks_from(R"(checks:
  - {id: flaky, plugin: p, type: t, retries: 3}
  - {id: broken, plugin: p, type: t, retries: 2}
  - {id: warn, plugin: p, type: t, retries: 2}
)");
  FnExecutor ex;
  std::atomic<int> flaky_calls{0}, broken_calls{0}, warn_calls{0};
  ex.behaviours["flaky"] = [&](Attempt& a) {
    a.set_status(++flaky_calls < 3 ? TRIAGE_STATUS_CRITICAL : TRIAGE_STATUS_OK, "");
    return TRIAGE_RC_OK;
  };
  ex.behaviours["broken"] = [&](Attempt& a) {
    ++broken_calls;
    a.set_error("cannot reach it");
    return TRIAGE_RC_ERROR;
  };
  ex.behaviours["warn"] = [&](Attempt& a) {
    ++warn_calls;
    a.set_status(TRIAGE_STATUS_WARNING, "slow");
    return TRIAGE_RC_OK;
  };
  const auto out = run_checks(checks, ex, fast());
  CHECK(by_id(out, checks, "flaky").status == Status::ok);
  CHECK(by_id(out, checks, "flaky").attempts == 3);
  CHECK(flaky_calls == 3);
  CHECK(by_id(out, checks, "broken").status == Status::unknown);
  CHECK(by_id(out, checks, "broken").attempts == 3);
  CHECK(by_id(out, checks, "broken").error == "cannot reach it");
  SECTION("a warning is an answer, not a transient failure: no retry") {
    CHECK(warn_calls == 1);
    CHECK(by_id(out, checks, "warn").attempts == 1);
  }
}

TEST_CASE("a check that ignores its deadline is reported unknown and abandoned",
          "[runner][timeout]") {
  const auto checks = checks_from(R"(checks:
  - {id: hung, plugin: p, type: t, timeout: 50ms}
  - {id: fine, plugin: p, type: t}
)");
  FnExecutor ex;
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto entered = std::make_shared<std::atomic<bool>>(false);
  ex.behaviours["hung"] = [release, entered](Attempt&) {
    entered->store(true);
    // Ignores cancellation until the test lets it go.
    while (!release->load()) std::this_thread::yield();
    return TRIAGE_RC_OK;
  };
  const auto out = run_checks(checks, ex, fast());
  // The abandoned worker read the executor before it entered the check:
  // make that visible before the executor goes out of scope (TSan).
  while (!entered->load()) std::this_thread::yield();
  release->store(true);
  const auto& hung = by_id(out, checks, "hung");
  CHECK(hung.status == Status::unknown);
  CHECK(hung.error == "timed out after 50ms");
  CHECK(out.abandoned == 1);
  CHECK(by_id(out, checks, "fine").status == Status::ok);
}

TEST_CASE("a check that honours cancellation keeps its own result", "[runner][timeout]") {
  const auto checks = checks_from("checks:\n  - {id: polite, plugin: p, type: t, timeout: 30ms}\n");
  FnExecutor ex;
  ex.behaviours["polite"] = [](Attempt& a) {
    while (!a.cancelled()) std::this_thread::yield();
    a.set_status(TRIAGE_STATUS_CRITICAL, "no answer before the deadline");
    return TRIAGE_RC_OK;
  };
  auto options = fast();
  options.grace = 10s;  // it returns on its own, long before
  const auto out = run_checks(checks, ex, options);
  CHECK(out.results[0].status == Status::critical);
  CHECK(out.results[0].summary == "no answer before the deadline");
  CHECK(out.abandoned == 0);
}

TEST_CASE("a cancelled run skips what has not started", "[runner][cancel]") {
  const auto checks =
      checks_from("checks:\n  - {id: a, plugin: p, type: t}\n  - {id: b, plugin: p, type: t}\n");
  FnExecutor ex;
  std::atomic<bool> cancel{true};
  auto options = fast();
  options.cancel = &cancel;
  const auto out = run_checks(checks, ex, options);
  for (const auto& r : out.results) {
    CHECK(r.status == Status::skipped);
    CHECK(r.skipped_because == "run cancelled");
  }
}

TEST_CASE("an executor that throws yields unknown, not a crash", "[runner]") {
  const auto checks = checks_from("checks:\n  - {id: a, plugin: p, type: t}\n");
  FnExecutor ex;
  ex.behaviours["a"] = [](Attempt&) -> triage_rc { throw std::runtime_error("kaput"); };
  const auto out = run_checks(checks, ex, fast());
  CHECK(out.results[0].status == Status::unknown);
  CHECK_THAT(out.results[0].error, Catch::Contains("kaput"));
}

TEST_CASE("the run deadline cancels what runs and skips what has not started",
          "[runner][deadline]") {
  const auto checks = checks_from(R"(checks:
  - {id: slow, plugin: p, type: t, timeout: 1h}
  - {id: later, plugin: p, type: t}
)");
  FnExecutor ex;
  ex.behaviours["slow"] = [](Attempt& a) {
    while (!a.cancelled()) std::this_thread::yield();
    a.set_status(TRIAGE_STATUS_CRITICAL, "stopped by the run deadline");
    return TRIAGE_RC_OK;
  };
  auto options = fast();
  options.jobs = 1;
  options.grace = 10s;
  options.deadline = std::chrono::steady_clock::now() + 30ms;
  const auto out = run_checks(checks, ex, options);
  CHECK(out.partial);
  CHECK(by_id(out, checks, "slow").summary == "stopped by the run deadline");
  CHECK(by_id(out, checks, "later").status == Status::skipped);
  CHECK(by_id(out, checks, "later").skipped_because == "run deadline");
}

TEST_CASE("a check's deadline starts when a job slot is free, not while it waits for one",
          "[runner][deadline]") {
  // With one job slot, `waits` cannot start before `long` ends. `long` ends
  // after `waits`'s whole timeout would have passed had that been counted
  // from the start of the run.
  const auto checks = checks_from(R"(checks:
  - {id: long, plugin: p, type: t, timeout: 300ms}
  - {id: waits, plugin: p, type: t, timeout: 100ms}
)");
  std::mutex m;
  std::chrono::steady_clock::time_point long_ended, waits_deadline;
  FnExecutor ex;
  ex.behaviours["long"] = [&](Attempt& a) {
    while (std::chrono::steady_clock::now() < a.deadline() - 50ms) std::this_thread::yield();
    std::lock_guard lock(m);
    long_ended = std::chrono::steady_clock::now();
    a.set_status(TRIAGE_STATUS_OK, "done in time");
    return TRIAGE_RC_OK;
  };
  ex.behaviours["waits"] = [&](Attempt& a) {
    std::lock_guard lock(m);
    waits_deadline = a.deadline();
    a.set_status(TRIAGE_STATUS_OK, "ran");
    return TRIAGE_RC_OK;
  };
  auto options = fast();
  options.jobs = 1;
  options.grace = 10ms;
  const auto out = run_checks(checks, ex, options);
  CHECK(by_id(out, checks, "long").status == Status::ok);
  REQUIRE(by_id(out, checks, "waits").status == Status::ok);
  CHECK(waits_deadline > long_ended);
}

TEST_CASE("many more checks than job slots all run, each once", "[runner]") {
  std::string yaml = "checks:\n  - id: many\n    plugin: p\n    type: t\n    targets: [";
  for (int i = 0; i < 5000; ++i) yaml += (i ? ",t" : "t") + std::to_string(i);
  yaml += "]\n";
  const auto checks = checks_from(yaml);
  std::atomic<int> runs{0};
  FnExecutor ex;
  ex.fallback = [&](Attempt& a) {
    ++runs;
    a.set_status(TRIAGE_STATUS_OK, "fine");
    return TRIAGE_RC_OK;
  };
  auto options = fast();
  options.jobs = 7;
  const auto out = run_checks(checks, ex, options);
  REQUIRE(out.results.size() == 5000);
  CHECK(runs.load() == 5000);
  for (const auto& r : out.results) {
    CHECK(r.status == Status::ok);
    CHECK(r.attempts == 1);
  }
  CHECK_FALSE(out.partial);
}

TEST_CASE("past the run's output budget, results keep their essentials, marked truncated",
          "[runner][limits]") {
  std::string yaml = "checks:\n";
  for (int i = 0; i < 20; ++i) yaml += "  - {id: c" + std::to_string(i) + ", plugin: p, type: t}\n";
  const auto checks = checks_from(yaml);
  FnExecutor ex;
  ex.fallback = [](Attempt& a) {
    for (int f = 0; f < 20; ++f)
      a.add_finding({Severity::critical, "finding " + std::to_string(f), std::string(4000, 'd'),
                     std::string(4000, 'r')});
    a.add_metric({"value", 95, "%", "80", "90"});
    a.set_status(TRIAGE_STATUS_OK, std::string(3000, 's'));
    return TRIAGE_RC_OK;
  };
  RunOptions options = fast();
  options.jobs = 1;
  options.run_output_bytes = 400'000;  // about two checks' worth (163 kB each)
  const auto out = run_checks(checks, ex, options);
  const auto& first = by_id(out, checks, "c0");
  CHECK_FALSE(first.truncated);
  CHECK(first.findings.size() == 20);
  const auto& last = by_id(out, checks, "c19");
  CHECK(last.truncated);
  CHECK(last.findings.size() == 8);
  CHECK(last.findings[0].detail.size() <= 256 + 12);
  CHECK(last.summary.rfind(std::string(1024, 's'), 0) == 0);
  // The essentials stay: the metric, judged by its thresholds, and the status.
  REQUIRE(last.metrics.size() == 1);
  CHECK(last.status == Status::critical);
  std::size_t total = 0;
  for (const auto& r : out.results) {
    total += r.summary.size();
    for (const auto& f : r.findings)
      total += f.title.size() + f.detail.size() + f.remediation.size();
  }
  CHECK(total < 400'000 + 20 * 8'000);
}
