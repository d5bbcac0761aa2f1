// The triage-proc plugin: its entry point and check types.
#include <triage/plugin.hpp>

#include "process_check.hpp"

TRIAGE_PLUGIN("proc", "1.0.0", "Processes from Linux /proc: running, count, open-file usage",
              proc::ProcessCheck)
