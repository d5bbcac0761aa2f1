// The processes a plugin started: found through /proc's parent links, and
// killed when the plugin's host ends, so that none outlives a run.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <vector>

namespace triage::core {

// The live (not zombie) descendants of `root`: children, grandchildren and
// so on, as /proc shows them now.
std::vector<pid_t> live_descendants(pid_t root);

// Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER): a
// descendant whose parent dies becomes its child, not init's, so that
// kill_descendants() still finds a daemon that double-forked. False when
// the kernel refused.
bool become_subreaper();

// SIGKILLs every descendant of this process, `except` its own children
// listed there (and their descendants), and reaps each one that becomes
// its child, until none is left or about 2 s have passed. Returns how many
// were killed. Call it only where nothing else in the process waits for
// those children (a plugin host at its end, the core once its hosts ended).
std::size_t kill_descendants(const std::vector<pid_t>& except = {});

}  // namespace triage::core
