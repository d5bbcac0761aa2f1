// Living within a limited address space (RLIMIT_AS: `ulimit -v`, or a
// plugin's memory_limit_mb): every reservation counts there, used or not.
#pragma once

namespace triage::core {

// When this process's address space is limited, keeps its own reservations
// small — 1 MiB thread stacks (glibc's default is 8 MiB, so 64 idle threads
// would spend 512 MiB) and two malloc arenas (each reserves 64 MiB, up to 8
// per core) — so that what the limit bounds is the work, not the
// bookkeeping. Does nothing without a limit. Call before threads start.
void fit_address_space();

// Sets RLIMIT_AS to mb MiB, then fits within it as above.
void limit_address_space(int mb);

}  // namespace triage::core
