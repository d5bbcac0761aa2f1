// The node check: whether the machine Triage runs on has room to work. CPU
// sampled over a window, load, memory and swap, pressure stall information,
// OOM kills, file handles, and the same for a cgroup v2 folder; the top
// processes named when CPU or memory crosses its threshold.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "checks.hpp"
#include "proc_readers.hpp"

namespace triage::cluster {

const char* const NodeCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "node check params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "description": "A label only (e.g. \"localhost\"): the check always judges the machine it runs on."
    },
    "sample": {
      "type": ["string", "number"],
      "default": "1s",
      "description": "Window over which CPU use, CPU throttling and the busiest processes are measured: a duration (\"1s\", \"500ms\"; a number is seconds), from 100ms to 60s. Shortened to fit the check's timeout."
    },
    "cgroup": {
      "type": "string",
      "minLength": 2,
      "maxLength": 4096,
      "description": "A cgroup v2 folder (e.g. /sys/fs/cgroup/system.slice/kafka.service) to judge as well: its memory use against memory.max, its OOM kills (memory.events) and CPU throttling (cpu.stat)."
    }
  },
  "additionalProperties": false
})json";

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kCpu =
    "Resource pressure (runbook: > 85 % utilization): find what uses the CPU (top, pidstat 1; "
    "the busiest processes are in the findings); if the load is legitimate the node is "
    "undersized: scale up or spread the work.";
constexpr const char* kMemory =
    "Memory pressure (runbook: > 85 % utilization, Memory errors: OOM): find the largest "
    "processes (the findings; ps aux --sort=-rss | head), look for leaks, lower caches or heap "
    "sizes, or add memory.";
constexpr const char* kPsi =
    "Tasks stall waiting for this resource (pressure stall information): the machine is "
    "overcommitted even if averages look fine; see which processes wait (top, iotop, vmstat 1).";

constexpr MetricDecl kMetrics[] = {
    metric("cpu_used_pct", "%", "CPU time not idle over the sample window, all CPUs")
        .warning("85")
        .critical("95")
        .remediation(kCpu),
    metric("load_per_cpu", "", "The 1-minute load average divided by the online CPUs")
        .remediation("More runnable (or uninterruptible) tasks than CPUs: see cpu_used_pct and "
                     "io_some_avg10_pct to tell CPU from I/O waits."),
    metric("memory_used_pct", "%",
           "Memory not available to new work: 100 x (1 - MemAvailable / MemTotal)")
        .warning("85")
        .critical("95")
        .remediation(kMemory),
    metric("swap_used_pct", "%", "Swap in use (0 without swap)")
        .warning("85")
        .critical("95")
        .remediation("Swap nearly full: memory is overcommitted; the OOM killer is next. See "
                     "memory_used_pct and the largest processes."),
    metric("cpu_some_avg10_pct", "%", "Share of the last 10 s some task waited for a CPU (PSI)")
        .remediation(kPsi),
    metric("memory_some_avg10_pct", "%", "Share of the last 10 s some task waited for memory (PSI)")
        .remediation(kPsi),
    metric("memory_full_avg10_pct", "%",
           "Share of the last 10 s all non-idle tasks waited for memory (PSI)")
        .warning("10")
        .remediation(kPsi),
    metric("io_some_avg10_pct", "%", "Share of the last 10 s some task waited for I/O (PSI)")
        .remediation(kPsi),
    metric("io_full_avg10_pct", "%",
           "Share of the last 10 s all non-idle tasks waited for I/O (PSI)")
        .warning("10")
        .remediation(kPsi),
    metric("oom_kills", "",
           "Processes the kernel's OOM killer ended: since the previous node check in this "
           "plugin host, else since boot (attribute oom_kills_since)")
        .remediation("Memory errors (runbook: OOM exceptions): dmesg -T | grep -i 'killed process' "
                     "names the victims; raise their memory or limits, or fix the leak."),
    metric("fd_used_pct", "%", "Open file handles of the whole system against fs.file-max")
        .warning("85")
        .critical("95")
        .remediation("The system runs out of file handles: find the holders (lsof | awk '{print "
                     "$1}' | sort | uniq -c | sort -n) or raise fs.file-max."),
    metric("cgroup_memory_used_pct", "%",
           "The cgroup's memory.current against its memory.max (only with a limit)")
        .warning("85")
        .critical("95")
        .remediation("The service is near its memory limit: it will be reclaimed hard, then "
                     "OOM-killed. Raise MemoryMax or find what grows."),
    metric("cgroup_oom_kills", "",
           "OOM kills inside the cgroup since it was created (memory.events)")
        .warning("0")
        .remediation("The service was OOM-killed at its own limit: raise its MemoryMax or fix "
                     "its memory use."),
    metric("cgroup_cpu_throttled_pct", "%",
           "Share of the cgroup's CPU periods in the sample that were throttled (cpu.stat)")
        .warning("25")
        .remediation("The service hits its CPU quota (CPUQuota): raise it or scale out; "
                     "throttling shows as latency."),
};

