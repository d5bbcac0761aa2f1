// The status model: Nagios-compatible ok/warning/critical/unknown, plus
// skipped for checks that did not run. The order is the severity order.
#pragma once

#include <optional>
#include <string_view>

namespace triage::core {

enum class Status { ok = 0, warning = 1, critical = 2, unknown = 3, skipped = 4 };

std::string_view to_string(Status s);
std::optional<Status> parse_status(std::string_view text);

// The worse of two statuses; `skipped` counts as nothing.
Status worst(Status a, Status b);

// Process exit code for a run whose worst status is s (skipped → 0).
int exit_code(Status s);

}  // namespace triage::core
