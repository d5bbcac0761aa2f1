// Picks the checks a run executes from --only and --tag, pulling in the
// checks they depend on so that skips stay meaningful.
#pragma once

#include <string>
#include <vector>

#include "triage/core/config.hpp"

namespace triage::core {

struct Selection {
  // Each matches an instance id, a config id, "plugin.type", or a glob of
  // those (fnmatch: *, ?, [..]). Empty selects every check.
  std::vector<std::string> only;
  // A check must carry at least one of these tags. Empty: no tag filter.
  std::vector<std::string> tags;
};

// Returns the checks to run, in config order. Throws std::invalid_argument
// naming the pattern when an --only pattern matches nothing.
//
// Selection works on the config as parse_config left it: instance ids are
// final (fan-out targets are resolved when the config is read), params may
// still hold references. Put the result in config.checks and call
// resolve_references: only the selected checks need their variables,
// secrets and files.
std::vector<CheckSpec> select_checks(const Config& config, const Selection& selection);

}  // namespace triage::core