// OOM kills seen by the previous node check in this host (the plugin host
// lives for a run, or for many in a long-lived host).
struct OomMemory {
  std::mutex mutex;
  std::optional<std::int64_t> last;
};
OomMemory& oom_memory() {
  static OomMemory m;
  return m;
}

std::chrono::milliseconds read_sample(const Context& ctx) {
  if (!ctx.has("sample")) return std::chrono::seconds(1);
  const auto& v = ctx.params().at("sample");
  double seconds = -1;
  if (v.is_number()) {
    seconds = v.get<double>();
  } else if (v.is_string()) {
    const std::string t = v.get<std::string>();
    char* end = nullptr;
    const double n = std::strtod(t.c_str(), &end);
    const std::string unit = end == nullptr ? "" : std::string(end);
    if (end != t.c_str())
      seconds = unit == "ms" ? n / 1000 : (unit == "s" || unit.empty()) ? n : -1;
  }
  if (seconds < 0.1 || seconds > 60)
    throw ParamError("param 'sample' must be a duration from 100ms to 60s (\"1s\", \"500ms\")");
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

std::string one_decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// "java (pid 812) 41.0 %, ..." for the busiest processes.
std::string top_processes(const std::vector<ProcessSample>& before,
                          const std::vector<ProcessSample>& after, double seconds, bool by_cpu,
                          std::uint64_t mem_total_kb) {
  std::map<int, std::uint64_t> ticks_before;
  for (const auto& p : before) ticks_before[p.pid] = p.cpu_ticks;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page_kb = static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1024.0;
  std::vector<std::pair<double, const ProcessSample*>> ranked;
  for (const auto& p : after) {
    double v = 0;
    if (by_cpu) {
      const auto it = ticks_before.find(p.pid);
      if (it == ticks_before.end() || p.cpu_ticks < it->second || seconds <= 0) continue;
      v = 100.0 * static_cast<double>(p.cpu_ticks - it->second) / hz / seconds;
    } else {
      v = mem_total_kb > 0 ? 100.0 * static_cast<double>(p.rss_pages) * page_kb /
                                 static_cast<double>(mem_total_kb)
                           : 0;
    }
    ranked.emplace_back(v, &p);
  }
  const std::size_t n = std::min<std::size_t>(5, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<long>(n), ranked.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += (i ? ", " : "") + ranked[i].second->name + " (pid " +
           std::to_string(ranked[i].second->pid) + ") " + one_decimal(ranked[i].first) +
           (by_cpu ? " % CPU" : " % of memory");
  return out;
}

}  // namespace

const Metrics NodeCheck::metrics{kMetrics};

void NodeCheck::run(Context& ctx) {
  auto window = read_sample(ctx);
  const std::string cgroup = ctx.param<std::string>("cgroup", "");
  if (!cgroup.empty() && cgroup.front() != '/')
    throw ParamError("param 'cgroup' must be an absolute path");
  // The window must leave time to read and report.
  const auto room = ctx.remaining() - std::min<std::chrono::milliseconds>(
                                          ctx.remaining() / 5, std::chrono::milliseconds(1000));
  if (room < window) window = std::max(std::chrono::milliseconds(0), room);

  std::optional<CgroupStats> cg_before;
  if (!cgroup.empty()) {
    cg_before = read_cgroup(cgroup);
    if (!cg_before)
      throw ParamError("param 'cgroup': " + cgroup +
                       " is not a cgroup v2 folder (no cgroup.controllers)");
  }
  const auto cpu_before = read_cpu_times("/proc/stat");
  const auto procs_before = read_processes("/proc", 100000);
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < window) {
    if (ctx.cancelled()) return ctx.error("cancelled during the sample window");
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(50), window - (Clock::now() - t0)));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto cpu_after = read_cpu_times("/proc/stat");
  const auto procs_after = read_processes("/proc", 100000);

  std::vector<std::string> notes;
  double cpu = -1, mem = -1;
  if (cpu_before && cpu_after) {
    cpu = cpu_used_pct(*cpu_before, *cpu_after);
    ctx.metric(kMetrics[0], cpu);
    notes.push_back("CPU " + one_decimal(cpu) + " %");
  }
  const long cpus = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  if (const auto load = read_load1("/proc/loadavg"))
    ctx.metric(kMetrics[1], *load / static_cast<double>(cpus));
  const auto mi = read_meminfo("/proc/meminfo");
  if (mi) {
    mem = 100.0 * (1.0 - static_cast<double>(mi->available_kb) / static_cast<double>(mi->total_kb));
    ctx.metric(kMetrics[2], mem);
    ctx.metric(kMetrics[3], mi->swap_total_kb == 0
                                ? 0.0
                                : 100.0 *
                                      static_cast<double>(mi->swap_total_kb - mi->swap_free_kb) /
                                      static_cast<double>(mi->swap_total_kb));
    notes.push_back("memory " + one_decimal(mem) + " %");
  }
  if (const auto p = read_pressure("/proc/pressure/cpu")) ctx.metric(kMetrics[4], p->some_avg10);
  if (const auto p = read_pressure("/proc/pressure/memory")) {
    ctx.metric(kMetrics[5], p->some_avg10);
    if (p->full_avg10) ctx.metric(kMetrics[6], *p->full_avg10);
  }
  if (const auto p = read_pressure("/proc/pressure/io")) {
    ctx.metric(kMetrics[7], p->some_avg10);
    if (p->full_avg10) ctx.metric(kMetrics[8], *p->full_avg10);
  }
  if (!std::ifstream("/proc/pressure/cpu"))
    ctx.attribute("psi", "not available (kernel without CONFIG_PSI or psi=0)");
  if (const auto kills = read_keyed_value("/proc/vmstat", "oom_kill")) {
    std::int64_t since = *kills;
    bool since_boot = true;
    {
      auto& memory = oom_memory();
      std::lock_guard lock(memory.mutex);
      if (memory.last && *memory.last <= *kills) {
        since = *kills - *memory.last;
        since_boot = false;
      }
      memory.last = *kills;
    }
    // Since boot, an old kill is history, not news: no default threshold then.
    ctx.metric("oom_kills", static_cast<double>(since), "", {since_boot ? "" : "0", ""});
    ctx.attribute("oom_kills_since", since_boot ? "boot" : "the previous node check");
    if (since > 0)
      ctx.finding(since_boot ? Severity::info : Severity::warning,
                  std::to_string(since) + " process(es) OOM-killed since " +
                      (since_boot ? "boot" : "the previous check"),
                  "/proc/vmstat oom_kill", kMetrics[9].c_decl().remediation);
    if (since > 0) notes.push_back(std::to_string(since) + " OOM kill(s)");
  }
  if (const auto f = read_file_nr("/proc/sys/fs/file-nr"))
    ctx.metric(kMetrics[10],
               100.0 * static_cast<double>(f->allocated) / static_cast<double>(f->max));

  if (!cgroup.empty()) {
    const auto cg = read_cgroup(cgroup);
    if (cg && cg->memory_current && cg->memory_max && *cg->memory_max > 0)
      ctx.metric(kMetrics[11], 100.0 * static_cast<double>(*cg->memory_current) /
                                   static_cast<double>(*cg->memory_max));
    else if (cg && cg->memory_current)
      ctx.attribute("cgroup_memory_max", "max (no limit)");
    if (cg && cg->oom_kills) ctx.metric(kMetrics[12], static_cast<double>(*cg->oom_kills));
    if (cg && cg_before && cg->nr_periods && cg_before->nr_periods && cg->nr_throttled &&
        cg_before->nr_throttled) {
      const auto periods = *cg->nr_periods - std::min(*cg->nr_periods, *cg_before->nr_periods);
      const auto throttled =
          *cg->nr_throttled - std::min(*cg->nr_throttled, *cg_before->nr_throttled);
      ctx.metric(kMetrics[13], periods == 0 ? 0.0
                                            : 100.0 * static_cast<double>(throttled) /
                                                  static_cast<double>(periods));
    }
    ctx.attribute("cgroup", cgroup);
  }

  // Evidence for the declared thresholds: who uses the CPU or the memory.
  if (cpu >= 85)
    ctx.finding(Severity::info, "Busiest processes over " + one_decimal(seconds) + " s",
                top_processes(procs_before, procs_after, seconds, true, 0), kCpu);
  if (mem >= 85 && mi)
    ctx.finding(Severity::info, "Largest processes by memory",
                top_processes(procs_before, procs_after, seconds, false, mi->total_kb), kMemory);
  std::string summary;
  for (const auto& n : notes) summary += (summary.empty() ? "" : ", ") + n;
  ctx.attribute("cpus", std::to_string(cpus));
  ctx.status(Status::ok, summary.empty() ? "no /proc figures readable"
                                         : summary + " over " + one_decimal(seconds) + " s");
}

}  // namespace triage::cluster
