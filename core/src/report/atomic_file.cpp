#include "triage/core/atomic_file.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace triage::core {

namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path.string());
}

// True once cancel turned true after `was` was read: a signal that came
// while the report was being written (one that came before it is the run's).
bool cancelled_now(const std::atomic<bool>* cancel, bool was) {
  return cancel != nullptr && !was && cancel->load();
}

// /dev/stdout, /dev/null, a FIFO: write in place. Renaming a file over them
// would replace the device node (as root) or fail. Non-blocking, so that a
// FIFO nobody reads yet (or a reader that stopped reading) holds the write
// only until cancel is set, never past a SIGTERM.
void write_in_place(const std::filesystem::path& path, std::string_view content,
                    const std::atomic<bool>* cancel) {
  const bool was = cancel != nullptr && cancel->load();
  auto interrupted = [&](const char* what) {
    errno = EINTR;
    fail(what, path);
  };
  int fd = -1;
  for (bool told = false;;) {
    // O_APPEND: /dev/stdout may be a file the shell opened, with output in it.
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) break;
    if (errno == EINTR) continue;
    if (errno != ENXIO) fail("cannot open", path);
    // A FIFO without a reader: wait for one, as a blocking open would.
    if (!told) spdlog::warn("waiting for a reader of the FIFO {}", path.string());
    told = true;
    if (cancelled_now(cancel, was)) interrupted("gave up waiting for a reader of");
    ::poll(nullptr, 0, 50);
  }
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (cancelled_now(cancel, was)) {
        ::close(fd);
        interrupted("gave up writing to");
      }
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      errno = saved;
      fail("cannot write", path);
    }
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

// Paths that name a descriptor or device, whatever they resolve to
// (/dev/stdout is a symlink to the terminal, a pipe or a file): written in
// place, never replaced.
bool names_a_device(const std::filesystem::path& path) {
  const std::string p = path.lexically_normal().string();
  return p.rfind("/dev/", 0) == 0 || p.rfind("/proc/", 0) == 0;
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           const std::atomic<bool>* cancel) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(status) &&
      (!std::filesystem::is_regular_file(status) || names_a_device(path)))
    return write_in_place(path, content, cancel);
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = mkstemp(tmp.data());
  if (fd < 0) fail("cannot create a temporary file beside", path);
  auto cleanup = [&] {
    const int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
  };
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      cleanup();
      fail("cannot write", path);
    }
    written += static_cast<std::size_t>(n);
  }
  // The mode of the file it replaces (a 0600 report stays private), else a
  // new file's: 0666 less the umask, like any file the user creates.
  mode_t mode = 0;
  if (!ec && std::filesystem::exists(status)) {
    struct stat old {};
    mode = ::stat(path.c_str(), &old) == 0 ? (old.st_mode & 07777) : 0644;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    cleanup();
    fail("cannot flush", path);
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail("cannot close", path);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    fail("cannot replace", path);
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace triage::core
