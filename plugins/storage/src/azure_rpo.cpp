#include "azure_rpo.hpp"

#include <ctime>

#include "fs_util.hpp"

namespace triage::storage::azure {

std::chrono::milliseconds read_objective(const Context& ctx, const std::string& name,
                                         std::string_view fallback) {
  const std::string text = ctx.param<std::string>(name, std::string(fallback));
  const auto d = parse_duration(text);
  if (!d || d->count() <= 0)
    throw ParamError("param '" + name +
                     "' must be a positive duration like \"15m\", \"1h\" or \"24h\", got '" + text +
                     "'");
  return *d;
}

AgeRanges age_ranges(std::chrono::milliseconds objective) {
  const double s = static_cast<double>(objective.count()) / 1000.0;
  return {"~:" + one_decimal(0.75 * s), "~:" + one_decimal(s)};
}

Lag judge_age(std::chrono::milliseconds age, std::chrono::milliseconds objective) {
  if (age > objective) return Lag::missed;
  if (age * 4 > objective * 3) return Lag::at_risk;
  return Lag::within;
}

}  // namespace triage::storage::azure
