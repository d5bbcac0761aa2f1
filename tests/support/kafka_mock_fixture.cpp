#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "internal.hpp"

namespace triage::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The tool answers every command within about 25 s (produce is its slowest);
// this only keeps a hung tool from stalling the test run.
constexpr std::chrono::milliseconds kAnswerTimeout{60'000};
// At EOF the tool destroys its clients and the cluster, well within this.
constexpr std::chrono::milliseconds kExitGrace{10'000};

fs::path tool_binary() {
  const fs::path bin = TRIAGE_KAFKA_MOCK_BIN;
  std::error_code ec;
  if (!fs::exists(bin, ec)) {
    throw std::runtime_error("the Kafka mock tool " + bin.string() +
                             " is missing: build the target triage_kafka_mock");
  }
  return bin;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Both ends close-on-exec: the tool gets only the ends dup2'ed onto its
// stdin and stdout, and no other child keeps our write end open (which would
// hide the EOF that stops the tool).
void make_pipe(int& read_end, int& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  read_end = fds[0];
  write_end = fds[1];
}

// As process.cpp's spawn (its own process group, default signal dispositions,
// an empty signal mask, no shell), but with stdin and stdout on the given pipe
// ends; stderr is appended to log_file.
pid_t spawn_tool(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd,
                 const fs::path& log_file) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  const std::string log = log_file.string();
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);

  posix_spawnattr_t attr;
  detail::init_service_attributes(attr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Writes all of data; false when the tool is gone. SIGPIPE is blocked for the
// write, and the one it raised is taken back, so that a dead tool fails the
// command instead of killing the test run.
bool write_all(int fd, const std::string& data) {
  sigset_t pipe_signal, saved, pending;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &saved);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;

  bool written = true;
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      written = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (!written && !was_pending) {
    const timespec now{0, 0};
    while (::sigtimedwait(&pipe_signal, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  return written;
}

// As run_command reports it: the exit code, or 128 + the signal.
int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::chrono::milliseconds remaining(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

}  // namespace

KafkaMock::KafkaMock(int brokers) {
  const fs::path bin = tool_binary();
  int stdin_read = -1, stdout_write = -1;
  make_pipe(stdin_read, to_tool_);
  try {
    make_pipe(from_tool_, stdout_write);
    pid_ = spawn_tool({bin.string(), "--brokers", std::to_string(brokers)}, stdin_read,
                      stdout_write, dir_.path() / "kafka_mock.log");
  } catch (...) {
    close_fd(stdin_read);
    close_fd(stdout_write);
    close_fd(to_tool_);
    close_fd(from_tool_);
    throw;
  }
  close_fd(stdin_read);
  close_fd(stdout_write);

  // Ready when the first line came: the tool prints it once the cluster
  // answered Metadata.
  const std::string line = read_line(detail::kStartTimeout);
  json ready;
  try {
    ready = json::parse(line);
  } catch (const json::exception&) {
    fail("triage_kafka_mock did not start (it printed: " + line + ")");
  }
  if (!ready.is_object() || !ready.contains("bootstrap")) {
    fail("triage_kafka_mock did not start: " +
         (ready.is_object() && ready.contains("error") ? ready["error"].dump() : line));
  }
  try {
    bootstrap_ = ready.at("bootstrap").get<std::string>();
    for (const auto& broker : ready.at("brokers")) {
      brokers_.push_back(
          {broker.at("id").get<std::int32_t>(), broker.at("port").get<std::uint16_t>()});
    }
  } catch (const json::exception& e) {
    fail("triage_kafka_mock printed an unexpected first line (" + std::string(e.what()) +
         "): " + line);
  }
  // Tests must never reach past loopback; the tool checks this too.
  std::string expected;
  for (const auto& broker : brokers_) {
    expected +=
        (expected.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(broker.port);
  }
  if (bootstrap_ != expected || brokers_.size() != static_cast<std::size_t>(brokers)) {
    fail("triage_kafka_mock's brokers are not " + std::to_string(brokers) +
         " brokers on 127.0.0.1 in id order: " + line);
  }
}

KafkaMock::~KafkaMock() {
  stop();
}

int KafkaMock::stop() {
  if (status_) return *status_;
  // EOF on its stdin: the tool destroys the cluster and exits.
  close_fd(to_tool_);
  const auto deadline = Clock::now() + kExitGrace;
  int status = 0;
  pid_t reaped = 0;
  while ((reaped = ::waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (reaped == 0) {
    // Still running, hence not reaped: its process group id is still its own.
    ::kill(-pid_, SIGKILL);
    while ((reaped = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
  }
  close_fd(from_tool_);
  status_ = reaped == pid_ ? exit_status(status) : -1;
  return *status_;
}

void KafkaMock::fail(const std::string& what) {
  // The conversation is out of step or over: end the tool now.
  if (!status_) {
    ::kill(-pid_, SIGKILL);
    stop();
  }
  throw std::runtime_error(what + "; its log:\n" +
                           detail::read_text(dir_.path() / "kafka_mock.log"));
}

std::string KafkaMock::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto end = pending_.find('\n');
    if (end != std::string::npos) {
      std::string line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      return line;
    }
    pollfd pfd{from_tool_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(remaining(deadline).count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      fail("triage_kafka_mock did not answer within " + std::to_string(timeout.count()) + " ms");
    }
    char buffer[4096];
    const ssize_t n = ::read(from_tool_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("triage_kafka_mock exited");
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
}

json KafkaMock::command(const json& cmd) {
  if (status_) throw std::runtime_error("KafkaMock: the tool was stopped");
  if (!write_all(to_tool_, cmd.dump() + "\n")) fail("triage_kafka_mock is gone");
  const std::string line = read_line(kAnswerTimeout);
  json answer;
  try {
    answer = json::parse(line);
  } catch (const json::exception&) {
    fail("triage_kafka_mock answered " + cmd.dump() + " with: " + line);
  }
  if (!answer.is_object() || !answer.contains("ok") || answer["ok"] != true) {
    const std::string error =
        answer.is_object() && answer.contains("error") && answer["error"].is_string()
            ? answer["error"].get<std::string>()
            : line;
    throw std::runtime_error("KafkaMock " + cmd.dump() + ": " + error);
  }
  return answer;
}

json KafkaMock::create_topic(const std::string& name, int partitions, int replicas) {
  return command(
      {{"cmd", "topic"}, {"name", name}, {"partitions", partitions}, {"replicas", replicas}});
}

void KafkaMock::broker_down(std::int32_t id) {
  command({{"cmd", "broker_down"}, {"id", id}});
}

void KafkaMock::broker_up(std::int32_t id) {
  command({{"cmd", "broker_up"}, {"id", id}});
}

void KafkaMock::set_rtt(std::int32_t id, int ms) {
  command({{"cmd", "rtt"}, {"id", id}, {"ms", ms}});
}

void KafkaMock::set_leader(const std::string& topic, std::int32_t partition, std::int32_t id) {
  command({{"cmd", "leader"}, {"topic", topic}, {"partition", partition}, {"id", id}});
}

std::int64_t KafkaMock::produce(const std::string& topic, std::int32_t partition, int count,
                                std::optional<std::int64_t> timestamp_ms) {
  json cmd{{"cmd", "produce"}, {"topic", topic}, {"partition", partition}, {"count", count}};
  if (timestamp_ms) cmd["timestamp_ms"] = *timestamp_ms;
  return command(cmd).at("high").get<std::int64_t>();
}

void KafkaMock::commit(const std::string& group, const std::string& topic, std::int32_t partition,
                       std::int64_t offset) {
  command({{"cmd", "commit"},
           {"group", group},
           {"topic", topic},
           {"partition", partition},
           {"offset", offset}});
}

}  // namespace triage::test
