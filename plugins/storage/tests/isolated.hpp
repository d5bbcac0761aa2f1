// Runs a piece of a test in a forked child inside a private mount namespace,
// so the tmpfs and FUSE mounts it makes are invisible to every other process
// (other test binaries run in parallel, including a default `triage run` that
// checks every mounted filesystem). The child sends its answer back as JSON.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <triage/testing.hpp>

#include "bounded_statvfs.hpp"

namespace triage::storage::test {

// What a child run reported: `value` on success; otherwise `unavailable`
// (the machine refused namespaces or mounts: not root, no CAP_SYS_ADMIN)
// or `error` (the child failed, crashed or hung).
struct Isolated {
  std::optional<nlohmann::json> value;
  std::string unavailable;
  std::string error;
};

namespace detail {

inline std::string err_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

inline void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// The child side: answers with {"value": ...}, {"unavailable": ...} or {"error": ...}.
[[noreturn]] inline void child(int out, const std::function<bool(std::string&)>& setup,
                               const std::function<nlohmann::json()>& fn) {
  nlohmann::json answer;
  std::string why;
  if (!setup(why)) {
    answer["unavailable"] = why;
  } else {
    try {
      answer["value"] = fn();
    } catch (const std::exception& e) {
      const std::string what = e.what();
      if (what.rfind("unavailable: ", 0) == 0)
        answer["unavailable"] = what.substr(13);
      else
        answer["error"] = what;
    }
  }
  write_all(out, answer.dump());
  ::close(out);
  // _exit: no atexit handlers or Catch2 teardown in the child; a helper
  // thread stuck on a hung FUSE mount dies with the process.
  ::_exit(0);
}

inline Isolated fork_and_run(const std::function<bool(std::string&)>& setup,
                             const std::function<nlohmann::json()>& fn) {
  // fork() copies only this thread: make sure no statvfs helper thread of an
  // earlier test is holding the registry lock the child will need.
  const auto quiet_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (statvfs_in_flight() != 0 && std::chrono::steady_clock::now() < quiet_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {{}, {}, detail::err_text("pipe2")};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {{}, {}, detail::err_text("fork")};
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1], setup, fn);
  }
  ::close(fds[1]);
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return {{}, {}, "the child did not answer within a minute (killed)"};
  if (WIFSIGNALED(status))
    return {{}, {}, "the child died of signal " + std::to_string(WTERMSIG(status))};
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return {{}, {}, "the child sent no answer: '" + text + "'"};
  Isolated out;
  if (j.contains("value")) out.value = j["value"];
  if (j.contains("unavailable")) out.unavailable = j["unavailable"].get<std::string>();
  if (j.contains("error")) out.error = j["error"].get<std::string>();
  return out;
}

}  // namespace detail

// Forks; the child unshares its mount namespace, makes / recursively private
// and returns fn()'s JSON. fn may throw std::runtime_error("unavailable: ...")
// when a mount it needs is refused. The child is killed if it takes more than
// a minute.
inline Isolated in_private_mounts(const std::function<nlohmann::json()>& fn) {
  return detail::fork_and_run(
      [](std::string& why) {
        if (::unshare(CLONE_NEWNS) != 0) {
          why = detail::err_text("unshare(CLONE_NEWNS)");
          return false;
        }
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
          why = detail::err_text("mount --make-rprivate /");
          return false;
        }
        return true;
      },
      fn);
}

// Forks and runs fn() in a child with the uid/gid of nobody (65534), for
// permission tests when the tests run as root.
inline Isolated as_nobody(const std::function<nlohmann::json()>& fn) {
  return detail::fork_and_run(
      [](std::string& why) {
        if (::setgroups(0, nullptr) != 0 && errno != EPERM) {
          why = detail::err_text("setgroups");
          return false;
        }
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
          why = detail::err_text("setuid(nobody)");
          return false;
        }
        return true;
      },
      fn);
}

// Mounts a tmpfs of `size` (mount(8) syntax, "1m") on dir; throws
// runtime_error("unavailable: ...") when refused. flags as for mount(2).
inline void mount_tmpfs(const std::string& dir, const std::string& size, unsigned long flags = 0) {
  const std::string options = "size=" + size;
  if (::mount("tmpfs", dir.c_str(), "tmpfs", flags, options.c_str()) != 0)
    throw std::runtime_error("unavailable: " + detail::err_text(("mount tmpfs on " + dir).c_str()));
}

// Mounts a FUSE filesystem on dir whose daemon never answers: any statvfs or
// stat under it blocks until the returned /dev/fuse descriptor is closed.
inline int mount_hung_fuse(const std::string& dir) {
  const int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("unavailable: " + detail::err_text("open /dev/fuse"));
  const std::string options = "fd=" + std::to_string(fd) + ",rootmode=40000,user_id=0,group_id=0";
  if (::mount("triagetest", dir.c_str(), "fuse.triagetest", MS_NOSUID | MS_NODEV,
              options.c_str()) != 0) {
    const std::string why = detail::err_text("mount fuse");
    ::close(fd);
    throw std::runtime_error("unavailable: " + why);
  }
  return fd;
}

// The parts of a check result the tests assert on, as JSON.
inline nlohmann::json to_json(const triage::testing::Result& r) {
  nlohmann::json j;
  j["rc"] = r.rc;
  j["status"] = static_cast<int>(r.status());
  j["summary"] = r.summary;
  j["error"] = r.error;
  j["attributes"] = r.attributes;
  j["metrics"] = nlohmann::json::array();
  for (const auto& m : r.metrics)
    j["metrics"].push_back({{"name", m.name},
                            {"value", m.value},
                            {"unit", m.unit},
                            {"warning", m.default_warning},
                            {"critical", m.default_critical}});
  j["findings"] = nlohmann::json::array();
  for (const auto& f : r.findings)
    j["findings"].push_back({{"severity", static_cast<int>(f.severity)},
                             {"title", f.title},
                             {"detail", f.detail},
                             {"remediation", f.remediation}});
  return j;
}

// Back from JSON: enough for status(), metric(), finding() and attributes.
inline triage::testing::Result from_json(const nlohmann::json& j) {
  triage::testing::Result r;
  r.rc = j.at("rc").get<triage_rc>();
  // status() is the worst of this and the findings; the error wins anyway.
  r.reported_status = static_cast<Status>(j.at("status").get<int>());
  r.summary = j.at("summary").get<std::string>();
  r.error = j.at("error").get<std::string>();
  r.attributes = j.at("attributes").get<std::map<std::string, std::string>>();
  for (const auto& m : j.at("metrics"))
    r.metrics.push_back(
        {m.at("name"), m.at("value"), m.at("unit"), m.at("warning"), m.at("critical")});
  for (const auto& f : j.at("findings"))
    r.findings.push_back({static_cast<Severity>(f.at("severity").get<int>()), f.at("title"),
                          f.at("detail"), f.at("remediation")});
  return r;
}

// Creates `path` with `bytes` of content (sparse: ftruncate) and mtime set
// `age_s` seconds in the past.
inline void make_file(const std::string& path, long long bytes, double age_s = 0) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(detail::err_text(("create " + path).c_str()));
  const int rc = ::ftruncate(fd, bytes);
  ::close(fd);
  if (rc != 0) throw std::runtime_error(detail::err_text(("ftruncate " + path).c_str()));
  const auto now = std::chrono::system_clock::now() -
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(
                       std::chrono::duration<double>(age_s));
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
  times[0].tv_nsec = times[1].tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0)
    throw std::runtime_error(detail::err_text(("utimensat " + path).c_str()));
}

}  // namespace triage::storage::test
