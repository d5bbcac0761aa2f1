// The prometheus check: fleet health from the node_exporter series a
// Prometheus holds, read with four instant queries on its HTTP API: which
// scrape targets are down (up == 0, named per job, with Prometheus' last
// scrape error), and per instance the CPU utilization over a window, the
// memory in use and the fullest filesystem, summed up as fleet metrics
// (average, peak, skew) with the busiest instances named.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checks.hpp"
#include "prometheus_api.hpp"

namespace triage::cluster {

namespace {

const std::string kSchema = prom::params_schema("cluster/prometheus params", R"json(
    "window": {
      "type": "string",
      "pattern": "^([0-9]+(ms|s|m|h|d|w|y))+$",
      "maxLength": 32,
      "default": "5m",
      "description": "The range CPU utilization is averaged over (rate(node_cpu_seconds_total[WINDOW])), a PromQL duration such as 5m or 1h. It must span at least two scrapes of node_exporter (4 x scrape_interval is safe). Memory and filesystems are read as they are now."
    },
    "selector": {
      "type": "string",
      "maxLength": 1024,
      "description": "Label matchers added to every series the check reads (up and node_exporter's), as inside {...}: e.g. job=\"node\", or job=~\"node|node-exporter\",env=\"prod\". Default: none, so every target of every job counts in instances and instances_down."
    },
    "per_instance": {
      "type": "integer",
      "minimum": 0,
      "maximum": 50,
      "default": 10,
      "description": "How many instances get metrics of their own (cpu_used_pct[INSTANCE], memory_used_pct[INSTANCE], filesystem_used_pct[INSTANCE]): the N highest by each measure. 0: none."
    })json");

constexpr const char* kTargetDown =
    "A scrape target is down (runbook: Service Down): its exporter or its host stopped "
    "answering Prometheus. On the host: systemctl status prometheus-node-exporter (or the "
    "job's exporter) and journalctl -u prometheus-node-exporter --since -10m; check that the "
    "host is up and that Prometheus reaches the port (firewall, --web.listen-address). The "
    "finding quotes Prometheus' last scrape error. A target retired for good: remove it from "
    "the scrape config or service discovery.";

constexpr const char* kCpuBusy =
    "Resource pressure (runbook: > 85 % utilization, Warning; High Latency: scale up): see what "
    "runs on the instance(s) named (top, pidstat 5), move or throttle load, scale the instance "
    "up or the fleet out; at 95 % and more, queues and latency grow.";

constexpr MetricDecl kInstances =
    metric("instances", "", "Scrape targets the selector matches (series of up)");
constexpr MetricDecl kInstancesDown =
    metric("instances_down", "", "Targets whose last scrape failed (up == 0)")
        .critical("0")
        .remediation(kTargetDown);
constexpr MetricDecl kCpuAvg =
    metric("cpu_used_pct_avg", "%",
           "CPU utilization over the window, averaged over the instances (100 - idle)")
        .warning("65")
        .remediation(
            "The fleet runs above the runbook's 65 % average compute utilization, leaving too "
            "little headroom for a peak or a lost instance: scale out (more instances), "
            "right-size them, or find the job that grew (CPU by job/process on the busiest "
            "instances).");
constexpr MetricDecl kCpuMax =
    metric("cpu_used_pct_max", "%", "CPU utilization over the window of the busiest instance")
        .warning("85")
        .critical("95")
        .remediation(kCpuBusy);
constexpr MetricDecl kMemAvg =
    metric("memory_used_pct_avg", "%",
           "Memory in use (1 - MemAvailable / MemTotal), averaged over the instances");
constexpr MetricDecl kMemMax =
    metric("memory_used_pct_max", "%", "Memory in use on the instance that uses the most")
        .warning("85")
        .critical("95")
        .remediation(
            "Memory pressure on the instance(s) named (runbook: Memory Errors, OOM exceptions): "
            "find the largest processes (ps aux --sort=-rss | head), look for OOM kills "
            "(journalctl -k | grep -i oom) and leaks, add memory or move load.");
constexpr MetricDecl kSkew =
    metric("utilization_skew_pct", "%",
           "How far the busiest instance's CPU is above the fleet average: (max - avg) / "
           "max(avg, 25) x 100; 0 with fewer than two instances")
        .warning("20")
        .remediation(
            "Load is uneven across the instances (runbook: skew > 20 %): check the load "
            "balancer's weights and health checks, the partition or shard assignment (runbook: "
            "Data Skew, repartition), and jobs pinned to the busiest instance.");
constexpr MetricDecl kFsMax =
    metric("filesystem_used_pct_max", "%",
           "The fullest filesystem of any instance, used / (used + available) as df computes "
           "it (tmpfs, overlay and other pseudo filesystems left out)")
        .warning("80")
        .critical("90")
        .remediation(
            "A filesystem is filling up (runbook: Quota Limit at 80 %): on the instance and "
            "mount named, find what grew (du -xh --max-depth=2 MOUNT | sort -h: logs, core "
            "dumps, images), delete or archive it, or grow the filesystem; at 100 % writes fail.");
constexpr MetricDecl kCpuOne =
    metric("cpu_used_pct[*]", "%", "CPU utilization over the window of one instance")
        .remediation(kCpuBusy);
constexpr MetricDecl kMemOne =
    metric("memory_used_pct[*]", "%", "Memory in use on one instance")
        .remediation(
            "Memory pressure on this instance: find the largest processes (ps aux "
            "--sort=-rss | head) and OOM kills (journalctl -k | grep -i oom).");
constexpr MetricDecl kFsOne =
    metric("filesystem_used_pct[*]", "%", "The fullest filesystem of one instance")
        .remediation(
            "A filesystem of this instance is filling up: du -xh --max-depth=2 MOUNT "
            "| sort -h on the mount the summary or findings name.");
constexpr MetricDecl kApiMs =
    metric("api_ms", "ms", "Round trip of the slowest of the check's API requests");

constexpr MetricDecl kMetrics[] = {kInstances, kInstancesDown, kCpuAvg, kCpuMax, kMemAvg, kMemMax,
                                   kSkew,      kFsMax,         kCpuOne, kMemOne, kFsOne,  kApiMs};

// Filesystems that are not storage: in memory, images, kernel interfaces.
constexpr const char* kPseudoFs =
    "tmpfs|ramfs|devtmpfs|overlay|aufs|squashfs|iso9660|nsfs|autofs|proc|sysfs|cgroup|cgroup2|"
    "devpts|mqueue|hugetlbfs|tracefs|debugfs|securityfs|pstore|bpf|configfs|binfmt_misc|"
    "rpc_pipefs|fusectl|selinuxfs|efivarfs|fuse.lxcfs|fuse.snapfuse|fuse.gvfsd-fuse";

// Levels at which the busiest instances are named in (info) findings: the
// default warning levels of the fleet metrics.
constexpr double kBusyCpu = 85, kBusyMemory = 85, kFullFs = 80;
// The average a skew is measured against is at least this, so that an idle
// fleet (1 % next to 4 %) is not called skewed.
constexpr double kSkewFloor = 25;
// Instances named in a finding, jobs with a finding of their own.
constexpr std::size_t kNamed = 5, kMaxJobs = 10, kInstancesPerJob = 10;

std::string braces(const std::string& matchers) {
  return matchers.empty() ? "" : "{" + matchers + "}";
}

std::string with(const std::string& first, const std::string& selector) {
  return selector.empty() ? first : first + "," + selector;
}

struct Reading {
  std::string instance;
  double value = 0;
  std::string where;  // filesystems: "instance:mount"
};

std::string instance_of(const prom::Sample& s) {
  const auto it = s.labels.find("instance");
  return it != s.labels.end() ? it->second : "{" + prom::label_text(s.labels) + "}";
}

// Finite values of a per-instance query, highest first.
std::vector<Reading> readings(const prom::QueryResult& r) {
  std::vector<Reading> out;
  for (const auto& s : r.series)
    if (s.numeric && std::isfinite(s.value)) out.push_back({instance_of(s), s.value, {}});
  std::stable_sort(out.begin(), out.end(),
                   [](const Reading& a, const Reading& b) { return a.value > b.value; });
  return out;
}

double average(const std::vector<Reading>& r) {
  double sum = 0;
  for (const auto& x : r) sum += x.value;
  return r.empty() ? 0 : sum / static_cast<double>(r.size());
}

std::string pct(double v) {
  return prom::one_decimal(v) + " %";
}

class Run {
 public:
  Run(Context& ctx, prom::Client client) : ctx_(ctx), client_(std::move(client)) {}

