// The core's side of a plugin-host process: start it, talk to it, watch it,
// and kill and reap its whole process group when it dies or must go.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "triage/core/exit_guard.hpp"
#include "triage/core/frame.hpp"
#include "triage/core/host_protocol.hpp"
#include "triage/core/plugin_host.hpp"

extern char** environ;

namespace triage::core {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTermGrace = std::chrono::milliseconds(200);  // SIGTERM → SIGKILL
// SIGKILL ends a process within milliseconds unless one of its threads is in
// an uninterruptible kernel call (state D: a hung disk, FUSE or NFS mount).
// Waiting for that could take minutes, past any deadline: after this long
// the core stops waiting and leaves the process to end on its own.
constexpr auto kKillWait = std::chrono::seconds(1);

// A log line from a host: the host API's 4 KiB line with its "check X: "
// prefix, and room to spare.
constexpr std::size_t kLogMessageBytes = 8192;

std::string describe_status(int status) {
  if (status == HostProcess::kUnkillable)
    return "could not be killed (stuck in the kernel, state D)";
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return "crashed (" + (abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig)) +
           ")";
  }
  // The host's exit guard turns a plugin's exit() into this status.
  if (WIFEXITED(status) && WEXITSTATUS(status) == exit_guard::kExitUnsettled)
    return "called exit() (its host ended with status " + std::to_string(WEXITSTATUS(status)) + ")";
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended";
}

// Kills pid's group and reaps pid, waiting no longer than kKillWait for a
// process stuck in the kernel (left to init then).
void kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  const auto until = Clock::now() + kKillWait;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0 && Clock::now() < until) ::poll(nullptr, 0, 5);
}

// Reads one frame with a deadline; used only for the hello.
std::optional<Frame> read_frame(int fd, FrameDecoder& decoder, Clock::time_point deadline) {
  char buf[65536];
  for (;;) {
    if (auto frame = decoder.next()) return frame;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    decoder.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

}  // namespace

std::shared_ptr<HostProcess> HostProcess::start(const std::filesystem::path& file,
                                                const HostOptions& options, std::string& reason) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    reason = std::string("cannot create a socket for its host: ") + std::strerror(errno);
    return nullptr;
  }
  const std::string exe = options.executable.string();
  std::vector<std::string> args{exe,
                                "__plugin-host",
                                "--fd",
                                "3",
                                "--file",
                                file.string(),
                                "--memory-limit-mb",
                                std::to_string(options.memory_limit_mb)};
  if (options.allow_insecure) args.push_back("--allow-insecure-plugins");
  if (options.count_descendants) args.push_back("--count-descendants");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
  // A plugin's stray printf must not end up in the report on stdout, and
  // nothing it starts may hold the core's stdin, stdout or stderr open (a
  // `triage run | jq` would wait for it): the host's logs go over the
  // channel. Nothing else of the core's is inherited.
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, 4);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group: the core can kill it with everything it started,
  // and a Ctrl-C on the terminal reaches the core only.
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults, empty;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int err = posix_spawn(&pid, exe.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    reason = "cannot start its plugin host " + exe + ": " + std::strerror(err);
    return nullptr;
  }

  std::shared_ptr<HostProcess> host(new HostProcess());
  host->pid_ = pid;
  host->fd_ = fds[0];
  host->log_budget_ = options.log_budget;
  FrameDecoder decoder;
  std::optional<Frame> hello;
  const auto hello_deadline = Clock::now() + options.hello_timeout;
  try {
    const auto deadline = hello_deadline;
    // A plugin may log while it loads; those lines come before the hello.
    while ((hello = read_frame(host->fd_, decoder, deadline)) && hello->type == protocol::kLog) {
      const auto msg = nlohmann::json::parse(hello->payload, nullptr, false);
      if (msg.is_object() && msg.contains("message") && msg["message"].is_string() &&
          (!options.log_budget || options.log_budget->admit()))
        spdlog::debug("{}: {}", file.string(),
                      sanitize_utf8(std::string_view(msg["message"].get_ref<const std::string&>())
                                        .substr(0, kLogMessageBytes)));
    }
  } catch (const FrameError&) {
    hello.reset();
  }
  auto fail = [&](std::string why) {
    kill_and_reap(pid);
    ::close(host->fd_);
    host->fd_ = -1;
    host->dead_ = true;
    host->kill_requested_ = true;
    reason = std::move(why);
    return nullptr;
  };
  if (!hello || hello->type != protocol::kHello) {
    int status = 0;
    // It died while loading (a crash in the plugin's constructors or init):
    // the channel closes a moment before the process can be reaped, so wait
    // for it a little rather than misreport a crash as a silent host.
    bool exited = false;
    const bool channel_closed = Clock::now() < hello_deadline;
    for (int i = 0; i < 200 && channel_closed && !exited; ++i) {
      exited = ::waitpid(pid, &status, WNOHANG) == pid;
      if (!exited) ::poll(nullptr, 0, 10);
    }
    if (exited) {
      ::kill(-pid, SIGKILL);
      ::close(host->fd_);
      host->fd_ = -1;
      host->dead_ = true;
      reason = "its host " + describe_status(status) + " while loading it";
      return nullptr;
    }
    return fail("its host did not say hello within " +
                std::to_string(options.hello_timeout.count()) + " ms");
  }
  try {
    const auto msg = nlohmann::json::parse(hello->payload);
    if (msg.contains("refused")) {
      auto why = msg.at("refused").get<std::string>();
      kill_and_reap(pid);
      ::close(host->fd_);
      host->fd_ = -1;
      host->dead_ = true;
      host->kill_requested_ = true;
      reason = std::move(why);
      return nullptr;
    }
    host->plugin_ = protocol::plugin_from_json(msg.at("plugin"));
    host->plugin_.file = file;
  } catch (const std::exception& e) {
    return fail(std::string("its host sent a malformed hello: ") + e.what());
  }
  // Bytes after the hello may already be buffered: the monitor goes on from them.
  host->monitor_ =
      std::thread([h = host.get(), d = std::move(decoder)]() mutable { h->monitor(std::move(d)); });
  return host;
}

