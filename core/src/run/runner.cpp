#include "triage/core/runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "triage/core/duration.hpp"
#include "triage/core/evaluate.hpp"
#include "triage/core/host_api.hpp"

namespace triage::core {

triage_rc InProcessExecutor::execute(const CheckSpec& spec, Attempt& attempt) {
  const Plugin* plugin = registry_.find(spec.plugin);
  const CheckType* type = plugin == nullptr ? nullptr : plugin->find(spec.type);
  if (type == nullptr) {
    attempt.set_error("no plugin provides " + spec.plugin + "." + spec.type);
    return TRIAGE_RC_ERROR;
  }
  const std::string params = spec.params.dump();
  attempt.set_log_budget(log_budget_of(spec.plugin));
  if ((type->flags & TRIAGE_CHECK_THREAD_SAFE) != 0)
    return type->run(host_api(), to_handle(attempt, spec.plugin), params.data(), params.size(),
                     type->user_data);
  const std::shared_ptr<Serial> held = serial_of(type);
  Serial& serial = *held;
  {
    std::unique_lock lock(serial.mutex);
    if (!serial.freed.wait_until(lock, attempt.deadline(), [&] { return !serial.busy; })) {
      attempt.set_error("timed out waiting for another call of " + spec.plugin + "." + spec.type +
                        " (a check type not declared thread-safe runs one call at a time)");
      return TRIAGE_RC_ERROR;
    }
    serial.busy = true;
  }
  struct Release {
    std::shared_ptr<Serial> held;
    Serial& s;
    ~Release() {
      {
        const std::lock_guard lock(s.mutex);
        s.busy = false;
      }
      s.freed.notify_one();
    }
  } release{held, serial};
  return type->run(host_api(), to_handle(attempt, spec.plugin), params.data(), params.size(),
                   type->user_data);
}

std::shared_ptr<LogBudget> InProcessExecutor::log_budget_of(const std::string& plugin) {
  const std::lock_guard guard(serial_mutex_);
  auto& budget = log_budgets_[plugin];
  if (!budget) budget = std::make_shared<LogBudget>();
  return budget;
}

InProcessExecutor::~InProcessExecutor() {
  for (const auto& [plugin, budget] : log_budgets_)
    if (budget->suppressed() > 0)
      spdlog::warn("plugin {}: {} log lines suppressed (at most {} per plugin in a run)", plugin,
                   budget->suppressed(), budget->limit());
}

std::shared_ptr<InProcessExecutor::Serial> InProcessExecutor::serial_of(const CheckType* type) {
  const std::lock_guard guard(serial_mutex_);
  auto& serial = serial_[type];
  if (!serial) serial = std::make_shared<Serial>();
  return serial;
}

namespace {

using Clock = std::chrono::steady_clock;

struct Task {
  std::size_t index = 0;
  std::shared_ptr<Attempt> attempt;
};

struct Completion {
  std::size_t index = 0;
  std::shared_ptr<Attempt> attempt;
  triage_rc rc = TRIAGE_RC_OK;
};

// State shared by the coordinator and the workers. Workers hold it by
// shared_ptr so an abandoned worker that returns late still finds it alive.
struct Shared {
  std::mutex mutex;
  std::condition_variable work_ready;   // workers wait on it
  std::condition_variable coordinator;  // the coordinator waits on it
  std::deque<Task> queue;
  std::deque<Completion> completions;
  std::vector<bool> busy;  // per worker: inside executor->execute()
  bool stopping = false;
};

struct Slot {
  int pending_deps = 0;
  std::vector<std::size_t> dependents;
  bool done = false;
  bool started = false;
  Clock::time_point first_start;
  std::shared_ptr<Attempt> running;  // the attempt in flight, if any
  Clock::time_point hard_deadline;
};

void worker_loop(std::shared_ptr<Shared> shared, std::size_t id,
                 const std::vector<CheckSpec>* checks, Executor* executor) {
  std::unique_lock lock(shared->mutex);
  for (;;) {
    shared->work_ready.wait(lock, [&] { return shared->stopping || !shared->queue.empty(); });
    if (shared->queue.empty()) return;  // stopping
    Task task = std::move(shared->queue.front());
    shared->queue.pop_front();
    shared->busy[id] = true;
    lock.unlock();
    triage_rc rc = TRIAGE_RC_ERROR;
    try {
      rc = executor->execute((*checks)[task.index], *task.attempt);
    } catch (const std::exception& e) {
      task.attempt->set_error(std::string("executor failed: ") + e.what());
    }
    lock.lock();
    shared->busy[id] = false;
    shared->completions.push_back({task.index, std::move(task.attempt), rc});
    shared->coordinator.notify_one();
  }
}

class Coordinator {
 public:
  Coordinator(const std::vector<CheckSpec>& checks, Executor& executor, const RunOptions& options)
      : checks_(checks),
        executor_(executor),
        options_(options),
        shared_(std::make_shared<Shared>()),
        slots_(checks.size()) {
    outcome_.results.resize(checks.size());
    std::map<std::string, std::vector<std::size_t>> by_base;
    for (std::size_t i = 0; i < checks.size(); ++i) {
      outcome_.results[i].index = i;
      by_base[checks[i].base_id].push_back(i);
    }
    for (std::size_t i = 0; i < checks.size(); ++i)
      for (const auto& dep : checks[i].depends_on)
        for (std::size_t d : by_base[dep]) {
          slots_[d].dependents.push_back(i);
          ++slots_[i].pending_deps;
        }
  }