  void operator()() {
    const std::string window = ctx_.param<std::string>("window", "5m");
    if (!prom::valid_duration(window))
      throw ParamError("param 'window' must be a PromQL duration such as 5m, 30s or 1h30m");
    const std::string selector = ctx_.param<std::string>("selector", "");
    if (selector.size() > 1024) throw ParamError("param 'selector' is longer than 1024 bytes");
    prom::check_selector(selector, "selector");
    const auto per_instance = ctx_.param<std::int64_t>("per_instance", 10);
    if (per_instance < 0 || per_instance > 50)
      throw ParamError("param 'per_instance' must be from 0 to 50");
    per_instance_ = static_cast<std::size_t>(per_instance);
    ctx_.attribute("prometheus", client_.base_url());
    ctx_.attribute("window", window);
    if (!selector.empty()) ctx_.attribute("selector", selector);

    const std::string fs = with("fstype!~\"" + std::string(kPseudoFs) + "\"", selector);
    const std::string size = "node_filesystem_size_bytes{" + fs + "}";
    const std::string used = "(" + size + " - node_filesystem_free_bytes{" + fs + "})";
    const std::string mem = braces(selector);

    auto up = ask("up" + braces(selector), 4, "the up query");
    if (!up) return;
    targets(*up);
    auto cpu = ask("100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{" +
                       with("mode=\"idle\"", selector) + "}[" + window + "])))",
                   3, "the CPU query");
    if (!cpu) return finish_failed();
    auto memory = ask("max by (instance) (100 * (1 - node_memory_MemAvailable_bytes" + mem +
                          " / node_memory_MemTotal_bytes" + mem + "))",
                      2, "the memory query");
    if (!memory) return finish_failed();
    auto filesystems = ask("max by (instance, mountpoint) (100 * " + used + " / (" + used +
                               " + node_filesystem_avail_bytes{" + fs + "}))",
                           1, "the filesystem query");
    if (!filesystems) return finish_failed();
    fleet(readings(*cpu), readings(*memory), *filesystems, window);
  }

