// The io_probe check: writes a file of `size` bytes in `target`, fsyncs it,
// drops it from the page cache, reads it back and compares, then deletes it,
// timing each step. The probe file is removed on every path out, success or not;
// one left by a probe whose process was killed or stuck in the kernel is
// removed by the next probe of the folder.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "checks.hpp"
#include "fs_util.hpp"
#include "io_errors.hpp"

namespace triage::storage {

const char* const IoProbeCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "io_probe check params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "minLength": 1,
      "description": "The folder to probe (absolute path). A hidden file .triage-io-probe-* is created in it and always deleted afterwards."
    },
    "size": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1073741824,
      "default": 1048576,
      "description": "Bytes written, fsynced and read back (1 B to 1 GiB). Larger sizes measure throughput rather than latency and take longer than a default 5 s timeout on slow disks."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})json";

namespace {
constexpr const char* kSlowDisk =
    "Slow storage: check the device's latency and queue (iostat -x 1: await, %util), other "
    "heavy writers on it, and for network storage the path to the server.";
constexpr MetricDecl kMetrics[] = {
    metric("write_ms", "ms", "Creating the file and writing `size` bytes (into the page cache)")
        .remediation("Writes into the page cache are slow when memory is short or dirty pages "
                     "are being flushed: check free memory and writeback (vmstat 1)."),
    metric("fsync_ms", "ms", "fsync(): until the data is on stable storage").remediation(kSlowDisk),
    metric("read_ms", "ms", "Opening the file again and reading it back").remediation(kSlowDisk),
};
}  // namespace

const Metrics IoProbeCheck::metrics{kMetrics};

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::int64_t kMaxSize = 1LL << 30;

// Deletes the probe file when the check leaves, whatever the path out.
class ProbeFile {
 public:
  explicit ProbeFile(std::string path) : path_(std::move(path)) {}
  ~ProbeFile() {
    if (created_) ::unlink(path_.c_str());
  }
  ProbeFile(const ProbeFile&) = delete;
  ProbeFile& operator=(const ProbeFile&) = delete;
  void created() { created_ = true; }
  // Deletes it now; 0 or the errno.
  int remove() {
    created_ = false;
    return ::unlink(path_.c_str()) == 0 ? 0 : errno;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool created_ = false;
};

constexpr std::string_view kProbePrefix = ".triage-io-probe-";

std::string probe_name() {
  std::random_device rd;
  const auto salt = (static_cast<unsigned long long>(rd()) << 32) | rd();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%d-%016llx", kProbePrefix.data(), static_cast<int>(::getpid()),
                salt);
  return buf;
}

// The pid in a probe file's name (".triage-io-probe-<pid>-<16 hex digits>"),
// or 0 when the name is not one of ours.
pid_t probe_owner(std::string_view name) {
  if (name.substr(0, kProbePrefix.size()) != kProbePrefix) return 0;
  name.remove_prefix(kProbePrefix.size());
  const auto dash = name.find('-');
  if (dash == std::string_view::npos || name.size() - dash - 1 != 16) return 0;
  for (const char c : name.substr(dash + 1))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  int pid = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + dash, pid);
  if (ec != std::errc() || end != name.data() + dash || pid <= 0) return 0;
  return pid;
}

// A probe still being written keeps its file's mtime fresh; one whose
// process is gone for longer than this is left over.
constexpr auto kStaleAfter = std::chrono::seconds(10);
// Folder entries looked at before giving up on leftovers (a huge folder).
constexpr std::int64_t kMaxScanned = 1'000'000;

struct Leftovers {
  std::vector<std::string> names;
  std::int64_t bytes = 0;
};

// Removes the probe files in dir that an earlier probe left: named like ours,
// regular files of this user, not modified for kStaleAfter, and whose process
// no longer exists. A file of another user, or of a process still alive (it
// may be stuck in fsync and remove its file yet), is left alone.
Leftovers remove_leftovers(Context& ctx, const std::string& dir) {
  Leftovers out;
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return out;  // the probe itself reports why
  DIR* d = ::fdopendir(dfd);
  if (d == nullptr) {
    ::close(dfd);
    return out;
  }
  const auto stale_before = std::chrono::system_clock::now() - kStaleAfter;
  std::int64_t scanned = 0;
  while (const dirent* e = ::readdir(d)) {
    if (++scanned > kMaxScanned || (scanned % 4096 == 0 && ctx.cancelled())) break;
    const pid_t pid = probe_owner(e->d_name);
    if (pid == 0 || pid == ::getpid()) continue;
    struct stat st {};
    if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != ::geteuid())
      continue;
    const auto mtime = std::chrono::system_clock::time_point(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    if (mtime > stale_before) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;
    if (::unlinkat(dfd, e->d_name, 0) != 0) continue;
    out.names.emplace_back(e->d_name);
    out.bytes += st.st_size;
  }
  ::closedir(d);
  return out;
}

