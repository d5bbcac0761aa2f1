// Readers of the kernel's text files the node check judges: /proc/stat,
// /proc/meminfo, /proc/loadavg, /proc/vmstat, /proc/sys/fs/file-nr,
// /proc/pressure/*, a cgroup v2 folder's memory.* and cpu.stat, and each
// process's stat. Each takes the file or root it reads, so tests can give
// fixture trees for what this machine cannot produce. A missing or
// malformed file gives nullopt, never an exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace triage::cluster {

struct CpuTimes {
  std::uint64_t total = 0;  // all jiffies of the "cpu" line
  std::uint64_t idle = 0;   // idle + iowait
};
std::optional<CpuTimes> read_cpu_times(const std::string& proc_stat);

// Percent of the time between a and b that was not idle (0..100).
double cpu_used_pct(const CpuTimes& a, const CpuTimes& b);

struct MemInfo {
  std::uint64_t total_kb = 0, available_kb = 0, swap_total_kb = 0, swap_free_kb = 0;
};
// Needs MemTotal and MemAvailable (Linux 3.14+).
std::optional<MemInfo> read_meminfo(const std::string& proc_meminfo);

// The 1-minute load average.
std::optional<double> read_load1(const std::string& proc_loadavg);

// A "key value" line's value from /proc/vmstat-like files (oom_kill).
std::optional<std::int64_t> read_keyed_value(const std::string& file, const std::string& key);

struct FileNr {
  std::uint64_t allocated = 0, max = 0;
};
std::optional<FileNr> read_file_nr(const std::string& proc_file_nr);

// A pressure file (/proc/pressure/io, a cgroup's memory.pressure): the
// avg10 of its "some" line and, where there is one, of its "full" line.
struct Pressure {
  double some_avg10 = 0;
  std::optional<double> full_avg10;
};
std::optional<Pressure> read_pressure(const std::string& file);

// A cgroup v2 folder's memory and CPU accounting.
struct CgroupStats {
  std::optional<std::uint64_t> memory_current;
  std::optional<std::uint64_t> memory_max;  // nullopt: "max" (no limit) or absent
  std::optional<std::int64_t> oom_kills;    // memory.events oom_kill
  std::optional<std::uint64_t> nr_periods, nr_throttled, throttled_usec;  // cpu.stat
};
// nullopt when dir is not a cgroup v2 folder (no cgroup.controllers).
std::optional<CgroupStats> read_cgroup(const std::string& dir);

// One process: what /proc/PID/stat says of it.
struct ProcessSample {
  int pid = 0;
  std::string name;             // comm, as the kernel keeps it (15 bytes)
  std::uint64_t cpu_ticks = 0;  // utime + stime
  std::uint64_t rss_pages = 0;
};
// Every process under a /proc root (at most max_processes).
std::vector<ProcessSample> read_processes(const std::string& proc, std::size_t max_processes);

}  // namespace triage::cluster