 private:
  // One query with its share of the time left; on failure it is reported
  // and nothing is returned.
  std::optional<prom::QueryResult> ask(const std::string& promql, long queries_left,
                                       const char* what) {
    const long share = std::max(1L, static_cast<long>(ctx_.remaining().count()) / queries_left);
    prom::QueryResult r = client_.query(ctx_, promql, share);
    slowest_ms_ = std::max(slowest_ms_, r.elapsed_ms);
    if (!r.ok()) {
      prom::report_failure(ctx_, client_, r, what);
      return std::nullopt;
    }
    for (const auto& w : r.warnings) ctx_.log(LogLevel::warning, "Prometheus warns: " + w);
    if (r.result_type != "vector") {
      ctx_.error(std::string(what) + " returned a " + r.result_type + ", not an instant vector");
      return std::nullopt;
    }
    return r;
  }

  // Counts the targets and names those down, per job.
  void targets(const prom::QueryResult& up) {
    std::map<std::string, std::pair<int, std::vector<std::string>>> jobs;  // total, down
    for (const auto& s : up.series) {
      const auto job = s.labels.find("job");
      auto& entry = jobs[job != s.labels.end() ? job->second : "(no job label)"];
      ++entry.first;
      ++total_;
      if (!s.numeric || !(s.value >= 1)) {
        entry.second.push_back(instance_of(s));
        ++down_;
      }
    }
    ctx_.metric(kInstances, total_);
    ctx_.metric(kInstancesDown, down_);
    if (down_ == 0) return;

    // Why Prometheus could not scrape them, best effort and briefly.
    const long wait = std::min(2000L, static_cast<long>(ctx_.remaining().count()) / 5);
    const auto errors = client_.target_errors(ctx_, std::max(1L, wait));
    std::vector<std::pair<std::string, const std::pair<int, std::vector<std::string>>*>> failing;
    for (auto& [job, entry] : jobs) {
      if (entry.second.empty()) continue;
      std::sort(entry.second.begin(), entry.second.end());
      failing.emplace_back(job, &entry);
    }
    std::stable_sort(failing.begin(), failing.end(), [](const auto& a, const auto& b) {
      return a.second->second.size() > b.second->second.size();
    });
    for (std::size_t i = 0; i < failing.size() && i < kMaxJobs; ++i) {
      const auto& [job, entry] = failing[i];
      const auto& instances = entry->second;
      std::string detail;
      for (std::size_t k = 0; k < instances.size() && k < kInstancesPerJob; ++k) {
        detail += (k ? "; " : "") + instances[k];
        const auto e = errors.find({job, instances[k]});
        if (e != errors.end()) detail += " (last scrape: " + prom::abbreviate(e->second, 300) + ")";
      }
      if (instances.size() > kInstancesPerJob)
        detail += "; and " + std::to_string(instances.size() - kInstancesPerJob) + " more";
      ctx_.finding(Severity::critical,
                   "Job " + job + ": " + std::to_string(instances.size()) + " of " +
                       std::to_string(entry->first) + " target(s) down",
                   "up == 0 for " + detail, kTargetDown);
      down_named_.push_back(instances.front() + " (" + job + ")");
    }
    if (failing.size() > kMaxJobs) {
      std::vector<std::string> rest;
      for (std::size_t i = kMaxJobs; i < failing.size(); ++i)
        rest.push_back(failing[i].first + " (" + std::to_string(failing[i].second->second.size()) +
                       ")");
      ctx_.finding(Severity::critical,
                   std::to_string(rest.size()) + " more job(s) with targets down",
                   "Jobs (targets down): " + prom::list_some(rest, 50), kTargetDown);
    }
  }

