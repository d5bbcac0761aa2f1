#include "triage/core/descendants.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

namespace triage::core {

namespace {

struct Proc {
  pid_t ppid = 0;
  bool zombie = false;
};

// Every process /proc shows, with its parent and whether it is a zombie.
std::map<pid_t, Proc> process_table() {
  std::map<pid_t, Proc> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    std::ifstream in(it->path() / "stat");
    std::string stat;
    std::getline(in, stat);
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 4 > stat.size()) continue;
    char state = 0;
    long ppid = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %ld", &state, &ppid) != 2) continue;
    out[static_cast<pid_t>(std::stol(name))] = {static_cast<pid_t>(ppid), state == 'Z'};
  }
  return out;
}

// The descendants of root in table, zombies included, parents first.
std::vector<pid_t> descendants_in(const std::map<pid_t, Proc>& table, pid_t root,
                                  const std::vector<pid_t>& except) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& [pid, proc] : table) children.emplace(proc.ppid, pid);
  std::vector<pid_t> out;
  std::vector<pid_t> next{root};
  while (!next.empty()) {
    const pid_t parent = next.back();
    next.pop_back();
    const auto [first, last] = children.equal_range(parent);
    for (auto it = first; it != last; ++it) {
      if (parent == root && std::find(except.begin(), except.end(), it->second) != except.end())
        continue;
      out.push_back(it->second);
      next.push_back(it->second);
    }
  }
  return out;
}

}  // namespace

std::vector<pid_t> live_descendants(pid_t root) {
  const auto table = process_table();
  std::vector<pid_t> out;
  for (const pid_t pid : descendants_in(table, root, {}))
    if (!table.at(pid).zombie) out.push_back(pid);
  return out;
}

bool become_subreaper() {
  return ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
}

std::size_t kill_descendants(const std::vector<pid_t>& except) {
  // No child at all means no descendant (orphans come back as children):
  // the common case costs one system call, not a walk of /proc.
  siginfo_t info{};
  if (except.empty() && ::waitid(P_ALL, 0, &info, WEXITED | WSTOPPED | WNOHANG | WNOWAIT) != 0 &&
      errno == ECHILD)
    return 0;
  const pid_t self = ::getpid();
  std::set<pid_t> killed;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    // Reap what has ended (only our own children can be): orphans of the
    // killed then come back to a subreaper as its children, to be reaped
    // in turn.
    auto left = descendants_in(process_table(), self, except);
    for (bool reaped = true; reaped;) {
      reaped = false;
      for (const pid_t pid : left) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) reaped = true;
      }
      if (reaped) left = descendants_in(process_table(), self, except);
    }
    if (left.empty() || std::chrono::steady_clock::now() >= give_up) return killed.size();
    for (const pid_t pid : left)
      if (::kill(pid, SIGKILL) == 0) killed.insert(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace triage::core
