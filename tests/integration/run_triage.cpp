#include "run_triage.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "services.hpp"

extern char** environ;

namespace triage::itest {

namespace {

using Clock = std::chrono::steady_clock;

std::string key_of(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

// The child's environment: ours, minus the variables that change triage's
// behaviour unasked, then the caller's settings.
std::vector<std::string> child_environment(const RunEnv& env) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string key = key_of(entry);
    if (key == "TRIAGE_PLUGIN_PATH" || key == "NO_COLOR") continue;
    bool replaced = false;
    for (const auto& [k, v] : env.set) replaced = replaced || k == key;
    if (!replaced) out.push_back(entry);
  }
  for (const auto& [k, v] : env.set) out.push_back(k + "=" + v);
  return out;
}

// Waits for pid; kills it once `limit` has passed. Returns the wait status,
// or -1 when the child had to be killed. A pidfd makes the wait a poll() with
// a timeout; without one (an old kernel) the wait has no limit, and ctest's
// TIMEOUT is the backstop.
int wait_with_limit(pid_t pid, std::chrono::seconds limit, const std::string& interrupt_on = {},
                    const std::string& err_file = {}, int signal = SIGINT) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  bool killed = false;
  bool interrupted = interrupt_on.empty();
  if (pidfd >= 0) {
    const auto deadline = Clock::now() + limit;
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      // Watching for the text: look again every 10 ms until it is there.
      if (!interrupted) left = std::min<long long>(left, 10);
      pollfd pfd{pidfd, POLLIN, 0};
      const int ready = left > 0 ? ::poll(&pfd, 1, static_cast<int>(left)) : 0;
      if (ready == 0 && !interrupted && Clock::now() < deadline) {
        if (read_file(err_file).find(interrupt_on) != std::string::npos) {
          ::kill(pid, signal);
          interrupted = true;
        }
        continue;
      }
      if (ready > 0) break;
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) break;  // cannot watch: wait without a limit
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    ::close(pidfd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  return killed ? -1 : status;
}

}  // namespace

std::filesystem::path triage_binary() {
  return TRIAGE_BIN;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::filesystem::path write_file(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& text) {
  const auto path = dir / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return path;
}

RunResult run_triage(const std::vector<std::string>& args, const RunEnv& env) {
  const triage::test::TempDir dir;
  const std::string out_file = (dir.path() / "stdout").string();
  const std::string err_file = (dir.path() / "stderr").string();
  const std::string binary = triage_binary().string();

  std::vector<std::string> argv_text{binary};
  if (env.sigpipe_ignored)
    argv_text = {"/bin/sh", "-c", "trap '' PIPE; exec \"$0\" \"$@\"", binary};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text = child_environment(env);
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string in_file = "/dev/null";
  if (env.stdin_text) in_file = write_file(dir.path(), "stdin", *env.stdin_text).string();
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in_file.c_str(), O_RDONLY, 0);
  int pipe_fds[2] = {-1, -1};
  if (env.stdout_reader_gone) {
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    ::close(pipe_fds[0]);  // the reader goes before the child writes
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  } else if (!env.stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, env.stdout_path.c_str(), O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  // Default signal dispositions and an empty mask, whatever the test runner set.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attr, &signals);
  sigfillset(&signals);
  sigdelset(&signals, SIGKILL);
  sigdelset(&signals, SIGSTOP);
  posix_spawnattr_setsigdefault(&attr, &signals);

  pid_t pid = -1;
  const int rc =
      ::posix_spawn(&pid, argv_text[0].c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (pipe_fds[1] >= 0) ::close(pipe_fds[1]);
  if (rc != 0) throw std::runtime_error("cannot start " + binary + ": " + std::strerror(rc));

  RunResult result;
  const int status =
      wait_with_limit(pid, env.limit, env.interrupt_on_stderr, err_file, env.interrupt_signal);
  if (status < 0)
    result.exit_code = -1;
  else if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else
    result.exit_code = 128 + WTERMSIG(status);
  result.out = read_file(out_file);
  result.err = read_file(err_file);
  if (status < 0)
    result.err += "\n[test harness: killed after " + std::to_string(env.limit.count()) + " s]";
  return result;
}

}  // namespace triage::itest
