// Guards the process against plugin code that calls exit() or quick_exit():
// such an exit must never end a run with status 0 and no report.
#pragma once

#include <string_view>

namespace triage::core::exit_guard {

// The status an exit gets while the guard is armed and nothing was settled.
inline constexpr int kExitUnsettled = 70;

// From now on, exit() or quick_exit() called from any thread flushes stdio,
// writes "triage: <reason>" to stderr and ends the process with status 70,
// whatever status it was given. `reason` is copied (at most 255 bytes).
// The handlers are registered on the first call; arming again replaces the
// reason.
void arm(std::string_view reason);

// The outcome is known: an exit from now on ends with `code` (after
// flushing stdio), whatever status exit() was given, so a plugin thread that
// calls exit(0) after the report was written cannot turn a failure into 0.
void settle(int code);

// Back to the C library's own exit: for a process whose plugins are gone.
void disarm();

}  // namespace triage::core::exit_guard
