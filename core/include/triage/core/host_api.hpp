// The core's implementation of the SDK's host function table: each function
// writes into the Attempt that the check context handle points to.
#pragma once

#include <triage/plugin.h>

#include "triage/core/result.hpp"

namespace triage::core {

// The table handed to every plugin; static storage, thread safe.
const triage_host_api* host_api();

inline triage_check_ctx to_handle(Attempt& attempt) {
  return reinterpret_cast<triage_check_ctx>(&attempt);
}

}  // namespace triage::core
