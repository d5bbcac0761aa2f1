// The runner: executes check instances concurrently under a job limit, each
// under its deadline with cooperative cancellation, retries failures with
// exponential backoff, and skips the dependents of checks that are not ok.
#pragma once

#include <triage/plugin.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "triage/core/config.hpp"
#include "triage/core/plugin_loader.hpp"
#include "triage/core/result.hpp"

namespace triage::core {

// Runs one attempt of a check in the calling thread, writing into attempt.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual triage_rc execute(const CheckSpec& spec, Attempt& attempt) = 0;
};

// Calls the plugin's run() directly in this process. Check types that do not
// declare TRIAGE_CHECK_THREAD_SAFE run one call at a time (the ABI contract),
// as they do in a plugin host.
class InProcessExecutor : public Executor {
 public:
  explicit InProcessExecutor(const PluginRegistry& registry) : registry_(registry) {}
  ~InProcessExecutor() override;  // logs the log lines each plugin had suppressed
  triage_rc execute(const CheckSpec& spec, Attempt& attempt) override;

 private:
  // One at a time for one check type. A flag under a condition variable
  // rather than std::timed_mutex: its try_lock_until(steady_clock) maps to
  // pthread_mutex_clocklock, which ThreadSanitizer (GCC 12) does not see.
  struct Serial {
    std::mutex mutex;
    std::condition_variable freed;
    bool busy = false;
  };

  // Shared: a check abandoned past its deadline may still be inside run()
  // when the executor is gone, and releases its Serial then.
  std::shared_ptr<Serial> serial_of(const CheckType* type);
  std::shared_ptr<LogBudget> log_budget_of(const std::string& plugin);

  const PluginRegistry& registry_;
  std::mutex serial_mutex_;
  std::map<const CheckType*, std::shared_ptr<Serial>> serial_;
  std::map<std::string, std::shared_ptr<LogBudget>> log_budgets_;  // under serial_mutex_
};

struct RunOptions {
  int jobs = 64;
  // How long after its deadline a check that has not returned is abandoned
  // and reported `unknown` (timed out).
  std::chrono::milliseconds grace{250};
  // First retry delay; doubled for each further retry, capped at backoff_max.
  std::chrono::milliseconds backoff{200};
  std::chrono::milliseconds backoff_max{5000};
  OutputLimits limits;
  // What all the checks of a run may report together (text bytes, after
  // the per-check limits): past it, each further result keeps its status,
  // error and metrics but only the first 1 KiB of its summary and 8
  // findings and attributes cut to 256 bytes, marked truncated. The
  // per-check limits alone let 300 checks at their caps cost gigabytes.
  std::size_t run_output_bytes = 64u << 20;
  // Set to true to cancel the whole run: running checks are cancelled,
  // the rest are skipped.
  const std::atomic<bool>* cancel = nullptr;
  // The whole run ends here: running checks are cancelled, the rest are
  // skipped with skipped_because "run deadline".
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

struct RunOutcome {
  std::vector<CheckResult> results;  // in the order of the checks given
  // Checks whose code never returned after cancellation; in-process their
  // threads are still running and the process should exit promptly.
  int abandoned = 0;
  // Cancelled or cut by the run deadline: not every check ran to its end.
  bool partial = false;
  // Why it was cut ("run deadline", "run cancelled"); "" when not partial.
  std::string cut_reason;
  int cut_running = 0;  // checks that were running when the run was cut
};

// The executor must outlive every abandoned check (keep it until exit).
RunOutcome run_checks(const std::vector<CheckSpec>& checks, Executor& executor,
                      const RunOptions& options);

}  // namespace triage::core
