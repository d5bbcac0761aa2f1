// The mount table as the kernel reports it (/proc/self/mountinfo), and how a
// path maps to its mount without touching the filesystem: stat() or
// realpath() of a path on a stale NFS/CIFS mount blocks in the kernel, so the
// mapping is a lexical longest-prefix match.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace triage::storage {

// One line of mountinfo.
struct Mount {
  std::string mount_point;  // unescaped ("/mnt/my disk")
  std::string device;       // mount source ("/dev/vda", "server:/export", "tmpfs")
  std::string fs_type;      // "ext4", "nfs4", "fuse.sshfs"
  std::string dev_id;       // "major:minor"
  std::string root;         // the subtree of the filesystem mounted here ("/" unless a bind)
  bool read_only = false;   // "ro" in the per-mount or the superblock options
};

// Parses mountinfo text; malformed lines are skipped.
std::vector<Mount> parse_mountinfo(std::string_view text);

// Reads /proc/self/mountinfo; throws std::runtime_error when it cannot.
std::vector<Mount> read_mounts();

// Undoes the kernel's octal escapes in mountinfo paths ("\040" is a space).
std::string unescape_mount_path(std::string_view s);

// Lexically normalises an absolute path: collapses "//", drops "." and
// resolves ".." without looking at the filesystem (no symlinks followed).
std::string lexical_normal(std::string_view path);

// The mount that holds `path` (absolute, normalised): the last-mounted entry
// whose mount point is the longest prefix of it. nullptr when none.
const Mount* mount_of(const std::vector<Mount>& mounts, std::string_view path);

// True for kernel/pseudo filesystems that hold no user data (proc, sysfs,
// cgroup, devpts, ...), read-only images that are always full (squashfs) and
// container overlay layers (overlay mounts other than "/"). tmpfs/ramfs/
// devtmpfs count as pseudo unless include_tmpfs.
bool is_pseudo(const Mount& m, bool include_tmpfs);

}  // namespace triage::storage
