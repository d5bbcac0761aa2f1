#include "fs_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

namespace triage::storage {

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

std::string errno_text(int err) {
  const char* name = strerrorname_np(err);
  return std::string(name != nullptr ? name : "errno " + std::to_string(err)) + " (" +
         std::strerror(err) + ")";
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || !std::isfinite(value) || value < 0) return std::nullopt;
  const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  double factor = 0;
  if (unit.empty() || unit == "s")
    factor = 1000;
  else if (unit == "ms")
    factor = 1;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else
    return std::nullopt;
  const double ms = value * factor;
  if (ms > 1e12) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(std::llround(ms)));
}

std::string human_duration(std::chrono::milliseconds d) {
  const long long ms = d.count();
  if (ms < 0) return "-" + human_duration(std::chrono::milliseconds(-ms));
  if (ms < 1000) return std::to_string(ms) + "ms";
  const long long s = ms / 1000;
  auto two = [](long long a, const char* ua, long long b, const char* ub) {
    return std::to_string(a) + ua + (b != 0 ? " " + std::to_string(b) + ub : std::string());
  };
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return two(s / 60, "m", s % 60, "s");
  if (s < 86400) return two(s / 3600, "h", (s % 3600) / 60, "m");
  return two(s / 86400, "d", (s % 86400) / 3600, "h");
}

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  std::size_t unit = 0;
  while (std::fabs(bytes) >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  char buf[48];
  if (unit == 0)
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", bytes, kUnits[unit]);
  return buf;
}

std::string one_decimal(double v) {
  char buf[48];
  if (std::fabs(v - std::round(v)) < 0.05)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

namespace {

// Deep enough for any real table layout; bounds the open folder handles.
constexpr int kMaxDepth = 64;

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

struct Walker {
  Context& ctx;
  bool recursive;
  std::int64_t max_files;
  const std::function<bool(const WalkEntry&)>& descend;
  const std::function<void(const WalkEntry&)>& visit;
  WalkResult result;

  // Walks the folder open as `fd` (taking ownership); false to stop the walk.
  bool folder(int fd, const std::string& prefix, int depth) {
    std::unique_ptr<DIR, DirCloser> dir(::fdopendir(fd));
    if (!dir) {
      ::close(fd);
      ++result.unreadable;
      return true;
    }
    while (const dirent* e = ::readdir(dir.get())) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      if (ctx.cancelled()) {
        result.end = WalkEnd::cancelled;
        return false;
      }
      struct stat st {};
      if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      WalkEntry entry;
      entry.name = e->d_name;
      entry.relative = prefix.empty() ? entry.name : prefix + "/" + entry.name;
      entry.size = static_cast<std::int64_t>(st.st_size);
      entry.mtime = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::seconds(st.st_mtim.tv_sec) +
              std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
      entry.directory = S_ISDIR(st.st_mode);
      entry.regular = S_ISREG(st.st_mode);
      if (entry.regular) {
        if (result.seen >= max_files) {
          result.end = WalkEnd::capped;
          return false;
        }
        ++result.seen;
        visit(entry);
      } else if (entry.directory && recursive && depth < kMaxDepth && descend(entry)) {
        // O_NOFOLLOW: the entry was a folder a moment ago; if it was swapped
        // for a symlink since, refuse rather than leave the tree.
        const int sub = ::openat(::dirfd(dir.get()), e->d_name,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
          ++result.unreadable;
          continue;
        }
        if (!folder(sub, entry.relative, depth + 1)) return false;
      }
    }
    return true;
  }
};

}  // namespace

void report_unreadable(Context& ctx, const WalkResult& walked, const std::string& root,
                       const std::string& what) {
  if (walked.unreadable == 0) return;
  ctx.attribute("unreadable_folders", std::to_string(walked.unreadable));
  ctx.finding(Severity::warning, "Subfolders not readable",
              std::to_string(walked.unreadable) + " subfolder(s) of " + root +
                  " could not be opened; " + what + " may be in them",
              "Run the check as a user allowed to read the whole tree, or fix the folders' "
              "modes (find " +
                  root + " -type d ! -readable).");
}

WalkResult walk(Context& ctx, const std::string& root, bool recursive, std::int64_t max_files,
                const std::function<bool(const WalkEntry&)>& descend,
                const std::function<void(const WalkEntry&)>& visit) {
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), root);
  Walker w{ctx, recursive, max_files, descend, visit, {}};
  w.folder(fd, "", 0);
  return w.result;
}

}  // namespace triage::storage