HostProcess::~HostProcess() {
  stopping_ = true;
  if (!dead_.load()) {
    // Closing the channel tells the host to leave; kill it if it does not.
    // (Flag first: the monitor must not mistake that exit for a crash.)
    kill_requested_ = true;
    ::shutdown(fd_, SHUT_RDWR);
  }
  if (monitor_.joinable()) monitor_.join();
  if (fd_ >= 0) ::close(fd_);
}

std::string HostProcess::exit_description() const {
  std::lock_guard lock(const_cast<std::mutex&>(mutex_));
  return describe_status(exit_status_);
}

bool HostProcess::send(std::uint8_t type, const nlohmann::json& payload) {
  std::string frame;
  encode_frame(type, payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), frame);
  // Frames sent while another thread is writing are queued and written by
  // that thread in one go: checks submitted together cost one syscall. A
  // queued frame's failure is not seen by its sender; nor need it be, the
  // monitor settles every check of a host that stopped reading.
  std::unique_lock lock(write_mutex_);
  write_queue_ += frame;
  if (writing_) return true;
  writing_ = true;
  bool ok = true;
  while (!write_queue_.empty()) {
    std::string batch;
    batch.swap(write_queue_);
    lock.unlock();
    std::size_t off = 0;
    while (ok && off < batch.size()) {
      const ssize_t n = ::send(fd_, batch.data() + off, batch.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok = false;
      off += static_cast<std::size_t>(std::max<ssize_t>(n, 0));
    }
    lock.lock();
  }
  writing_ = false;
  return ok;
}

std::shared_ptr<HostProcess::Pending> HostProcess::submit(const std::string& label,
                                                          const std::string& type,
                                                          const std::string& params,
                                                          Clock::time_point deadline) {
  auto pending = std::make_shared<Pending>();
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    if (dead_.load()) {
      pending->done = pending->lost = true;
      pending->collateral = kill_requested_.load();
      pending->lost_reason = kill_requested_.load() ? kill_reason_ : describe_status(exit_status_);
      return pending;
    }
    id = next_id_++;
    pending_[id] = pending;
    ids_[pending.get()] = id;
  }
  const auto deadline_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  send(protocol::kRun, {{"id", id},
                        {"label", label},
                        {"type", type},
                        {"params", params},
                        {"deadline_ns", deadline_ns}});
  // A failed send means the host is dying: the monitor will settle it.
  return pending;
}

void HostProcess::cancel(const std::shared_ptr<Pending>& pending) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = ids_.find(pending.get());
    if (it == ids_.end()) return;
    id = it->second;
  }
  send(protocol::kCancel, {{"id", id}});
}

void HostProcess::kill(const std::string& why) {
  std::lock_guard lock(mutex_);
  if (kill_requested_.exchange(true)) return;
  kill_reason_ = why;
}

