#include "io_errors.hpp"

#include <cerrno>

#include "fs_util.hpp"

namespace triage::storage {

IoFinding io_error_finding(int err, std::string_view step, const std::string& path,
                           const std::string& dir) {
  IoFinding f;
  f.severity = Severity::critical;
  f.detail = std::string(step) + " " + path + ": " + errno_text(err);
  switch (err) {
    case ENOSPC:
      f.title = "No space left on device";
      f.remediation =
          "The filesystem holding " + dir +
          " is full (blocks or inodes: df -h and df -i). Free space: delete or archive old "
          "data and logs, vacuum/compact tables, or grow the volume; then find what filled it "
          "(du -xh --max-depth=2 " +
          dir + ").";
      break;
    case EDQUOT:
      f.title = "Disk quota exceeded";
      f.remediation =
          "The user running the check is over its quota on the filesystem holding " + dir +
          " (quota -s; for a cloud share, its provisioned quota): delete data or raise the "
          "quota before writers start failing.";
      break;
    case EROFS:
      f.title = "Read-only filesystem";
      f.remediation =
          "The filesystem holding " + dir +
          " is mounted read-only; if it was remounted after I/O errors, check dmesg and the "
          "disk's health, fsck it, then mount -o remount,rw.";
      break;
    case EACCES:
    case EPERM:
      f.title = "Permission denied";
      f.remediation = "The user running the check may not write in " + dir +
                      ": check its owner and mode (ls -ld " + dir +
                      "), ACLs (getfacl) and SELinux/AppArmor denials, or point the probe "
                      "at a folder the service account owns.";
      break;
    case EIO:
      f.title = "I/O error";
      f.remediation =
          "The device or server returned an I/O error: check dmesg for disk/controller "
          "errors (smartctl -a) or the file server's health; expect the filesystem to go "
          "read-only.";
      break;
    case ENOENT:
    case ENOTDIR:
      f.title = "Folder not found";
      f.remediation = "Check that " + dir +
                      " exists and is a folder, and that the filesystem that should hold it is "
                      "mounted (findmnt; mount -a).";
      break;
    default:
      f.title = "I/O failed";
      f.remediation = "Retry by hand (dd if=/dev/zero of=" + dir +
                      "/probe bs=1M count=1 conv=fsync) and check dmesg for the cause.";
  }
  if (step == "read") f.title = "Read-back failed: " + f.title;
  return f;
}

}  // namespace triage::storage
