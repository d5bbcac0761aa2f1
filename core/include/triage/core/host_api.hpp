// The core's implementation of the SDK's host function table: each function
// writes into the Attempt that a live check context handle names.
#pragma once

#include <triage/plugin.h>

#include <cstdint>
#include <string>

#include "triage/core/result.hpp"

namespace triage::core {

// The table handed to every plugin; static storage, thread safe.
const triage_host_api* host_api();

// An open check context handle: an opaque value (a slot of the host's handle
// table and that slot's generation), never a pointer a plugin could outlive.
// Every host function resolves the handle first; once the CheckHandle is
// destroyed (run() returned), the handle is stale: calls with it are refused
// with TRIAGE_RC_INVALID_ARGUMENT, change nothing, and are counted and logged
// once per check. The destructor waits for a host call in flight on the
// handle to end, so nothing writes into the Attempt after it.
class CheckHandle {
 public:
  // `plugin` names the plugin in the stale-call log line ("" leaves it out).
  explicit CheckHandle(Attempt& attempt, const std::string& plugin = {});
  ~CheckHandle();
  CheckHandle(const CheckHandle&) = delete;
  CheckHandle& operator=(const CheckHandle&) = delete;

  triage_check_ctx get() const { return handle_; }
  operator triage_check_ctx() const { return handle_; }  // NOLINT: implicit on purpose

 private:
  triage_check_ctx handle_;
};

// A handle for attempt, open for the full expression it is made in:
//   type->run(host_api(), to_handle(attempt), ...);
// closes it when run() returns.
inline CheckHandle to_handle(Attempt& attempt, const std::string& plugin = {}) {
  return CheckHandle(attempt, plugin);
}

// Host calls refused so far in this process because their handle was stale
// (its run() had returned) or was never given out.
std::uint64_t stale_host_calls();

}  // namespace triage::core
