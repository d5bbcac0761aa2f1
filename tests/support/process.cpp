#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "internal.hpp"

namespace triage::test {
namespace {

// Spawns argv with stdin from /dev/null (a service must never wait on the
// test's terminal), stdout and stderr appended to log_file, default signal
// dispositions and an empty mask (the test runner may have changed both), and
// its own process group so that anything it forks can be killed with it.
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log_file) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty argv");

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const std::string log = log_file.string();
  if (!log.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }

  posix_spawnattr_t attr;
  detail::init_service_attributes(attr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  // Daemons live in /usr/sbin, which is not on every user's PATH.
  if (rc == ENOENT && argv[0].find('/') == std::string::npos) {
    const std::string sbin = "/usr/sbin/" + argv[0];
    rc = posix_spawn(&pid, sbin.c_str(), &actions, &attr, args.data(), environ);
  }
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  return pid;
}

int wait_blocking(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

// True once the child has exited. WNOWAIT leaves it a zombie, so its pid, and
// with it the process group id, cannot be reused before the destructor reaps it.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
    return true;
  }
  return info.si_pid == pid;
}

}  // namespace

Process::Process(std::vector<std::string> argv, std::filesystem::path log_file)
    : pid_(spawn(argv, log_file)) {}

Process::~Process() {
  using namespace std::chrono_literals;
  ::kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!has_exited(pid_) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  // Also reaches whatever the child forked and left behind in its group.
  ::kill(-pid_, SIGKILL);
  wait_blocking(pid_);
}

bool Process::running() const {
  return !has_exited(pid_);
}

int run_command(const std::vector<std::string>& argv, const std::filesystem::path& log_file) {
  const int status = wait_blocking(spawn(argv, log_file));
  if (status < 0) throw std::runtime_error("cannot wait for " + argv[0]);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  // The shell's convention, so a crash is never mistaken for success.
  return 128 + WTERMSIG(status);
}

bool as_nobody(const std::function<bool()>& fn) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const bool dropped = ::setgid(65534) == 0 && ::setuid(65534) == 0;
    ::_exit(dropped && fn() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

namespace detail {

void init_service_attributes(posix_spawnattr_t& attr) {
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attr, &signals);
  sigfillset(&signals);
  sigdelset(&signals, SIGKILL);
  sigdelset(&signals, SIGSTOP);
  posix_spawnattr_setsigdefault(&attr, &signals);
}

}  // namespace detail
}  // namespace triage::test
