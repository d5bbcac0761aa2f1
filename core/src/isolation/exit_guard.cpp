#include "triage/core/exit_guard.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace triage::core::exit_guard {

namespace {

// The handlers of atexit() take no argument, so what they need lives here,
// written before they can run and read only by them.
constexpr int kDisarmed = -2;
constexpr int kArmed = -1;
std::atomic<int> g_state{kDisarmed};  // kDisarmed, kArmed, or the settled code
char g_reason[256];
std::atomic<std::size_t> g_reason_len{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_exit() {
  const int state = g_state.load();
  if (state == kDisarmed) return;
  std::fflush(nullptr);
  if (state == kArmed) {
    static constexpr char kPrefix[] = "triage: ";
    [[maybe_unused]] auto r1 = ::write(STDERR_FILENO, kPrefix, sizeof kPrefix - 1);
    [[maybe_unused]] auto r2 = ::write(STDERR_FILENO, g_reason, g_reason_len.load());
    _exit(kExitUnsettled);
  }
  _exit(state);
}

void register_once() {
  static const bool registered = [] {
    std::atexit(on_exit);
    std::at_quick_exit(on_exit);
    return true;
  }();
  (void)registered;
}

}  // namespace

void arm(std::string_view reason) {
  register_once();
  // The reason is one line, ended by a newline that always fits.
  const std::size_t n = std::min(reason.size(), sizeof g_reason - 1);
  g_reason_len.store(0);
  std::memcpy(g_reason, reason.data(), n);
  g_reason[n] = '\n';
  g_reason_len.store(n + 1);
  g_state.store(kArmed);
}

void settle(int code) {
  if (g_state.load() != kDisarmed) g_state.store(code);
}

void disarm() {
  g_state.store(kDisarmed);
}

}  // namespace triage::core::exit_guard
