#include "child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace proc::test {

Child::Child(const ChildOptions& options) {
  int ready[2];
  int hold[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(hold, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Only system calls from here: the parent may have other threads.
    ::close(ready[0]);
    ::close(hold[1]);
    ::prctl(PR_SET_NAME, options.name.c_str(), 0, 0, 0);
    if (options.fd_limit != 0) {
      rlimit lim{};
      ::getrlimit(RLIMIT_NOFILE, &lim);
      lim.rlim_cur = options.fd_limit;
      if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(2);
    }
    // open() returns the lowest free number, so this fills 0..fill_to-1.
    for (int fd = -1; fd < options.fill_to - 1;)
      if ((fd = ::open("/dev/null", O_RDONLY)) < 0) ::_exit(3);
    char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) ::_exit(4);
    while (::read(hold[0], &byte, 1) > 0) {
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(hold[0]);
  hold_fd_ = hold[1];
  char byte = 0;
  // Blocks until the child has named itself and opened its files (or died).
  const auto n = ::read(ready[0], &byte, 1);
  ::close(ready[0]);
  if (n != 1) {
    ::close(hold_fd_);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error("test child failed to start");
  }
}

Child::~Child() {
  // Other children forked later hold copies of our pipe end, so closing it is
  // not enough to end this one.
  ::kill(pid_, SIGKILL);
  ::close(hold_fd_);
  ::waitpid(pid_, nullptr, 0);
}

std::string unique_name(const std::string& prefix) {
  // The pid makes it unique among concurrent test runs; comm keeps 15 bytes.
  return (prefix + std::to_string(::getpid())).substr(0, 15);
}

}  // namespace proc::test
