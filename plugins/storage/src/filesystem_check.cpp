// The filesystem check: usage, inodes and writability of one filesystem (the
// one holding `target`) or of every real mounted filesystem (`all`). statvfs
// runs on helper threads bounded by the deadline (bounded_statvfs.hpp), so a
// stale network mount is reported "not responding" instead of hanging the run.
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bounded_statvfs.hpp"
#include "checks.hpp"
#include "fs_util.hpp"
#include "mounts.hpp"

namespace triage::storage {

const char* const FilesystemCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "filesystem check params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "minLength": 1,
      "description": "An absolute path (the filesystem holding it is checked), or \"all\" for every mounted filesystem except pseudo ones (proc, sysfs, cgroup, devpts, squashfs images, container overlay layers, tmpfs unless include_tmpfs)."
    },
    "include_tmpfs": {
      "type": "boolean",
      "default": false,
      "description": "With target \"all\", also check tmpfs, ramfs and devtmpfs mounts (RAM-backed: a full /dev/shm or /run breaks programs too)."
    },
    "exclude_types": {
      "type": "array",
      "items": { "type": "string", "minLength": 1 },
      "default": [],
      "description": "With target \"all\", filesystem types to skip as well (e.g. [\"nfs4\", \"cifs\"] when network mounts are checked elsewhere)."
    },
    "expect_writable": {
      "type": "boolean",
      "default": false,
      "description": "The filesystem must be mounted read-write: a read-only one (e.g. ext4 remounted ro after I/O errors) is critical. With \"all\", applies to every mount checked."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})json";

namespace {
// Runbook levels: quota warning at 80 %, resource pressure critical past 85-90 %.
// The per-mount metrics declare no default ranges on purpose (see
// docs/filesystem.md): the aggregate, the fullest mount, carries them.
constexpr const char* kSpaceRemediation =
    "Free space before it runs out: find what grew (du -xh --max-depth=2 MOUNT | sort -h | "
    "tail), remove or archive old data and rotated logs, or grow the filesystem.";
constexpr const char* kInodeRemediation =
    "Too many files, not too many bytes: find the folders holding most files (du --inodes -x "
    "MOUNT | sort -n | tail), clean up small-file spools and caches, or recreate the filesystem "
    "with more inodes.";
constexpr MetricDecl kMetrics[] = {
    metric("used_pct", "%", "Blocks used as df computes them (with target all: the fullest mount)")
        .warning("80")
        .critical("90")
        .remediation(kSpaceRemediation),
    metric("free_bytes", "B",
           "Bytes available to unprivileged users (with target all: the least of all mounts)")
        .remediation(kSpaceRemediation),
    metric("inodes_used_pct", "%",
           "Inodes used (with target all: the highest of all mounts); absent without an inode "
           "count")
        .warning("80")
        .critical("90")
        .remediation(kInodeRemediation),
    metric("used_pct[*]", "%", "With target all: used_pct of each mount, e.g. used_pct[/var]")
        .remediation(kSpaceRemediation),
    metric("free_bytes[*]", "B", "With target all: free_bytes of each mount")
        .remediation(kSpaceRemediation),
    metric("inodes_used_pct[*]", "%", "With target all: inodes_used_pct of each mount")
        .remediation(kInodeRemediation),
};
}  // namespace

const Metrics FilesystemCheck::metrics{kMetrics};

namespace {

// Runbook: quota warning at 80 %, resource pressure above 85-90 % is critical.
constexpr Thresholds kUsageDefaults{"80", "90"};

struct Usage {
  double used_pct = 0;
  double free_bytes = 0;
  std::optional<double> inodes_used_pct;  // absent when the fs has no inode count
  bool read_only = false;
};

Usage usage_of(const struct statvfs& st, bool mount_read_only) {
  Usage u;
  const double frsize = st.f_frsize != 0 ? static_cast<double>(st.f_frsize) : st.f_bsize;
  const double used = static_cast<double>(st.f_blocks - st.f_bfree);
  const double avail = static_cast<double>(st.f_bavail);
  // df's formula: the blocks reserved for root count as neither used nor
  // available, so 100 % means "full for ordinary users".
  u.used_pct = used + avail > 0 ? 100.0 * used / (used + avail) : 0;
  u.free_bytes = avail * frsize;
  if (st.f_files > 0)
    u.inodes_used_pct =
        100.0 * static_cast<double>(st.f_files - st.f_ffree) / static_cast<double>(st.f_files);
  u.read_only = mount_read_only || (st.f_flag & ST_RDONLY) != 0;
  return u;
}

std::string describe(const std::string& mp, const Usage& u) {
  std::string s =
      mp + " " + one_decimal(u.used_pct) + "% used, " + human_bytes(u.free_bytes) + " free";
  if (u.inodes_used_pct) s += ", inodes " + one_decimal(*u.inodes_used_pct) + "% used";
  if (u.read_only) s += ", read-only";
  return s;
}

// Leave the caller a moment after the last wait to write its results.
std::chrono::steady_clock::time_point wait_deadline(const Context& ctx) {
  const auto left = ctx.remaining();
  const auto margin = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(100), left / 5);
  return std::chrono::steady_clock::now() + (left - margin);
}

