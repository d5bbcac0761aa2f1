// Process isolation. The core runs each plugin in a plugin-host child process
// (the triage binary itself, started as `triage __plugin-host`), which loads
// the library and runs checks on its behalf over a socketpair. A crash, an
// exit() or a hang in plugin code ends that process, never the run.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "triage/core/frame.hpp"
#include "triage/core/plugin_loader.hpp"
#include "triage/core/runner.hpp"

namespace triage::core {

// What the core tells a plugin host on its command line.
struct HostArgs {
  int fd = -1;  // the channel to the core
  std::filesystem::path file;
  int memory_limit_mb = 0;  // 0: none
  bool allow_insecure = false;
  // Count the live processes the plugin left after each call, in its
  // result (for `triage plugin validate`).
  bool count_descendants = false;
};

// The host side: serves one plugin over fd until the core closes it, then
// kills whatever processes the plugin left. Returns the process exit code.
int plugin_host_main(const HostArgs& args);

struct HostOptions {
  std::filesystem::path executable;  // the triage binary
  int memory_limit_mb = 0;           // RLIMIT_AS of the host; 0: none
  bool allow_insecure = false;
  std::chrono::milliseconds hello_timeout{10'000};
  bool count_descendants = false;  // see HostArgs
  // The plugin's log lines in this run, across its hosts (null: unbounded).
  std::shared_ptr<LogBudget> log_budget;
};

// Options for hosts started from the running triage binary.
HostOptions default_host_options(bool allow_insecure);

// One running plugin-host process, seen from the core. Thread safe.
class HostProcess {
 public:
  // What became of one check sent to the host.
  struct Pending {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    bool lost = false;        // the host died before answering
    bool collateral = false;  // ... because the core killed it for another check
    std::string lost_reason;  // "crashed (SIGSEGV)", "exited with status 0"
    int in_flight = 0;        // checks in the host when it died (this one included)
    bool shared = false;      // other checks ran in the host, beside or before this one
    int descendants = 0;      // live processes left when run() returned (count_descendants)
    triage_rc rc = TRIAGE_RC_OK;
    nlohmann::json outcome;
  };

  // Starts a host for file and waits for its hello. Returns nullptr and sets
  // reason when the plugin is refused or the host fails to start.
  static std::shared_ptr<HostProcess> start(const std::filesystem::path& file,
                                            const HostOptions& options, std::string& reason);
  ~HostProcess();
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  // exit_status() of a host that did not end after SIGKILL (never a wait status).
  static constexpr int kUnkillable = -1;

  const Plugin& plugin() const { return plugin_; }
  // False once it ended or the core asked it to end: new checks go elsewhere.
  bool alive() const { return !dead_.load() && !kill_requested_.load(); }
  // True when the host ended without the core asking it to.
  bool crashed() const { return dead_.load() && !kill_requested_.load(); }
  std::string exit_description() const;

  std::shared_ptr<Pending> submit(const std::string& label, const std::string& type,
                                  const std::string& params,
                                  std::chrono::steady_clock::time_point deadline);
  void cancel(const std::shared_ptr<Pending>& pending);
  // Kills the host's process group (SIGTERM, then SIGKILL) from its monitor
  // thread; returns at once. Checks in flight end as collateral losses.
  void kill(const std::string& why);

  std::atomic<bool> crash_counted{false};

 private:
  HostProcess() = default;
  void monitor(FrameDecoder decoder);
  void drain(FrameDecoder& decoder);  // handles the complete frames received
  bool send(std::uint8_t type, const nlohmann::json& payload);
  void finish_all(const std::string& reason, bool collateral);
  void give_up();  // stops waiting for a host that SIGKILL did not end

  Plugin plugin_;
  std::shared_ptr<LogBudget> log_budget_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::mutex write_mutex_;   // write_queue_, writing_
  std::string write_queue_;  // frames for the thread writing now
  bool writing_ = false;
  std::mutex mutex_;  // pending_, exit_status_
  std::map<std::uint64_t, std::shared_ptr<Pending>> pending_;
  std::map<const Pending*, std::uint64_t> ids_;
  std::uint64_t next_id_ = 1;
  int exit_status_ = 0;
  std::atomic<bool> dead_{false};
  std::atomic<bool> kill_requested_{false};
  std::atomic<bool> stopping_{false};
  std::string kill_reason_;
  std::thread monitor_;
};

// Runs checks in plugin-host processes, one per plugin, restarting a host
// that died, and giving a plugin up after `max_crashes` crashes in a run.
class ProcessExecutor final : public Executor {
 public:
  explicit ProcessExecutor(HostOptions options, int max_crashes = 3)
      : options_(std::move(options)), max_crashes_(max_crashes) {}
  ~ProcessExecutor() override;

  // A PluginRegistry loader: discovers a plugin by starting its host (the
  // core never maps plugin code itself in this mode).
  std::optional<Plugin> discover(const std::filesystem::path& file, std::string& reason);

  void set_memory_limit(const std::string& plugin, int mb);
  triage_rc execute(const CheckSpec& spec, Attempt& attempt) override;

 private:
  struct Slot {
    std::filesystem::path file;
    std::shared_ptr<HostProcess> host;
    int memory_limit_mb = -1;  // -1: the default
    int crashes = 0;
    std::string last_crash;
  };
  std::shared_ptr<HostProcess> host_for(const std::string& plugin, std::string& why);
  // A fresh host of its own for one check, outside the slot: after a crash
  // with several checks in flight, each is run again alone so that the one
  // that crashes it is found by reproduction, not guessed.
  std::shared_ptr<HostProcess> solo_host(const std::string& plugin, std::string& why);
  void count_crash(const std::string& plugin, const std::string& description);
  // options_ with the plugin file's log budget (and memory limit, if set).
  HostOptions options_for(const std::filesystem::path& file, int memory_limit_mb);

  HostOptions options_;
  int max_crashes_;
  std::mutex mutex_;
  std::map<std::string, Slot> slots_;
  std::map<std::filesystem::path, std::shared_ptr<LogBudget>> log_budgets_;  // by plugin file
};

}  // namespace triage::core
