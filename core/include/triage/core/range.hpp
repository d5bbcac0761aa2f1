// Threshold ranges in the Monitoring Plugins syntax ("10", "10:", "~:10",
// "10:20", "@10:20"): the SDK's own (triage/evaluation.hpp), so that a
// plugin's tests and the core judge a value alike.
#pragma once

#include <triage/evaluation.hpp>

namespace triage::core {

using Range = triage::evaluation::Range;
using RangeError = triage::evaluation::RangeError;

}  // namespace triage::core
