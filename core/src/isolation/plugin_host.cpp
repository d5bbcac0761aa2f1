// The plugin-host process: loads one plugin and runs its checks for the core,
// each on a thread of its own while it runs, answering over the socket the
// core gave it.
#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include "triage/core/address_space.hpp"
#include "triage/core/descendants.hpp"
#include "triage/core/exit_guard.hpp"
#include "triage/core/frame.hpp"
#include "triage/core/host_api.hpp"
#include "triage/core/host_protocol.hpp"
#include "triage/core/plugin_host.hpp"

namespace triage::core {

namespace {

// The end of a host: every process the plugin started dies with it.
[[noreturn]] void end_host() {
  kill_descendants();
  _exit(0);
}

class Channel {
 public:
  explicit Channel(int fd) : fd_(fd) {}
  // Thread safe. A failed write means the core is gone: leave at once.
  // Frames sent while another thread is writing are queued and written by
  // that thread in one go: many checks ending together cost one syscall.
  void send(std::uint8_t type, const nlohmann::json& payload) {
    std::string frame;
    encode_frame(type, payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                 frame);
    std::unique_lock lock(mutex_);
    queued_ += frame;
    if (writing_) return;
    writing_ = true;
    while (!queued_.empty()) {
      std::string batch;
      batch.swap(queued_);
      lock.unlock();
      write_all(batch);
      lock.lock();
    }
    writing_ = false;
  }

 private:
  void write_all(std::string_view bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) end_host();
      off += static_cast<std::size_t>(n);
    }
  }

  int fd_;
  std::mutex mutex_;
  std::string queued_;  // frames waiting for the writing thread
  bool writing_ = false;
};

// Forwards the host's log lines (the plugin's, through the host API) to the
// core, which logs them with its own sinks and redaction.
class ChannelSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ChannelSink(Channel& channel) : channel_(channel) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    channel_.send(protocol::kLog,
                  {{"level", static_cast<int>(msg.level)},
                   {"message", std::string(msg.payload.data(), msg.payload.size())}});
  }
  void flush_() override {}

 private:
  Channel& channel_;
};

// Runs each job at once on a thread of its own, reusing idle threads: a new
// thread starts only when none is idle, so a check never queues behind
// another (a hung one keeps its thread) and a steady stream of short checks
// costs no thread creation each. Threads end with the process (_exit).
class Workers {
 public:
  // False when no thread could be started for the job (out of memory, or
  // of threads): the job is dropped, for the caller to answer for it.
  bool post(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
    if (idle_ >= jobs_.size()) {
      ready_.notify_one();
      return true;
    }
    try {
      std::thread([this] { loop(); }).detach();
      return true;
    } catch (const std::system_error&) {
      jobs_.pop_back();
      return false;
    }
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [&] { return !jobs_.empty(); });
      --idle_;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      job = nullptr;  // release what it captured before waiting again
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::size_t idle_ = 0;  // threads waiting for a job
};

}  // namespace

