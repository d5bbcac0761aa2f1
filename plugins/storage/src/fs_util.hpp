// Small helpers shared by the storage plugin's local checks: errno text,
// duration and size parsing, number formatting, and a bounded directory walk
// that never follows symlinks and stops when the check is cancelled.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <triage/plugin.hpp>

namespace triage::storage {

// Owns one file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// "ENOSPC (No space left on device)".
std::string errno_text(int err);

// A duration in the core config's syntax: a non-negative number with an
// optional unit ms, s (the default), m or h ("90", "1.5s", "5m", "24h").
// nullopt when malformed. The plugin cannot link the core, so this mirrors
// core/src/config/duration.cpp.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// A duration as text for people: "950ms", "42s", "5m 3s", "2h 10m", "3d 4h".
std::string human_duration(std::chrono::milliseconds d);

// A byte count as text for people: "512 B", "1.5 KiB", "32.0 MiB".
std::string human_bytes(double bytes);

// A number with at most one decimal: "12.5", "80".
std::string one_decimal(double v);

// Milliseconds elapsed since `start`.
double ms_since(std::chrono::steady_clock::time_point start);

// One entry seen by walk(): its path relative to the walked root ("a/b.parquet")
// and what lstat said of it.
struct WalkEntry {
  std::string relative;
  std::string name;
  std::int64_t size = 0;
  std::chrono::system_clock::time_point mtime;
  bool directory = false;
  bool regular = false;
};

enum class WalkEnd { done, cancelled, capped };

struct WalkResult {
  WalkEnd end = WalkEnd::done;
  std::int64_t seen = 0;        // regular files visited
  std::int64_t unreadable = 0;  // subfolders that could not be opened
};

// Visits the regular files under `root` (recursively when `recursive`),
// opening each folder relative to its parent with O_NOFOLLOW so a symlink
// never leads out of the tree. `descend` decides whether to enter a subfolder
// (given its relative path and name). Stops after `max_files` regular files or
// when ctx.cancelled(). Throws std::system_error when root itself cannot be
// opened (errno in code()).
// When a walk could not open some subfolders (permissions), says so: the
// attribute `unreadable_folders` and a warning finding, as what they hold
// was not looked at. `what` says what could be missed ("a newer file").
void report_unreadable(Context& ctx, const WalkResult& walked, const std::string& root,
                       const std::string& what);

WalkResult walk(Context& ctx, const std::string& root, bool recursive, std::int64_t max_files,
                const std::function<bool(const WalkEntry&)>& descend,
                const std::function<void(const WalkEntry&)>& visit);

}  // namespace triage::storage