void not_responding(Context& ctx, const Mount& m, const std::string& path,
                    std::chrono::milliseconds waited) {
  ctx.finding(Severity::critical, "Mount not responding: " + m.mount_point,
              "statvfs(" + path + ") on " + m.fs_type + " " + m.device + " did not answer within " +
                  human_duration(waited) +
                  "; anything that touches this path (ls, df, backups, services) hangs as well",
              "The server behind the mount is down or unreachable, or its FUSE daemon hung: check "
              "the file server and the network path to it (tcp/route checks on its address). To "
              "release what is stuck and stop new hangs, unmount it lazily (umount -l " +
                  m.mount_point +
                  "; for NFS also umount -f), then remount once the server answers.");
}

void failed(Context& ctx, const Mount& m, const std::string& path, int err, bool single) {
  if (err == ENOENT && single) {
    ctx.finding(Severity::critical, "Path not found: " + path,
                path + " does not exist (it would be on " + m.mount_point + ", " + m.fs_type + ")",
                "Check the path in the config, and whether the filesystem that should hold it is "
                "mounted (findmnt; mount -a).");
    return;
  }
  const bool broken = err == ESTALE || err == EIO || err == ENOTCONN;
  ctx.finding(broken ? Severity::critical : Severity::warning,
              (broken ? "Mount broken: " : "Cannot read filesystem: ") + m.mount_point,
              "statvfs(" + path + ") on " + m.fs_type + " " + m.device + ": " + errno_text(err),
              broken ? "The mount lost its backing store (stale NFS handle, I/O error, dead FUSE "
                       "daemon): unmount it (umount -l " +
                           m.mount_point +
                           ") and remount; for I/O errors check dmesg and the disk's health."
                     : "Check the permissions on the mount point and that the check runs as a "
                       "user allowed to see it.");
}

void read_only_finding(Context& ctx, const Mount& m) {
  ctx.finding(
      Severity::critical, "Read-only filesystem: " + m.mount_point,
      m.mount_point + " (" + m.fs_type + " " + m.device +
          ") is mounted read-only but expected writable; writes fail with EROFS",
      "A filesystem that turns read-only by itself was usually remounted after I/O errors: "
      "check dmesg for the cause and the disk's health, fsck it, then mount -o remount,rw " +
          m.mount_point + ". If it is read-only on purpose, drop expect_writable.");
}

void set_mount_attributes(Context& ctx, const Mount& m, bool read_only, const std::string& suffix) {
  ctx.attribute("mount_point" + suffix, m.mount_point);
  ctx.attribute("device" + suffix, m.device);
  ctx.attribute("fs_type" + suffix, m.fs_type);
  ctx.attribute("read_only" + suffix, read_only ? "true" : "false");
}

void check_one(Context& ctx, const std::string& target, bool expect_writable) {
  if (target.front() != '/')
    throw ParamError("param 'target' must be an absolute path or \"all\", got '" + target + "'");
  const std::string path = lexical_normal(target);
  const auto mounts = read_mounts();
  const Mount* m = mount_of(mounts, path);
  if (m == nullptr) return ctx.error("no mount holds " + path + " in /proc/self/mountinfo");

  const auto start = std::chrono::steady_clock::now();
  const PendingStatvfs pending(path);
  const StatvfsOutcome out = pending.wait_until(wait_deadline(ctx));
  set_mount_attributes(ctx, *m, m->read_only, "");
  if (out.state == StatvfsOutcome::State::not_responding) {
    not_responding(ctx, *m, path,
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start));
    return ctx.status(Status::critical, m->mount_point + " not responding");
  }
  if (out.state == StatvfsOutcome::State::failed) {
    failed(ctx, *m, path, out.err, true);
    return ctx.status(Status::critical, path + ": " + errno_text(out.err));
  }
  const Usage u = usage_of(out.st, m->read_only);
  ctx.attribute("read_only", u.read_only ? "true" : "false");
  ctx.metric("used_pct", u.used_pct, "%", kUsageDefaults);
  ctx.metric("free_bytes", u.free_bytes, "B");
  if (u.inodes_used_pct) ctx.metric("inodes_used_pct", *u.inodes_used_pct, "%", kUsageDefaults);
  if (expect_writable && u.read_only) read_only_finding(ctx, *m);
  ctx.status(Status::ok, describe(m->mount_point, u));
}

