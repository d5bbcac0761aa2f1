// Check context handles are values the host validates: once run() returned
// (the CheckHandle closed), every host call with the handle is refused with
// TRIAGE_RC_INVALID_ARGUMENT and changes nothing, and is counted.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "triage/core/host_api.hpp"

using namespace triage::core;

namespace {

triage_metric metric(const char* name, double value) {
  triage_metric m{};
  m.struct_size = sizeof m;
  m.name = name;
  m.name_len = std::char_traits<char>::length(name);
  m.value = value;
  return m;
}

}  // namespace

TEST_CASE("a handle is live until its CheckHandle closes, then refused", "[host_api]") {
  const triage_host_api* host = host_api();
  Attempt attempt("live", std::chrono::steady_clock::now() + std::chrono::hours(1));
  triage_check_ctx stale = nullptr;
  {
    const CheckHandle handle(attempt, "p");
    stale = handle.get();
    REQUIRE(stale != nullptr);
    CHECK(host->set_status(stale, TRIAGE_STATUS_OK, "fine", 4) == TRIAGE_RC_OK);
    const triage_metric m = metric("m", 1);
    CHECK(host->emit_metric(stale, &m) == TRIAGE_RC_OK);
    CHECK(host->is_cancelled(stale) == 0);
  }
  const auto before = stale_host_calls();
  CHECK(host->set_status(stale, TRIAGE_STATUS_CRITICAL, "late", 4) == TRIAGE_RC_INVALID_ARGUMENT);
  const triage_metric late = metric("late", 2);
  CHECK(host->emit_metric(stale, &late) == TRIAGE_RC_INVALID_ARGUMENT);
  triage_finding f{};
  f.struct_size = sizeof f;
  f.title = "late";
  f.title_len = 4;
  CHECK(host->add_finding(stale, &f) == TRIAGE_RC_INVALID_ARGUMENT);
  CHECK(host->set_attribute(stale, "k", 1, "v", 1) == TRIAGE_RC_INVALID_ARGUMENT);
  CHECK(host->set_error(stale, "late", 4) == TRIAGE_RC_INVALID_ARGUMENT);
  CHECK(host->log(stale, TRIAGE_LOG_INFO, "late", 4) == TRIAGE_RC_INVALID_ARGUMENT);
  std::int64_t ns = 0;
  CHECK(host->get_deadline(stale, &ns) == TRIAGE_RC_INVALID_ARGUMENT);
  CHECK(host->is_cancelled(stale) == 1);  // a stale handle: stop
  CHECK(stale_host_calls() == before + 8);

  const Outcome outcome = attempt.take();
  REQUIRE(outcome.status);
  CHECK(*outcome.status == TRIAGE_STATUS_OK);
  CHECK(outcome.summary == "fine");
  REQUIRE(outcome.metrics.size() == 1);
  CHECK(outcome.metrics[0].name == "m");
  CHECK(outcome.findings.empty());
  CHECK(outcome.attributes.empty());
  CHECK(outcome.error.empty());
}

TEST_CASE("an old handle never reaches the attempt of a later run", "[host_api]") {
  const triage_host_api* host = host_api();
  Attempt first("first", std::chrono::steady_clock::now() + std::chrono::hours(1));
  triage_check_ctx old = nullptr;
  { old = CheckHandle(first).get(); }
  // Many runs later, whatever slot they use, the old handle stays refused.
  for (int i = 0; i < 200; ++i) {
    Attempt later("later", std::chrono::steady_clock::now() + std::chrono::hours(1));
    const CheckHandle handle(later);
    CHECK(handle.get() != old);
    CHECK(host->set_status(old, TRIAGE_STATUS_CRITICAL, "old", 3) == TRIAGE_RC_INVALID_ARGUMENT);
    CHECK(host->set_status(handle, TRIAGE_STATUS_OK, "new", 3) == TRIAGE_RC_OK);
    const Outcome outcome = later.take();
    REQUIRE(outcome.status);
    CHECK(*outcome.status == TRIAGE_STATUS_OK);
    CHECK(outcome.summary == "new");
  }
  CHECK_FALSE(first.take().status);
}

TEST_CASE("a handle the host never gave out is refused", "[host_api]") {
  const triage_host_api* host = host_api();
  for (const std::uintptr_t forged : {std::uintptr_t{1}, std::uintptr_t{0xFFFFFF},
                                      ~std::uintptr_t{0}, std::uintptr_t{0x12345678} << 20}) {
    const auto ctx = reinterpret_cast<triage_check_ctx>(forged);
    CHECK(host->set_status(ctx, TRIAGE_STATUS_OK, "x", 1) == TRIAGE_RC_INVALID_ARGUMENT);
    CHECK(host->set_error(ctx, "x", 1) == TRIAGE_RC_INVALID_ARGUMENT);
  }
  CHECK(host->log(nullptr, TRIAGE_LOG_DEBUG, "init", 4) == TRIAGE_RC_OK);
}