  RunOutcome run() {
    for (std::size_t i = 0; i < checks_.size(); ++i)
      if (slots_[i].pending_deps == 0) ready_.push_back(i);
    std::unique_lock lock(shared_->mutex);
    workers_ =
        std::min<std::size_t>(static_cast<std::size_t>(std::max(1, options_.jobs)), checks_.size());
    std::size_t started = 0;
    while (started < workers_ && start_worker()) ++started;
    workers_ = started;
    if (workers_ == 0) {
      // Not one thread: every check says so, and the report is written.
      for (std::size_t i = 0; i < checks_.size(); ++i) {
        auto& result = outcome_.results[i];
        result.index = i;
        result.status = Status::unknown;
        result.error = "no thread could be started to run it (out of memory or threads)";
        result.summary = result.error;
      }
      return std::move(outcome_);
    }

    while (done_ < checks_.size()) {
      if (!cancelling_ && options_.cancel != nullptr && options_.cancel->load())
        cancel_all("run cancelled");
      if (!cancelling_ && options_.deadline && Clock::now() >= *options_.deadline)
        cancel_all("run deadline");
      collect(lock);
      expire();
      release_retries();
      dispatch();
      if (done_ >= checks_.size()) break;
      if (shared_->completions.empty()) {
        // Wake for the next deadline or retry, or at least every 100 ms to
        // notice a run cancellation flag set from a signal handler.
        auto wake = Clock::now() + std::chrono::milliseconds(100);
        if (!in_flight_.empty()) wake = std::min(wake, in_flight_.begin()->first);
        if (!retries_.empty()) wake = std::min(wake, retries_.begin()->first);
        if (options_.deadline && !cancelling_) wake = std::min(wake, *options_.deadline);
        shared_->coordinator.wait_until(lock, wake);
      }
    }
    shared_->stopping = true;
    shared_->work_ready.notify_all();
    // Every check is settled, so a worker still busy is stuck in an abandoned
    // check: joining it could wait forever. It keeps `shared_` alive itself.
    for (std::size_t i = 0; i < threads_.size(); ++i)
      if (shared_->busy[i]) threads_[i].detach();
    lock.unlock();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    return std::move(outcome_);
  }

 private:
  // Called with shared_->mutex held.
  // False when no thread could be started (out of memory under `ulimit -v`,
  // or out of threads): the run goes on with fewer at once.
  bool start_worker() {
    shared_->busy.push_back(false);
    try {
      threads_.emplace_back(worker_loop, shared_, threads_.size(), &checks_, &executor_);
      return true;
    } catch (const std::system_error& e) {
      shared_->busy.pop_back();
      spdlog::warn("could not start a thread for checks ({}): running fewer at once", e.what());
      return false;
    }
  }

  // Launches ready checks while a worker is free for them: an attempt's
  // deadline starts when it is launched, so a check must not wait in the
  // queue behind slow ones while its time runs out.
  void dispatch() {
    while (!ready_.empty() && (cancelling_ || in_flight_.size() < workers_)) {
      const std::size_t i = ready_.front();
      ready_.pop_front();
      if (slots_[i].done) continue;
      if (cancelling_) {
        skip(i, cancel_reason_);
        continue;
      }
      launch(i);
    }
  }