int plugin_host_main(const HostArgs& args) {
  const int fd = args.fd;
  const std::filesystem::path& file = args.file;
  const int memory_limit_mb = args.memory_limit_mb;
  std::signal(SIGPIPE, SIG_IGN);
  // A daemon the plugin starts (setsid, double fork) comes back to us when
  // its parent dies, so that end_host() can still kill it.
  become_subreaper();
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // programs a plugin execs must not hold the channel
  // Within its own limit, or the one it inherited (`ulimit -v`).
  if (memory_limit_mb > 0)
    limit_address_space(memory_limit_mb);
  else
    fit_address_space();
  // The host ends only by _exit(); an exit() is the plugin's doing, and must
  // not pass for a clean end (HostProcess names status 70 as such).
  exit_guard::arm("the plugin " + file.filename().string() + " called exit() in its host");
  Channel channel(fd);
  auto logger = std::make_shared<spdlog::logger>("host", std::make_shared<ChannelSink>(channel));
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);

  PluginRegistry registry;
  registry.set_allow_insecure(args.allow_insecure);
  if (!registry.load_file(file) || registry.plugins().empty()) {
    const std::string reason =
        registry.problems().empty() ? "not loaded" : registry.problems().back().reason;
    channel.send(protocol::kHello, {{"refused", reason}});
    exit_guard::disarm();
    return 0;
  }
  const Plugin& plugin = *registry.plugins().front();
  channel.send(protocol::kHello, {{"plugin", protocol::plugin_to_json(plugin)}});

  std::mutex mutex;
  std::map<std::uint64_t, std::shared_ptr<Attempt>> running;
  std::map<std::string, std::unique_ptr<std::mutex>> serial;  // not thread-safe types
  for (const auto& t : plugin.types)
    if ((t.flags & TRIAGE_CHECK_THREAD_SAFE) == 0) serial[t.name] = std::make_unique<std::mutex>();

  // Never destroyed: its detached threads use it until the process _exits.
  auto& workers = *new Workers();
  FrameDecoder decoder;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    // The core closed the channel (end of run, or it died): checks still
    // running are abandoned with the process.
    if (n <= 0) end_host();
    decoder.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    while (auto frame = decoder.next()) {
      const auto msg = nlohmann::json::parse(frame->payload);
      const auto id = msg.at("id").get<std::uint64_t>();
      if (frame->type == protocol::kCancel) {
        std::lock_guard lock(mutex);
        if (auto it = running.find(id); it != running.end()) it->second->cancel();
        continue;
      }
      if (frame->type != protocol::kRun) continue;
      // Answers for a check the host could not run for want of memory (or
      // of a thread): a clean refusal, and the host lives on for the checks
      // that fit. If even that cannot be allocated, the host ends.
      auto refuse = [&](std::uint64_t check_id) {
        const std::string why =
            args.memory_limit_mb > 0
                ? "memory limit reached: the plugin host could not start the check within "
                  "memory_limit_mb " +
                      std::to_string(args.memory_limit_mb)
                : "the plugin host could not start the check (out of memory or threads)";
        Outcome refused;
        refused.error = why;
        channel.send(protocol::kDone, {{"id", check_id},
                                       {"rc", TRIAGE_RC_ERROR},
                                       {"outcome", protocol::outcome_to_json(refused)}});
        std::lock_guard lock(mutex);
        running.erase(check_id);
      };
      try {
        const auto type_name = msg.at("type").get<std::string>();
        const CheckType* type = plugin.find(type_name);
        const auto deadline = std::chrono::steady_clock::time_point(
            std::chrono::nanoseconds(msg.at("deadline_ns").get<std::int64_t>()));
        auto attempt = std::make_shared<Attempt>(msg.at("label").get<std::string>(), deadline);
        {
          std::lock_guard lock(mutex);
          running[id] = attempt;
        }
        std::mutex* serial_lock = serial.count(type_name) ? serial[type_name].get() : nullptr;
        // refuse is copied: this loop's copy is gone when the job runs.
        const bool started = workers.post([&, refuse, id, type, attempt, serial_lock,
                                           params = msg.at("params").get<std::string>()] {
          try {
            triage_rc rc = TRIAGE_RC_ERROR;
            if (type == nullptr) {
              attempt->set_error("plugin " + plugin.name + " has no such check type");
            } else {
              std::unique_lock<std::mutex> one_at_a_time;
              if (serial_lock != nullptr) one_at_a_time = std::unique_lock(*serial_lock);
              // The handle closes when run() returns, before take(): a
              // thread the check left behind can change nothing after.
              rc = type->run(host_api(), to_handle(*attempt, plugin.name), params.data(),
                             params.size(), type->user_data);
            }
            auto outcome = attempt->take();
            // The plugin's own std::bad_alloc, under a limit, is that limit.
            if (args.memory_limit_mb > 0 && outcome.error.find("bad_alloc") != std::string::npos)
              outcome.error = "memory limit reached (memory_limit_mb " +
                              std::to_string(args.memory_limit_mb) + "): " + outcome.error;
            nlohmann::json done{
                {"id", id}, {"rc", rc}, {"outcome", protocol::outcome_to_json(outcome)}};
            if (args.count_descendants)
              done["descendants"] = static_cast<int>(live_descendants(::getpid()).size());
            channel.send(protocol::kDone, done);
            std::lock_guard lock(mutex);
            running.erase(id);
          } catch (const std::bad_alloc&) {
            refuse(id);
          }
        });
        if (!started) refuse(id);
      } catch (const std::bad_alloc&) {
        refuse(id);
      }
    }
  }
}

}  // namespace triage::core
