// The recovery-point arithmetic the Azure checks share: an age (of the newest
// blob, of the secondary's last sync) judged against an objective given as a
// duration param (max_age, rpo; the runbook's Data Lake RPO is 1 hour).
// Critical past the objective, as storage.freshness judges max_age (the RPO
// is missed: a restore or failover now loses more than the runbook accepts);
// warning past 75 % of it, while there is still time to act.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <triage/plugin.hpp>

#include "azure_time.hpp"

namespace triage::storage::azure {

// The runbook's Data Lake RPO, the default objective.
inline constexpr std::string_view kDataLakeRpo = "1h";

// The duration in param `name` (fallback when absent): a positive duration
// in the config's syntax ("30m", "1h"). Throws ParamError otherwise.
std::chrono::milliseconds read_objective(const Context& ctx, const std::string& name,
                                         std::string_view fallback);

// Monitoring Plugins ranges for an age in seconds against `objective`:
// warning "~:0.75*OBJ", critical "~:OBJ" (a negative age, a clock skew, is no alert).
struct AgeRanges {
  std::string warning;
  std::string critical;
};
AgeRanges age_ranges(std::chrono::milliseconds objective);

// Where `age` stands against `objective`, by the same rule.
enum class Lag { within, at_risk, missed };
Lag judge_age(std::chrono::milliseconds age, std::chrono::milliseconds objective);

}  // namespace triage::storage::azure