  void launch(std::size_t i) {
    auto& slot = slots_[i];
    const auto now = Clock::now();
    if (!slot.started) {
      slot.started = true;
      slot.first_start = now;
    }
    const auto deadline = now + checks_[i].timeout;
    slot.running = std::make_shared<Attempt>(checks_[i].id, deadline, options_.limits);
    slot.hard_deadline = deadline + options_.grace;
    in_flight_.emplace(slot.hard_deadline, i);
    ++outcome_.results[i].attempts;
    spdlog::debug("{}: started (attempt {})", checks_[i].id, outcome_.results[i].attempts);
    shared_->queue.push_back({i, slot.running});
    shared_->work_ready.notify_one();
  }

  void collect(std::unique_lock<std::mutex>& lock) {
    (void)lock;
    while (!shared_->completions.empty()) {
      Completion c = std::move(shared_->completions.front());
      shared_->completions.pop_front();
      auto& slot = slots_[c.index];
      if (slot.done || slot.running != c.attempt) continue;  // abandoned earlier
      in_flight_.erase({slot.hard_deadline, c.index});
      slot.running.reset();
      auto& result = outcome_.results[c.index];
      auto outcome = c.attempt->take();
      fit_in_run_budget(outcome);
      if (outcome.log_lines_suppressed > 0)
        spdlog::warn("{}: {} log lines suppressed (at most {} per check)", checks_[c.index].id,
                     outcome.log_lines_suppressed, OutputLimits{}.log_lines);
      evaluate(checks_[c.index], std::move(outcome), c.rc, result);
      settle(c.index);
    }
  }

  // Abandons checks past their hard deadline: their result is `unknown` now,
  // and a new worker replaces the one still stuck in the plugin.
  // Counts what an outcome adds to the run's output and, once the run's
  // budget is spent, keeps only the essentials of it (RunOptions::
  // run_output_bytes).
  void fit_in_run_budget(Outcome& outcome) {
    auto size = [](const Outcome& o) {
      std::size_t n = o.summary.size() + o.error.size();
      for (const auto& m : o.metrics) n += m.name.size() + m.unit.size() + 16;
      for (const auto& f : o.findings) n += f.title.size() + f.detail.size() + f.remediation.size();
      for (const auto& [k, v] : o.attributes) n += k.size() + v.size();
      return n;
    };
    if (output_bytes_ + size(outcome) > options_.run_output_bytes) {
      constexpr std::size_t kKeep = 8, kText = 256, kSummary = 1024;
      bool whole = true;
      outcome.summary = evaluation::cap_text(outcome.summary, kSummary, whole);
      if (outcome.findings.size() > kKeep) outcome.findings.resize(kKeep), whole = false;
      if (outcome.attributes.size() > kKeep) outcome.attributes.resize(kKeep), whole = false;
      for (auto& f : outcome.findings) {
        f.detail = evaluation::cap_text(f.detail, kText, whole);
        f.remediation = evaluation::cap_text(f.remediation, kText, whole);
      }
      for (auto& kv : outcome.attributes) kv.second = evaluation::cap_text(kv.second, kText, whole);
      if (!whole) {
        outcome.truncated = true;
        if (!budget_warned_)
          spdlog::warn(
              "the run's checks reported more than {} MiB together: results from here "
              "on are cut (truncated: true)",
              options_.run_output_bytes >> 20);
        budget_warned_ = true;
      }
    }
    output_bytes_ += size(outcome);
  }

  void expire() {
    const auto now = Clock::now();
    while (!in_flight_.empty() && in_flight_.begin()->first <= now) {
      const std::size_t i = in_flight_.begin()->second;
      in_flight_.erase(in_flight_.begin());
      auto& slot = slots_[i];
      slot.running->cancel();
      (void)slot.running->take();
      slot.running.reset();
      auto& result = outcome_.results[i];
      const int attempts = result.attempts;
      result = CheckResult{};
      result.index = i;
      result.attempts = attempts;
      result.status = Status::unknown;
      result.error = cancelling_ ? cancel_reason_ + ": the check did not stop in time"
                                 : "timed out after " + format_duration(checks_[i].timeout);
      result.summary = result.error;
      ++outcome_.abandoned;
      // The stuck worker keeps its thread; a fresh one takes its place, or
      // one fewer runs at once.
      if (!start_worker() && workers_ > 1) --workers_;
      settle(i);
    }
  }

