// A real process for the tests to find: a forked child that renames itself
// (its /proc/PID/comm), optionally lowers its open-file limit and opens
// descriptors, tells the parent it is ready, and waits to be ended.
#pragma once

#include <sys/types.h>

#include <string>

namespace proc::test {

struct ChildOptions {
  std::string name;            // becomes /proc/PID/comm (at most 15 bytes)
  unsigned long fd_limit = 0;  // soft RLIMIT_NOFILE to set; 0 keeps the inherited one
  int fill_to = 0;             // open /dev/null until descriptors 0..fill_to-1 are in use
};

class Child {
 public:
  explicit Child(const ChildOptions& options);  // returns once the child is ready
  ~Child();                                     // kills and reaps the child
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int hold_fd_ = -1;  // the child also exits when this pipe closes (our exit)
};

// A name no other process on this machine has.
std::string unique_name(const std::string& prefix);

}  // namespace proc::test
