// Permission checks on plugin files before they are loaded.
#include "triage/core/plugin_security.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace triage::core {

namespace {

constexpr const char* kOverride = "--allow-insecure-plugins";

std::string octal_mode(mode_t mode) {
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return buf.data();
}

std::string user_name(uid_t uid) {
  passwd pw{};
  passwd* found = nullptr;
  std::array<char, 4096> buf{};
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr)
    return found->pw_name;
  return {};
}

std::string uid_text(uid_t uid) {
  const std::string name = user_name(uid);
  return "uid " + std::to_string(uid) + (name.empty() ? "" : " (" + name + ")");
}

// What is wrong with one path, and how to fix it.
struct Problem {
  std::string what;  // "writable by others (mode 0666)"
  std::string fix;   // "chmod go-w FILE"; "" when there is no simple one
};

// What is wrong with a file or folder others may have written, by its stat.
// `sticky_ok`: a folder above the plugin's own, where a sticky one owned by
// root (like /tmp) cannot have its entries replaced by others.
std::optional<Problem> check_stat(const struct stat& st, const std::string& shown, bool sticky_ok) {
  const uid_t me = geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    const std::string name = me == 0 ? "root" : user_name(me);
    return Problem{"owned by " + uid_text(st.st_uid) +
                       ", not by root or the user running triage (" + uid_text(me) + ")",
                   "chown " + (name.empty() ? std::to_string(me) : name) + " " + shown};
  }
  if ((st.st_mode & (S_IWOTH | S_IWGRP)) == 0) return std::nullopt;
  if (sticky_ok && (st.st_mode & S_ISVTX) != 0 && st.st_uid == 0) return std::nullopt;
  std::string mode = "mode " + octal_mode(st.st_mode);
  if (sticky_ok) mode += (st.st_mode & S_ISVTX) != 0 ? ", sticky but not root's" : ", not sticky";
  return Problem{
      std::string((st.st_mode & S_IWOTH) != 0 ? "writable by others" : "writable by group") + " (" +
          mode + ")",
      "chmod go-w " + shown};
}

