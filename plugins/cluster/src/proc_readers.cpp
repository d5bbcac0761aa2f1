#include "proc_readers.hpp"

#include <dirent.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace triage::cluster {

namespace {

// Kernel files are small; a file larger than this is not one of them.
constexpr std::size_t kMaxFile = 1 << 20;

std::optional<std::string> slurp(const std::string& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::string text(kMaxFile, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

std::optional<std::uint64_t> meminfo_kb(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream value(line.substr(key.size() + 1));
    std::uint64_t v = 0;
    if (value >> v) return v;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<CpuTimes> read_cpu_times(const std::string& proc_stat) {
  const auto text = slurp(proc_stat);
  if (!text || text->rfind("cpu ", 0) != 0) return std::nullopt;
  std::istringstream line(text->substr(4, text->find('\n') - 4));
  CpuTimes t;
  std::uint64_t v = 0;
  int field = 0;
  // user nice system idle iowait irq softirq steal (guest time is in user)
  while (field < 8 && line >> v) {
    t.total += v;
    if (field == 3 || field == 4) t.idle += v;
    ++field;
  }
  if (field < 4) return std::nullopt;
  return t;
}

double cpu_used_pct(const CpuTimes& a, const CpuTimes& b) {
  if (b.total <= a.total) return 0;
  const double total = static_cast<double>(b.total - a.total);
  const double idle = b.idle >= a.idle ? static_cast<double>(b.idle - a.idle) : 0;
  return std::clamp(100.0 * (1.0 - idle / total), 0.0, 100.0);
}

std::optional<MemInfo> read_meminfo(const std::string& proc_meminfo) {
  const auto text = slurp(proc_meminfo);
  if (!text) return std::nullopt;
  const auto total = meminfo_kb(*text, "MemTotal");
  const auto available = meminfo_kb(*text, "MemAvailable");
  if (!total || !available || *total == 0) return std::nullopt;
  MemInfo m;
  m.total_kb = *total;
  m.available_kb = std::min(*available, *total);
  m.swap_total_kb = meminfo_kb(*text, "SwapTotal").value_or(0);
  m.swap_free_kb = std::min(meminfo_kb(*text, "SwapFree").value_or(0), m.swap_total_kb);
  return m;
}

std::optional<double> read_load1(const std::string& proc_loadavg) {
  const auto text = slurp(proc_loadavg);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  double v = 0;
  if (!(in >> v) || v < 0) return std::nullopt;
  return v;
}

std::optional<std::int64_t> read_keyed_value(const std::string& file, const std::string& key) {
  const auto text = slurp(file);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string k;
  std::int64_t v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return std::nullopt;
}

std::optional<FileNr> read_file_nr(const std::string& proc_file_nr) {
  const auto text = slurp(proc_file_nr);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  FileNr f;
  std::uint64_t unused = 0;
  if (!(in >> f.allocated >> unused >> f.max) || f.max == 0) return std::nullopt;
  return f;
}

std::optional<Pressure> read_pressure(const std::string& file) {
  const auto text = slurp(file);
  if (!text) return std::nullopt;
  std::optional<Pressure> out;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto at = line.find("avg10=");
    if (at == std::string::npos) continue;
    double v = 0;
    std::istringstream num(line.substr(at + 6));
    if (!(num >> v)) continue;
    if (line.rfind("some ", 0) == 0) {
      if (!out) out.emplace();
      out->some_avg10 = v;
    } else if (line.rfind("full ", 0) == 0) {
      if (!out) out.emplace();
      out->full_avg10 = v;
    }
  }
  return out;
}

std::optional<CgroupStats> read_cgroup(const std::string& dir) {
  if (!slurp(dir + "/cgroup.controllers")) return std::nullopt;
  CgroupStats s;
  auto number = [](const std::optional<std::string>& text) -> std::optional<std::uint64_t> {
    if (!text) return std::nullopt;
    std::istringstream in(*text);
    std::uint64_t v = 0;
    if (!(in >> v)) return std::nullopt;  // "max" or garbage
    return v;
  };
  s.memory_current = number(slurp(dir + "/memory.current"));
  s.memory_max = number(slurp(dir + "/memory.max"));
  s.oom_kills = read_keyed_value(dir + "/memory.events", "oom_kill");
  auto stat = [&](const char* key) -> std::optional<std::uint64_t> {
    const auto v = read_keyed_value(dir + "/cpu.stat", key);
    if (!v || *v < 0) return std::nullopt;
    return static_cast<std::uint64_t>(*v);
  };
  s.nr_periods = stat("nr_periods");
  s.nr_throttled = stat("nr_throttled");
  s.throttled_usec = stat("throttled_usec");
  return s;
}

std::vector<ProcessSample> read_processes(const std::string& proc, std::size_t max_processes) {
  std::vector<ProcessSample> out;
  DIR* d = ::opendir(proc.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    if (out.size() >= max_processes) break;
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
    const auto text = slurp(proc + "/" + e->d_name + "/stat");
    if (!text) continue;  // gone meanwhile
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses,
    // so the fields start after the last ')'.
    const auto open = text->find('(');
    const auto close = text->rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    ProcessSample p;
    p.pid = std::atoi(e->d_name);
    p.name = text->substr(open + 1, close - open - 1);
    std::istringstream rest(text->substr(close + 2));
    std::string field;
    std::uint64_t utime = 0, stime = 0, rss = 0;
    // Fields 3.. after comm: state(3) ... utime(14) stime(15) ... rss(24).
    for (int i = 3; i <= 24 && rest >> field; ++i) {
      if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
      if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
      if (i == 24) rss = std::strtoull(field.c_str(), nullptr, 10);
    }
    p.cpu_ticks = utime + stime;
    p.rss_pages = rss;
    out.push_back(std::move(p));
  }
  ::closedir(d);
  return out;
}

}  // namespace triage::cluster