  std::string targets_summary() const {
    std::string s = std::to_string(total_) + " target(s), ";
    if (down_ == 0) return s + (total_ == 0 ? "none matched" : "all up");
    return s + std::to_string(down_) + " down: " + prom::list_some(down_named_, 3);
  }

  // A node query failed (already reported): keep what is known in the summary.
  void finish_failed() { ctx_.attribute("targets", targets_summary()); }

  void per_item(const MetricDecl& decl, const std::vector<Reading>& r) {
    for (std::size_t i = 0; i < r.size() && i < per_instance_; ++i)
      ctx_.metric(decl, prom::fit_item(decl.name(), r[i].instance), r[i].value);
  }

  // An info finding naming the instances at or above level (the metrics'
  // thresholds decide the status).
  void name_busiest(const std::vector<Reading>& r, double level, const std::string& what,
                    const char* remediation) {
    std::vector<std::string> named;
    for (const auto& x : r)
      if (x.value >= level)
        named.push_back((x.where.empty() ? x.instance : x.where) + " " + pct(x.value));
    if (named.empty()) return;
    ctx_.finding(Severity::info,
                 std::to_string(named.size()) + " " + what + " at or above " + pct(level),
                 prom::list_some(named, kNamed), remediation);
  }

  void fleet(const std::vector<Reading>& cpu, const std::vector<Reading>& memory,
             const prom::QueryResult& filesystems, const std::string& window) {
    // The fullest mount of each instance, and every mount over the level.
    std::map<std::string, Reading> fullest;
    std::vector<Reading> mounts;
    for (const auto& s : filesystems.series) {
      if (!s.numeric || !std::isfinite(s.value)) continue;
      const auto mp = s.labels.find("mountpoint");
      Reading x{instance_of(s), s.value,
                instance_of(s) + ":" + (mp != s.labels.end() ? mp->second : "?")};
      auto [it, fresh] = fullest.emplace(x.instance, x);
      if (!fresh && x.value > it->second.value) it->second = x;
      mounts.push_back(std::move(x));
    }
    std::vector<Reading> fs;
    for (auto& [_, x] : fullest) fs.push_back(x);
    auto by_value = [](const Reading& a, const Reading& b) { return a.value > b.value; };
    std::stable_sort(fs.begin(), fs.end(), by_value);
    std::stable_sort(mounts.begin(), mounts.end(), by_value);

    const std::vector<Reading>& fs_view = fs;
    std::map<std::string, int> reporting;
    for (const std::vector<Reading>* list : {&cpu, &memory, &fs_view})
      for (const auto& x : *list) ++reporting[x.instance];
    ctx_.attribute("node_instances", std::to_string(reporting.size()));

    std::string summary = targets_summary();
    Status status = down_ > 0 ? Status::critical : Status::ok;
    if (!cpu.empty()) {
      const double avg = average(cpu), max = cpu.front().value;
      const double skew = cpu.size() < 2 ? 0 : (max - avg) / std::max(avg, kSkewFloor) * 100.0;
      ctx_.metric(kCpuAvg, avg);
      ctx_.metric(kCpuMax, max);
      ctx_.metric(kSkew, skew);
      per_item(kCpuOne, cpu);
      name_busiest(cpu, kBusyCpu, "instance(s) with CPU", kCpuBusy);
      summary += "; CPU avg " + pct(avg) + ", max " + pct(max) + " (" + cpu.front().instance +
                 "), skew " + pct(skew);
    }
    if (!memory.empty()) {
      ctx_.metric(kMemAvg, average(memory));
      ctx_.metric(kMemMax, memory.front().value);
      per_item(kMemOne, memory);
      name_busiest(memory, kBusyMemory, "instance(s) with memory in use",
                   kMemMax.c_decl().remediation);
      summary += "; memory max " + pct(memory.front().value) + " (" + memory.front().instance + ")";
    }
    if (!fs.empty()) {
      ctx_.metric(kFsMax, fs.front().value);
      per_item(kFsOne, fs);
      name_busiest(mounts, kFullFs, "filesystem(s)", kFsMax.c_decl().remediation);
      summary += "; fullest filesystem " + pct(fs.front().value) + " (" + fs.front().where + ")";
    }
    ctx_.metric(kApiMs, slowest_ms_);

    if (reporting.empty() && down_ < total_) {
      status = std::max(status, Status::warning);
      ctx_.finding(Severity::warning, "No node_exporter series",
                   std::to_string(total_ - down_) +
                       " target(s) are up, but Prometheus holds no node_cpu_seconds_total, "
                       "node_memory_* or node_filesystem_* series" +
                       (ctx_.has("selector") ? " that the selector matches" : ""),
                   "Scrape node_exporter on every host (a job in prometheus.yml or service "
                   "discovery), or make selector match its job (e.g. job=\"node\").");
      summary += "; no node_exporter series";
    } else if (total_ == 0) {
      status = std::max(status, Status::warning);
      ctx_.finding(Severity::warning, "No scrape targets",
                   "Prometheus has no series of up" +
                       std::string(ctx_.has("selector") ? " that the selector matches" : ""),
                   "Check selector, and that Prometheus scrapes anything (its Status > "
                   "Targets page, prometheus.yml).");
    } else if (cpu.empty() && !reporting.empty()) {
      status = std::max(status, Status::warning);
      ctx_.finding(Severity::warning, "No CPU utilization over " + window,
                   "node_exporter's memory or filesystem series exist, but rate() over " + window +
                       " gives nothing: the window holds fewer than two scrapes",
                   "Give a window of at least 4 x the scrape interval (e.g. 1m for 15s), or "
                   "check that node_exporter's cpu collector is on.");
    }
    ctx_.status(status, summary);
  }

  Context& ctx_;
  prom::Client client_;
  std::size_t per_instance_ = 10;
  int total_ = 0, down_ = 0;
  std::vector<std::string> down_named_;
  double slowest_ms_ = 0;
};

}  // namespace

const char* const PrometheusCheck::params_schema = kSchema.c_str();
const Metrics PrometheusCheck::metrics{kMetrics};

void PrometheusCheck::run(Context& ctx) {
  Run(ctx, prom::read_client(ctx, kSchema))();
}

}  // namespace triage::cluster
