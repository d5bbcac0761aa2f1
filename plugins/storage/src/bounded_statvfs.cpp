#include "bounded_statvfs.hpp"

#include <cerrno>
#include <condition_variable>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

namespace triage::storage {

struct PendingStatvfs::State {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  StatvfsOutcome outcome;
};

namespace {

// The calls in flight, by path. This is the plugin's one piece of global
// mutable state, on purpose: a stuck statvfs outlives the check that started
// it (its thread cannot be cancelled), so only process-wide bookkeeping can
// stop the next check on the same mount from stranding yet another thread.
// It is leaked deliberately so that a thread still stuck at process exit
// never touches a destroyed mutex.
struct Registry {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<PendingStatvfs::State>> in_flight;
};

Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

}  // namespace

PendingStatvfs::PendingStatvfs(const std::string& path, Call call) {
  auto& reg = registry();
  std::lock_guard lock(reg.mutex);
  if (auto it = reg.in_flight.find(path); it != reg.in_flight.end()) {
    state_ = it->second;
    return;
  }
  state_ = std::make_shared<State>();
  try {
    std::thread([path, call, state = state_] {
      StatvfsOutcome out;
      if (call(path.c_str(), &out.st) == 0) {
        out.state = StatvfsOutcome::State::answered;
      } else {
        out.state = StatvfsOutcome::State::failed;
        out.err = errno;
      }
      {
        auto& r = registry();
        std::lock_guard reg_lock(r.mutex);
        r.in_flight.erase(path);
      }
      std::lock_guard state_lock(state->mutex);
      state->outcome = out;
      state->done = true;
      state->done_cv.notify_all();
    }).detach();
  } catch (const std::system_error&) {
    // No thread to spare (thread limit): report it as a failure rather than
    // calling statvfs on this thread.
    state_->outcome.state = StatvfsOutcome::State::failed;
    state_->outcome.err = EAGAIN;
    state_->done = true;
    return;
  }
  reg.in_flight.emplace(path, state_);
}

StatvfsOutcome PendingStatvfs::wait_until(std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(state_->mutex);
  if (!state_->done_cv.wait_until(lock, deadline, [&] { return state_->done; }))
    return StatvfsOutcome{};
  return state_->outcome;
}

std::size_t statvfs_in_flight() {
  auto& reg = registry();
  std::lock_guard lock(reg.mutex);
  return reg.in_flight.size();
}

}  // namespace triage::storage
