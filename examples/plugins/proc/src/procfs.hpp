// Reading processes from Linux /proc: find them by name, count their open
// file descriptors, read their open-file limit. Processes come and go during
// a scan; one that vanished is skipped, not an error.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proc {

struct Process {
  pid_t pid = 0;
  std::string comm;   // /proc/PID/comm: the kernel's name, at most 15 bytes
  std::string argv0;  // basename of the first word of /proc/PID/cmdline ("" for kernel threads)
};

// True when `name` names this process: its comm, or the basename of its
// argv[0] (comm is cut at 15 bytes, so long names match through argv[0]).
bool matches(const Process& p, std::string_view name);

// Every process of /proc (under `proc_root`) matching `name`, by pid.
std::vector<Process> find_processes(std::string_view name, const std::string& proc_root = "/proc");

// Open file descriptors of a process, or nullopt when /proc/PID/fd cannot be
// read (another user's process without CAP_SYS_PTRACE, or gone); `why` says which.
std::optional<std::uint64_t> open_fds(pid_t pid, std::string& why,
                                      const std::string& proc_root = "/proc");

// The soft RLIMIT_NOFILE of a process from /proc/PID/limits; nullopt when
// unlimited or unreadable.
std::optional<std::uint64_t> open_file_limit(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace proc
