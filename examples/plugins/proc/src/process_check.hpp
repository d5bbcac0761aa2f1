// Check type "process": is a process of this name running, how many, and how
// close is each to its open-file limit (RLIMIT_NOFILE).
#pragma once

#include <triage/plugin.hpp>

namespace proc {

struct ProcessCheck {
  static constexpr const char* name = "process";
  static constexpr const char* description =
      "A process by name: running, its count, its open files against RLIMIT_NOFILE";
  static constexpr const char* params_schema = R"json({
  "type": "object",
  "required": ["target"],
  "additionalProperties": false,
  "properties": {
    "target": {"type": "string", "minLength": 1,
      "description": "Process name: its comm (/proc/PID/comm) or the basename of its argv[0]"},
    "min_count": {"type": "integer", "minimum": 0, "default": 1,
      "description": "Fewer matching processes than this is critical (default threshold of process_count)"},
    "max_count": {"type": "integer", "minimum": 1,
      "description": "More matching processes than this is critical (e.g. 1 for a singleton daemon)"}
  }
})json";

  void run(triage::Context& ctx);
};

}  // namespace proc
