// The status model: Nagios-compatible ok/warning/critical/unknown, plus
// skipped for checks that did not run. The enum values are the Nagios exit
// codes, not the severity order: see severity_rank.
#pragma once

#include <optional>
#include <string_view>

namespace triage::core {

enum class Status { ok = 0, warning = 1, critical = 2, unknown = 3, skipped = 4 };

std::string_view to_string(Status s);
std::optional<Status> parse_status(std::string_view text);

// Rank in the Monitoring Plugins aggregate order (`max_state_alt`):
// skipped 0 < ok 1 < unknown 2 < warning 3 < critical 4. A real outage is
// never hidden behind an unknown: 2 critical + 1 unknown is critical.
int severity_rank(Status s);

// The worse of two statuses in that order; `skipped` counts as nothing.
Status worst(Status a, Status b);

// Process exit code for a run whose worst status is s (skipped → 0).
int exit_code(Status s);

}  // namespace triage::core