  void release_retries() {
    const auto now = Clock::now();
    while (!retries_.empty() && (cancelling_ || retries_.begin()->first <= now)) {
      const std::size_t i = retries_.begin()->second;
      retries_.erase(retries_.begin());
      if (cancelling_) {
        finish(i);
        continue;
      }
      // Due now: ahead of checks that have not started yet.
      ready_.push_front(i);
    }
  }

  // After an attempt: retry a failure while retries remain, else finish.
  void settle(std::size_t i) {
    auto& result = outcome_.results[i];
    const bool failed = result.status == Status::critical || result.status == Status::unknown;
    if (failed && !cancelling_ && result.attempts <= checks_[i].retries) {
      auto delay = options_.backoff * (1 << std::min(result.attempts - 1, 16));
      delay = std::min<std::chrono::milliseconds>(delay, options_.backoff_max);
      spdlog::info("{}: attempt {} was {}, retrying in {}", checks_[i].id, result.attempts,
                   to_string(result.status), format_duration(delay));
      retries_.emplace(Clock::now() + delay, i);
      return;
    }
    finish(i);
  }

  void finish(std::size_t i) {
    auto& slot = slots_[i];
    if (slot.done) return;
    slot.done = true;
    ++done_;
    auto& result = outcome_.results[i];
    if (slot.started)
      result.duration_ms =
          std::chrono::duration<double, std::milli>(Clock::now() - slot.first_start).count();
    for (std::size_t d : slot.dependents) {
      if (slots_[d].done) continue;
      if (result.status != Status::ok) {
        skip(d, "dependency " + checks_[i].id + " is " + std::string(to_string(result.status)));
      } else if (--slots_[d].pending_deps == 0) {
        ready_.push_back(d);
      }
    }
  }

  void skip(std::size_t i, std::string reason) {
    auto& result = outcome_.results[i];
    result.status = Status::skipped;
    result.skipped_because = reason;
    result.summary = "skipped: " + reason;
    finish(i);
  }

  void cancel_all(std::string reason) {
    cancelling_ = true;
    outcome_.partial = true;
    outcome_.cut_reason = reason;
    cancel_reason_ = std::move(reason);
    // Queued but not picked up by a worker: these never started.
    std::deque<Task> queued;
    queued.swap(shared_->queue);
    for (auto& task : queued) {
      in_flight_.erase({slots_[task.index].hard_deadline, task.index});
      slots_[task.index].running.reset();
      --outcome_.results[task.index].attempts;
      skip(task.index, cancel_reason_);
    }
    outcome_.cut_running = static_cast<int>(in_flight_.size());
    const auto limit = Clock::now() + options_.grace;
    std::set<std::pair<Clock::time_point, std::size_t>> cut;
    for (const auto& [hard_deadline, i] : in_flight_) {
      auto& slot = slots_[i];
      slot.running->cancel();
      slot.hard_deadline = std::min(hard_deadline, limit);
      cut.emplace(slot.hard_deadline, i);
    }
    in_flight_.swap(cut);
  }

  const std::vector<CheckSpec>& checks_;
  Executor& executor_;
  const RunOptions& options_;
  std::shared_ptr<Shared> shared_;
  std::vector<Slot> slots_;
  std::deque<std::size_t> ready_;
  std::multimap<Clock::time_point, std::size_t> retries_;
  // The checks with an attempt in flight, by hard deadline: the coordinator
  // wakes for the first and expires from the front, never scanning every
  // slot (that made a run of N checks cost O(N^2)).
  std::set<std::pair<Clock::time_point, std::size_t>> in_flight_;
  std::size_t output_bytes_ = 0;  // what results kept so far report (fit_in_run_budget)
  bool budget_warned_ = false;
  std::vector<std::thread> threads_;
  std::size_t workers_ = 0;  // the job limit: attempts in flight at most
  RunOutcome outcome_;
  std::size_t done_ = 0;
  bool cancelling_ = false;
  std::string cancel_reason_;
};

}  // namespace

RunOutcome run_checks(const std::vector<CheckSpec>& checks, Executor& executor,
                      const RunOptions& options) {
  if (checks.empty()) return {};
  Coordinator coordinator(checks, executor, options);
  return coordinator.run();
}

}  // namespace triage::core
