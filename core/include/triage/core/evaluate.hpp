// Turns what a plugin reported into a check result: applies thresholds to its
// metrics (the config's first, else the plugin's defaults) and combines the
// plugin's status, the metrics' and the findings' into one.
#pragma once

#include <triage/plugin.h>

#include "triage/core/config.hpp"
#include "triage/core/result.hpp"

namespace triage::core {

// Fills result's status, summary, metrics, findings, attributes, error and
// truncated from one attempt's outcome; rc is what the check's run() returned.
void evaluate(const CheckSpec& spec, Outcome outcome, triage_rc rc, CheckResult& result);

}  // namespace triage::core