std::filesystem::path folder_of(const std::filesystem::path& file) {
  const auto parent = file.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// Closes a descriptor when it goes.
struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// One folder met on the way, and what it is to the plugin file.
struct Folder {
  std::string path;  // its real path
  struct stat st {};
};

std::string joined(const std::string& dir, const std::string& name) {
  if (name == "..") {
    const auto cut = dir.find_last_of('/');
    return cut == 0 || cut == std::string::npos ? "/" : dir.substr(0, cut);
  }
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

PluginFile::~PluginFile() {
  if (fd_ >= 0 && !keep_) ::close(fd_);
}

PluginFile::PluginFile(PluginFile&& other) noexcept
    : fd_(other.fd_), keep_(other.keep_), problem_(std::move(other.problem_)) {
  other.fd_ = -1;
}

std::string PluginFile::load_path() const {
  return "/proc/self/fd/" + std::to_string(fd_);
}

PluginFile PluginFile::open(const std::filesystem::path& file) {
  PluginFile out;
  auto fail = [&](const std::string& why) {
    out.problem_ = why + "; pass " + kOverride + " to load it anyway";
    return std::move(out);
  };
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(file, ec).lexically_normal();
  if (ec) return fail("cannot be checked (" + ec.message() + ")");
  // The names still to walk, front first.
  std::vector<std::string> names;
  for (const auto& part : absolute.relative_path()) names.push_back(part.string());
  std::reverse(names.begin(), names.end());

  Fd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) return fail("cannot be checked (/: " + errno_text() + ")");
  Folder here{"/", {}};
  ::fstat(dir.fd, &here.st);
  std::vector<Folder> above;                 // every folder met, but the two below
  std::optional<Folder> link_folder;         // where the plugin's own symbolic link is
  std::size_t original_left = names.size();  // names of the given path still to walk
  bool via_link = false;
  int links = 0;
  while (!names.empty()) {
    const std::string name = names.back();
    names.pop_back();
    const bool last = names.empty();
    const bool original_last = original_left == 1;
    if (original_left > 0) --original_left;
    if (name.empty() || name == ".") continue;
    Fd next(::openat(dir.fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (next.fd < 0)
      return fail(
          std::string(via_link ? "a symbolic link that cannot be followed" : "cannot be checked") +
          " (" + errno_text() + ")");
    struct stat st {};
    if (::fstat(next.fd, &st) != 0) return fail("cannot be checked (" + errno_text() + ")");
    if (S_ISLNK(st.st_mode)) {
      if (++links > 40) return fail("a symbolic link that cannot be followed (too many links)");
      std::string target(4096, '\0');
      const ssize_t n = ::readlinkat(dir.fd, name.c_str(), target.data(), target.size());
      if (n <= 0) return fail("a symbolic link that cannot be followed (" + errno_text() + ")");
      target.resize(static_cast<std::size_t>(n));
      if (original_last) {
        via_link = true;
        link_folder = here;
      }
      std::vector<std::string> more;
      for (const auto& part : std::filesystem::path(target).lexically_normal().relative_path())
        more.push_back(part.string());
      names.insert(names.end(), more.rbegin(), more.rend());
      if (!target.empty() && target.front() == '/') {
        above.push_back(here);
        dir = Fd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        here = Folder{"/", {}};
        ::fstat(dir.fd, &here.st);
      }
      continue;
    }
    if (!last) {
      if (!S_ISDIR(st.st_mode))
        return fail(std::string(via_link ? "a symbolic link that cannot be followed"
                                         : "cannot be checked") +
                    " (" + joined(here.path, name) + " is not a folder)");
      above.push_back(here);
      dir = std::move(next);
      here = Folder{joined(here.path, name), st};
      continue;
    }
    // The plugin file itself: opened for reading from the folder checked
    // (never blocking: a FIFO named x.so must not hang discovery).
    if (!S_ISREG(st.st_mode)) return fail("cannot be checked (not a regular file)");
    Fd readable(::openat(dir.fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (readable.fd < 0) return fail("cannot be checked (" + errno_text() + ")");
    struct stat opened {};
    if (::fstat(readable.fd, &opened) != 0) return fail("cannot be checked (" + errno_text() + ")");
    if (!S_ISREG(opened.st_mode)) return fail("cannot be checked (not a regular file)");
    const std::string real = joined(here.path, name);
    // In the order a reader fixes them: the file, its folder, then above.
    std::vector<std::pair<std::optional<Problem>, std::string>> checks;
    if (via_link) {
      checks.emplace_back(check_stat(link_folder->st, folder_of(file).string(), false),
                          "its folder " + folder_of(file).string());
      checks.emplace_back(check_stat(opened, real, false), "its link target " + real);
      checks.emplace_back(check_stat(here.st, here.path, false),
                          "the folder of its link target " + here.path);
    } else {
      checks.emplace_back(check_stat(opened, file.string(), false), "");
      checks.emplace_back(check_stat(here.st, folder_of(file).string(), false),
                          "its folder " + folder_of(file).string());
    }
    std::vector<std::string> seen{here.path};
    if (link_folder) seen.push_back(link_folder->path);
    for (auto it = above.rbegin(); it != above.rend(); ++it) {
      if (std::find(seen.begin(), seen.end(), it->path) != seen.end()) continue;
      seen.push_back(it->path);
      checks.emplace_back(check_stat(it->st, it->path, true), "the folder above it " + it->path);
    }
    out.fd_ = readable.fd;
    readable.fd = -1;
    for (const auto& [problem, subject] : checks) {
      if (!problem) continue;
      out.problem_ = (subject.empty() ? "" : subject + " is ") + problem->what +
                     "; fix with: " + problem->fix + ", or pass " + kOverride;
      break;
    }
    return out;
  }
  return fail("cannot be checked (not a file)");
}

std::optional<std::string> insecure_plugin_reason(const std::filesystem::path& file) {
  return PluginFile::open(file).problem();
}

bool first_insecure_warning(const std::filesystem::path& file) {
  static std::mutex mutex;
  static std::set<std::filesystem::path> warned;
  std::lock_guard lock(mutex);
  return warned.insert(file).second;
}

}  // namespace triage::core
