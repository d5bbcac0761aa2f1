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

  // What it can emit (plugin ABI 1.1): `triage plugin info` lists these, a
  // config's thresholds must name one of them, and the remediation is shown
  // when a threshold on the metric is crossed.
  static constexpr triage::MetricDecl metrics[] = {
      // Its critical range comes with the metric, from min_count and max_count;
      // no remediation: the finding that comes with a wrong count names the
      // service in its own.
      triage::metric("process_count", "",
                     "Matching processes; critical outside min_count..max_count"),
      triage::metric("fd_usage_pct", "%",
                     "Open files of the fullest matching process, against its RLIMIT_NOFILE")
          .warning("80")
          .critical("90")
          .remediation("Look for a descriptor leak first (ls -l /proc/PID/fd | awk '{print "
                       "$NF}' | sort | uniq -c | sort -rn | head); if the load is legitimate, "
                       "raise LimitNOFILE= in the systemd unit and restart the service."),
      triage::metric("open_fds", "", "Open file descriptors of that process"),
      triage::metric("fd_limit", "", "Its soft RLIMIT_NOFILE"),
  };

  void run(triage::Context& ctx);
};

}  // namespace proc
