// statvfs() that never holds up its caller: the call runs on a helper thread
// and the caller waits only until its deadline. statvfs on a stale NFS/CIFS
// (or hung FUSE) mount blocks in the kernel, uninterruptibly for a hard NFS
// mount, so no thread that matters may make the call itself.
#pragma once

#include <sys/statvfs.h>

#include <chrono>
#include <memory>
#include <string>

namespace triage::storage {

struct StatvfsOutcome {
  enum class State { answered, failed, not_responding };
  State state = State::not_responding;
  int err = 0;           // errno when failed
  struct statvfs st {};  // when answered
};

// One statvfs() call in flight. Calls on the same path share one helper
// thread: while a call on a path is stuck, starting another joins it instead
// of piling up threads that would all block the same way.
class PendingStatvfs {
 public:
  // The system call made on the helper thread; ::statvfs unless a test
  // stands in for it.
  using Call = int (*)(const char*, struct statvfs*);

  // Starts call(path) (or joins the call already in flight on that path).
  explicit PendingStatvfs(const std::string& path, Call call = &::statvfs);

  // The outcome, waiting at most until `deadline`; not_responding when the
  // call has not returned by then (it keeps running on its own thread).
  StatvfsOutcome wait_until(std::chrono::steady_clock::time_point deadline) const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Number of statvfs() calls currently in flight (stuck ones included), for tests.
std::size_t statvfs_in_flight();

}  // namespace triage::storage
