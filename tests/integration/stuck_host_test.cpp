// A plugin host that SIGKILL cannot end: one of its threads waits in the
// kernel for a FUSE daemon that took the request and never answers (state D,
// as on a hung disk or NFS server). triage must write its report and exit
// without waiting for that process, and say it left it behind.
//
// The FUSE daemon is ours: it answers FUSE_INIT (so requests are no longer
// killable while queued) and then reads every request and answers none. The
// mount lives in a mount namespace private to one thread of this test and
// the triage it starts, so no other process ever sees it.
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::run_triage;
using triage::itest::RunResult;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

// A FUSE filesystem mounted on dir whose daemon answers FUSE_INIT and then
// holds every request unanswered until destroyed (which aborts the
// connection: every held request ends with an error, every waiter wakes).
class HungFuse {
 public:
  // Throws std::runtime_error("unavailable: ...") when /dev/fuse or the mount is refused.
  explicit HungFuse(const std::string& dir) : dir_(dir) {
    fd_ = ::open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) throw std::runtime_error("unavailable: open /dev/fuse: " + errno_text());
    const std::string options =
        "fd=" + std::to_string(fd_) + ",rootmode=40000,user_id=0,group_id=0";
    if (::mount("triagetest", dir.c_str(), "fuse.triagetest", MS_NOSUID | MS_NODEV,
                options.c_str()) != 0) {
      const std::string why = errno_text();
      ::close(fd_);
      throw std::runtime_error("unavailable: mount fuse: " + why);
    }
    if (::pipe2(stop_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2: " + errno_text());
    daemon_ = std::thread([this] { serve(); });
  }
  ~HungFuse() {
    const char byte = 0;
    (void)!::write(stop_[1], &byte, 1);
    daemon_.join();
    ::umount2(dir_.c_str(), MNT_DETACH);
    ::close(fd_);  // the last reference: the kernel aborts the connection
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  HungFuse(const HungFuse&) = delete;
  HungFuse& operator=(const HungFuse&) = delete;

  // Requests taken after FUSE_INIT and left unanswered.
  int held() const { return held_.load(); }

 private:
  static std::string errno_text() { return std::strerror(errno); }

  void serve() {
    // FUSE reads must offer room for the largest request the kernel may send.
    std::vector<char> buf(1 << 20 | 4096);
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
      if (p[1].revents != 0) return;
      const ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n < static_cast<ssize_t>(sizeof(fuse_in_header))) continue;
      fuse_in_header in{};
      std::memcpy(&in, buf.data(), sizeof in);
      if (in.opcode != FUSE_INIT) {
        ++held_;
        continue;
      }
      fuse_init_in init{};
      std::memcpy(&init, buf.data() + sizeof in,
                  std::min(sizeof init, static_cast<std::size_t>(n) - sizeof in));
      struct {
        fuse_out_header header;
        fuse_init_out init;
      } reply{};
      reply.header.len = sizeof reply;
      reply.header.unique = in.unique;
      reply.init.major = FUSE_KERNEL_VERSION;
      reply.init.minor = FUSE_KERNEL_MINOR_VERSION;
      reply.init.max_readahead = init.max_readahead;
      reply.init.max_write = 4096;
      (void)!::write(fd_, &reply, sizeof reply);
    }
  }

  std::string dir_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  std::atomic<int> held_{0};
  std::thread daemon_;
};

}  // namespace

TEST_CASE("a plugin host stuck in the kernel does not keep triage from exiting", "[stuck]") {
  TempDir dir;
  const std::string mount = (dir.path() / "hung").string();
  std::filesystem::create_directory(mount);
  const auto config = write_file(dir.path(), "triage.yaml",
                                 "checks:\n"
                                 "  - id: stuck-probe\n"
                                 "    plugin: storage\n"
                                 "    type: io_probe\n"
                                 "    params: { target: " +
                                     mount +
                                     " }\n"
                                     "    timeout: 1s\n");
  RunResult r;
  std::string unavailable, failed;
  int held = 0;
  // A thread of its own: unshare() moves only this thread (and what it
  // starts) into the private mount namespace.
  std::thread([&] {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      unavailable = std::string("private mount namespace: ") + std::strerror(errno);
      return;
    }
    try {
      HungFuse fuse(mount);
      // The watchdog ends a triage that waits for its host forever; the
      // FUSE daemon holds the request until then.
      triage::itest::RunEnv env;
      env.limit = std::chrono::seconds(60);
      r = run_triage({"run", "-c", config.string(), "-f", "json"}, env);
      held = fuse.held();
    } catch (const std::exception& e) {
      const std::string what = e.what();
      (what.rfind("unavailable: ", 0) == 0 ? unavailable : failed) = what;
    }
  }).join();
  REQUIRE(failed.empty());
  if (!unavailable.empty()) {
    WARN("FUSE unavailable here, test skipped: " << unavailable);
    return;
  }
  INFO(describe(r));
  // The check's thread really was stuck in the kernel while triage ran.
  REQUIRE(held >= 1);
  // triage ended on its own (the watchdog's -1 would mean it waited).
  CHECK(r.exit_code == 3);
  const auto report = parse_json(r.out);
  const auto& check = triage::itest::check_of(report, "stuck-probe");
  CHECK(check.at("status") == "unknown");
  CHECK(check.at("error").get<std::string>().find("timed out") != std::string::npos);
  // And it said what it left behind.
  CHECK(r.err.find("did not end within") != std::string::npos);
  CHECK(r.err.find("state D") != std::string::npos);
}