void HostProcess::finish_all(const std::string& reason, bool collateral) {
  std::map<std::uint64_t, std::shared_ptr<Pending>> pending;
  std::uint64_t submitted = 0;
  {
    std::lock_guard lock(mutex_);
    pending.swap(pending_);
    ids_.clear();
    submitted = next_id_ - 1;
  }
  const int in_flight = static_cast<int>(pending.size());
  // A check that ran earlier in this host may have left a thread behind
  // that ended it: then no check in flight had the host to itself.
  const bool shared = in_flight > 1 || submitted > pending.size();
  for (auto& [id, p] : pending) {
    std::lock_guard lock(p->mutex);
    p->done = p->lost = true;
    p->collateral = collateral;
    p->lost_reason = reason;
    p->in_flight = in_flight;
    p->shared = shared;
    p->done_cv.notify_all();
  }
}

void HostProcess::monitor(FrameDecoder decoder) {
  drain(decoder);
  char buf[65536];
  bool eof = false;
  std::optional<Clock::time_point> term_sent, kill_sent;
  for (;;) {
    if (kill_requested_.load()) {
      const auto now = Clock::now();
      if (!term_sent) {
        ::kill(-pid_, SIGTERM);
        term_sent = now;
      } else if (!kill_sent && now - *term_sent > kTermGrace) {
        ::kill(-pid_, SIGKILL);
        kill_sent = now;
      } else if (kill_sent && now - *kill_sent > kKillWait) {
        return give_up();
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      // Whatever it started goes with it: no orphans survive their host.
      ::kill(-pid_, SIGKILL);
      {
        std::lock_guard lock(mutex_);
        exit_status_ = status;
      }
      dead_ = true;
      const bool requested = kill_requested_.load();
      if (!requested) spdlog::warn("plugin {}: host {}", plugin_.name, describe_status(status));
      finish_all(requested && !stopping_.load() ? kill_reason_ : describe_status(status),
                 requested);
      return;
    }
    if (eof) {
      ::poll(nullptr, 0, 10);
      continue;
    }
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 50);
    if (r <= 0) continue;
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = true;
      continue;
    }
    decoder.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    drain(decoder);
  }
}

void HostProcess::give_up() {
  // Its group was sent SIGKILL; whatever else it started is gone already or
  // will go with it. It is left unreaped: it ends when its kernel call
  // returns, and init reaps it once triage has exited.
  spdlog::warn(
      "plugin {}: its host (pid {}) did not end within {} ms of SIGKILL: a thread is stuck in "
      "the kernel (state D in ps: a hung disk, FUSE or network mount?); not waiting for it",
      plugin_.name, pid_, std::chrono::duration_cast<std::chrono::milliseconds>(kKillWait).count());
  {
    std::lock_guard lock(mutex_);
    exit_status_ = kUnkillable;
  }
  dead_ = true;
  finish_all(stopping_.load() ? describe_status(kUnkillable) : kill_reason_, true);
}

void HostProcess::drain(FrameDecoder& decoder) {
  if (kill_requested_.load()) return;  // what it says now is moot
  {
    try {
      while (auto frame = decoder.next()) {
        const auto msg = nlohmann::json::parse(frame->payload);
        if (frame->type == protocol::kLog) {
          // The host's own caps are the plugin's word: the core bounds and
          // cleans what it logs again.
          if (log_budget_ && !log_budget_->admit()) continue;
          const int level = msg.at("level").get<int>();
          const auto message = msg.at("message").get<std::string>();
          spdlog::log(static_cast<spdlog::level::level_enum>(std::clamp(level, 0, 5)), "{}",
                      sanitize_utf8(std::string_view(message).substr(0, kLogMessageBytes)));
          continue;
        }
        if (frame->type != protocol::kDone) continue;
        std::shared_ptr<Pending> pending;
        {
          std::lock_guard lock(mutex_);
          auto it = pending_.find(msg.at("id").get<std::uint64_t>());
          if (it == pending_.end()) continue;
          pending = it->second;
          ids_.erase(pending.get());
          pending_.erase(it);
        }
        std::lock_guard lock(pending->mutex);
        pending->rc = msg.at("rc").get<triage_rc>();
        pending->outcome = msg.at("outcome");
        if (const auto it = msg.find("descendants"); it != msg.end() && it->is_number_integer())
          pending->descendants = it->get<int>();
        pending->done = true;
        pending->done_cv.notify_all();
      }
    } catch (const std::exception& e) {
      // A host that speaks garbage is as good as dead.
      spdlog::warn("plugin {}: host sent a malformed message ({}); killing it", plugin_.name,
                   e.what());
      kill("its host sent a malformed message");
    }
  }
}

}  // namespace triage::core
