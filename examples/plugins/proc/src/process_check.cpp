#include "process_check.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "procfs.hpp"

namespace proc {

namespace {

// The process closest to its open-file limit.
struct Worst {
  pid_t pid = 0;
  std::uint64_t open = 0;
  std::uint64_t limit = 0;
  double percent = -1;
};

std::string count_range(std::int64_t min, std::optional<std::int64_t> max) {
  // Monitoring Plugins range: alert outside [min, max]; "N:" has no upper end.
  return std::to_string(min) + ":" + (max ? std::to_string(*max) : "");
}

}  // namespace

void ProcessCheck::run(triage::Context& ctx) {
  const std::string target = ctx.target();
  const auto min_count = ctx.param<std::int64_t>("min_count", 1);
  if (min_count < 0) throw triage::ParamError("min_count must be 0 or more");
  std::optional<std::int64_t> max_count;
  if (ctx.has("max_count")) {
    max_count = ctx.required<std::int64_t>("max_count");
    if (*max_count < 1 || *max_count < min_count)
      throw triage::ParamError("max_count must be at least 1 and at least min_count");
  }

  const auto processes = find_processes(target);
  const auto count = static_cast<std::int64_t>(processes.size());
  const std::string range = count_range(min_count, max_count);
  // The count's default critical range comes from the params; a config's
  // `thresholds: { process_count: ... }` still replaces it.
  ctx.metric("process_count", static_cast<double>(count), "", {{}, range});

  Worst worst;
  std::uint64_t unreadable = 0;
  std::string why;
  for (const auto& p : processes) {
    if (ctx.cancelled()) return ctx.error("cancelled while reading /proc");
    const auto open = open_fds(p.pid, why);
    if (!open) {
      ++unreadable;
      continue;
    }
    const auto limit = open_file_limit(p.pid);
    if (!limit || *limit == 0) continue;
    const double percent = 100.0 * static_cast<double>(*open) / static_cast<double>(*limit);
    if (percent > worst.percent) worst = {p.pid, *open, *limit, percent};
  }

  if (!processes.empty()) {
    std::string pids;
    for (const auto& p : processes) pids += (pids.empty() ? "" : ",") + std::to_string(p.pid);
    ctx.attribute("pids", pids);
  }
  if (worst.percent >= 0) {
    // Status from the core's thresholds on this metric (80/90 unless the config says otherwise).
    ctx.metric(metrics[1], worst.percent);  // "%", with its declared 80/90
    ctx.metric("open_fds", static_cast<double>(worst.open));
    ctx.metric("fd_limit", static_cast<double>(worst.limit));
    ctx.attribute("fd_worst_pid", std::to_string(worst.pid));
    if (worst.percent >= 80)
      ctx.finding(triage::Severity::info,
                  "pid " + std::to_string(worst.pid) + " uses " +
                      std::to_string(static_cast<int>(worst.percent)) + "% of its open-file limit",
                  std::to_string(worst.open) + " descriptors open of a soft limit of " +
                      std::to_string(worst.limit) +
                      "; at the limit, accept() and open() fail with EMFILE (\"Too many open "
                      "files\") and the service drops connections.",
                  "Look for a descriptor leak first: ls -l /proc/" + std::to_string(worst.pid) +
                      "/fd | awk '{print $NF}' | sort | uniq -c | sort -rn | head. If the load "
                      "is legitimate, raise the limit (LimitNOFILE= in the systemd unit, or "
                      "ulimit -n before starting it) and restart the service.");
  }
  if (unreadable > 0)
    ctx.finding(triage::Severity::info,
                "Open files of " + std::to_string(unreadable) + " process(es) not readable",
                "/proc/PID/fd: " + why + "; fd_usage_pct covers the readable ones only.",
                "Run triage as the user owning the process, or as root, to check its open files.");

  if (count < min_count) {
    ctx.finding(triage::Severity::critical,
                count == 0 ? "No process named '" + target + "' is running"
                           : "Only " + std::to_string(count) + " of " + std::to_string(min_count) +
                                 " '" + target + "' processes running",
                "The service exited, crashed, or was never started; anything depending on it "
                "is failing.",
                "Check why it stopped (systemctl status " + target + "; journalctl -u " + target +
                    " -n 50, or its own log), fix the cause, then start it (systemctl start " +
                    target + ").");
  } else if (max_count && count > *max_count) {
    ctx.finding(triage::Severity::critical,
                std::to_string(count) + " '" + target + "' processes running, at most " +
                    std::to_string(*max_count) + " expected",
                "Duplicate instances (a restart that did not stop the old one, or a second "
                "start by hand) compete for the same port, lock or data.",
                "List them (ps -o pid,ppid,lstart,cmd -p " + std::string("$(pgrep -d, -x ") +
                    target + ")), stop the stray ones, and fix what started them.");
  }
  ctx.status(
      triage::Status::ok,
      std::to_string(count) + " '" + target + "' process" + (count == 1 ? "" : "es") + " running" +
          (worst.percent >= 0
               ? ", worst open-file usage " + std::to_string(static_cast<int>(worst.percent)) + "%"
               : ""));
}

}  // namespace proc