void report_leftovers(Context& ctx, const std::string& dir, const Leftovers& left) {
  ctx.attribute("leftover_probe_files_removed", std::to_string(left.names.size()));
  if (left.names.empty()) return;
  std::string names;
  for (std::size_t i = 0; i < left.names.size() && i < 5; ++i)
    names += (i ? ", " : "") + left.names[i];
  if (left.names.size() > 5) names += ", ...";
  ctx.finding(Severity::warning,
              "Removed " + std::to_string(left.names.size()) +
                  " probe file(s) an earlier io_probe left in " + dir,
              names + " (" + human_bytes(static_cast<double>(left.bytes)) +
                  "): the probe that wrote them never finished, its process was killed or stuck "
                  "in the kernel",
              "An earlier probe of this folder hung past its deadline: look for hung tasks and "
              "I/O errors in dmesg ('blocked for more than 120 seconds'), a hung mount or "
              "server (findmnt; for NFS/SMB/FUSE the server's health), or a throttled device.");
}

}  // namespace

void IoProbeCheck::run(Context& ctx) {
  const std::string dir = ctx.target();
  if (dir.empty() || dir.front() != '/')
    throw ParamError("param 'target' must be an absolute folder path, got '" + dir + "'");
  const auto size = ctx.param<std::int64_t>("size", 1 << 20);
  if (size < 1 || size > kMaxSize)
    throw ParamError("param 'size' must be from 1 to " + std::to_string(kMaxSize) + " bytes");

  const Leftovers leftovers = remove_leftovers(ctx, dir);
  report_leftovers(ctx, dir, leftovers);

  ProbeFile file(dir + (dir.back() == '/' ? "" : "/") + probe_name());
  auto fail = [&](int err, std::string_view step) {
    const IoFinding f = io_error_finding(err, step, file.path(), dir);
    ctx.finding(f.severity, f.title, f.detail, f.remediation);
    ctx.status(Status::critical, dir + ": " + std::string(step) + " failed, " + errno_text(err));
  };
  auto cancelled = [&](std::string_view step) {
    ctx.error("cancelled during " + std::string(step) + " of " + file.path());
  };

  // A pattern that a stale cache, a zero-filled block or a shifted read all fail.
  std::vector<unsigned char> pattern(kChunk);
  std::mt19937 gen(static_cast<unsigned>(size));
  for (auto& b : pattern) b = static_cast<unsigned char>(gen());

  const auto t0 = std::chrono::steady_clock::now();
  Fd fd(::open(file.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return fail(errno, "create");
  file.created();
  for (std::int64_t done = 0; done < size;) {
    if (ctx.cancelled()) return cancelled("write");
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(kChunk, size - done));
    const ssize_t w = ::write(fd.get(), pattern.data(), n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return fail(errno, "write");
    done += w;
  }
  const double write_ms = ms_since(t0);

  const auto t1 = std::chrono::steady_clock::now();
  if (::fsync(fd.get()) != 0) return fail(errno, "fsync");
  const double fsync_ms = ms_since(t1);
  // Clean pages may now be dropped, so the read comes from the device rather
  // than memory where the filesystem allows it (best effort).
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  if (::close(fd.release()) != 0) return fail(errno, "write");

  const auto t2 = std::chrono::steady_clock::now();
  Fd in(::open(file.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!in.valid()) return fail(errno, "read");
  std::vector<unsigned char> buf(kChunk);
  std::int64_t done = 0;
  while (done < size) {
    if (ctx.cancelled()) return cancelled("read");
    const auto want = static_cast<std::size_t>(std::min<std::int64_t>(kChunk, size - done));
    const ssize_t r = ::read(in.get(), buf.data(), want);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail(errno, "read");
    if (r == 0) break;
    // Every chunk was written from the start of the pattern, so byte k of
    // the file is pattern[k % kChunk].
    const auto off = static_cast<std::size_t>(done % static_cast<std::int64_t>(kChunk));
    bool same = true;
    for (std::size_t i = 0; i < static_cast<std::size_t>(r) && same; ++i)
      same = buf[i] == pattern[(off + i) % kChunk];
    if (!same) {
      ctx.finding(Severity::critical, "Data read back differs from data written",
                  file.path() + ": mismatch within bytes " + std::to_string(done) + "-" +
                      std::to_string(done + r) + " after a successful fsync",
                  "Silent corruption: check dmesg and the disk's health (smartctl -a), the "
                  "storage controller/cache, or the file server; do not trust recent writes "
                  "on this filesystem until explained.");
      return ctx.status(Status::critical, dir + ": read-back mismatch");
    }
    done += r;
  }
  const double read_ms = ms_since(t2);
  if (done != size) {
    ctx.finding(Severity::critical, "Data read back is short",
                file.path() + ": wrote and fsynced " + std::to_string(size) + " bytes, read " +
                    std::to_string(done),
                "The filesystem lost data after fsync: check dmesg and the device or server.");
    return ctx.status(Status::critical, dir + ": short read-back");
  }
  in = Fd();
  if (const int err = file.remove(); err != 0) return fail(err, "delete");

  ctx.metric("write_ms", write_ms, "ms");
  ctx.metric("fsync_ms", fsync_ms, "ms");
  ctx.metric("read_ms", read_ms, "ms");
  ctx.attribute("size_bytes", std::to_string(size));
  ctx.status(Status::ok, dir + ": wrote " + human_bytes(static_cast<double>(size)) + " in " +
                             one_decimal(write_ms) + " ms, fsync " + one_decimal(fsync_ms) +
                             " ms, read back in " + one_decimal(read_ms) + " ms");
}

}  // namespace triage::storage