// The mounts `all` checks: real filesystems, each device once (bind mounts
// and mounts hidden under a later mount on the same point are skipped).
std::vector<Mount> mounts_to_check(const std::vector<std::string>& exclude_types,
                                   bool include_tmpfs) {
  const auto all = read_mounts();
  std::vector<Mount> picked;
  std::set<std::string> devices;
  std::set<std::string> points;
  // Newest first, so the visible mount on a point wins over hidden ones.
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const Mount& m = *it;
    if (!points.insert(m.mount_point).second) continue;
    if (is_pseudo(m, include_tmpfs)) continue;
    if (std::find(exclude_types.begin(), exclude_types.end(), m.fs_type) != exclude_types.end())
      continue;
    picked.push_back(m);
  }
  // A device mounted twice (bind mounts, a file bind-mounted into a
  // container) is reported once, at its whole-filesystem root and shortest
  // mount point.
  std::stable_sort(picked.begin(), picked.end(), [](const Mount& a, const Mount& b) {
    if ((a.root == "/") != (b.root == "/")) return a.root == "/";
    return a.mount_point.size() < b.mount_point.size();
  });
  std::vector<Mount> out;
  for (auto& m : picked)
    if (devices.insert(m.dev_id).second) out.push_back(std::move(m));
  std::sort(out.begin(), out.end(),
            [](const Mount& a, const Mount& b) { return a.mount_point < b.mount_point; });
  return out;
}

void check_all(Context& ctx, bool include_tmpfs, const std::vector<std::string>& exclude_types,
               bool expect_writable) {
  const auto mounts = mounts_to_check(exclude_types, include_tmpfs);
  if (mounts.empty()) return ctx.error("no filesystem to check in /proc/self/mountinfo");

  // Every statvfs starts at once, so a stuck mount delays nobody else.
  const auto start = std::chrono::steady_clock::now();
  std::vector<PendingStatvfs> pending;
  pending.reserve(mounts.size());
  for (const auto& m : mounts) pending.emplace_back(m.mount_point);
  const auto deadline = wait_deadline(ctx);

  std::optional<Usage> fullest, most_inodes, least_free;
  std::string fullest_at;
  std::vector<std::string> stuck;
  std::string checked;
  int answered = 0;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    const StatvfsOutcome out = pending[i].wait_until(deadline);
    if (out.state == StatvfsOutcome::State::not_responding) {
      not_responding(ctx, m, m.mount_point,
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start));
      set_mount_attributes(ctx, m, m.read_only, "[" + m.mount_point + "]");
      stuck.push_back(m.mount_point);
      continue;
    }
    if (out.state == StatvfsOutcome::State::failed) {
      failed(ctx, m, m.mount_point, out.err, false);
      continue;
    }
    if (out.st.f_blocks == 0) continue;  // no capacity: a pseudo filesystem we did not know
    const Usage u = usage_of(out.st, m.read_only);
    const std::string key = "[" + m.mount_point + "]";
    set_mount_attributes(ctx, m, u.read_only, key);
    // Per-mount metrics carry no default thresholds: the aggregate metrics
    // below do, so a config's `used_pct` thresholds decide the status.
    ctx.metric("used_pct" + key, u.used_pct, "%");
    ctx.metric("free_bytes" + key, u.free_bytes, "B");
    if (u.inodes_used_pct) ctx.metric("inodes_used_pct" + key, *u.inodes_used_pct, "%");
    if (expect_writable && u.read_only) read_only_finding(ctx, m);
    if (!fullest || u.used_pct > fullest->used_pct) {
      fullest = u;
      fullest_at = m.mount_point;
    }
    if (u.inodes_used_pct && (!most_inodes || *u.inodes_used_pct > *most_inodes->inodes_used_pct))
      most_inodes = u;
    if (!least_free || u.free_bytes < least_free->free_bytes) least_free = u;
    checked += (checked.empty() ? "" : " ") + m.mount_point;
    ++answered;
  }
  ctx.attribute("mounts", checked);
  if (fullest) {
    ctx.attribute("fullest_mount", fullest_at);
    ctx.metric("used_pct", fullest->used_pct, "%", kUsageDefaults);
    ctx.metric("free_bytes", least_free->free_bytes, "B");
  }
  if (most_inodes)
    ctx.metric("inodes_used_pct", *most_inodes->inodes_used_pct, "%", kUsageDefaults);

  std::string summary = std::to_string(answered) + " filesystem" + (answered == 1 ? "" : "s");
  if (fullest) summary += "; fullest " + describe(fullest_at, *fullest);
  if (!stuck.empty()) {
    summary += "; not responding:";
    for (const auto& s : stuck) summary += " " + s;
  }
  ctx.status(stuck.empty() ? Status::ok : Status::critical, summary);
}

}  // namespace

void FilesystemCheck::run(Context& ctx) {
  const std::string target = ctx.target();
  if (target.empty()) throw ParamError("param 'target' must not be empty");
  const bool expect_writable = ctx.param<bool>("expect_writable", false);
  const bool include_tmpfs = ctx.param<bool>("include_tmpfs", false);
  const auto exclude_types = ctx.param<std::vector<std::string>>("exclude_types", {});
  if (target == "all") return check_all(ctx, include_tmpfs, exclude_types, expect_writable);
  if (ctx.has("include_tmpfs") || ctx.has("exclude_types"))
    throw ParamError("params 'include_tmpfs' and 'exclude_types' apply only to target \"all\"");
  check_one(ctx, target, expect_writable);
}

}  // namespace triage::storage
