#include "triage/core/selection.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace triage::core {

namespace {

bool matches(const CheckSpec& c, const std::string& pattern) {
  const std::string kind = c.plugin + "." + c.type;
  for (const std::string* name : {&c.id, &c.base_id, &kind})
    if (*name == pattern || fnmatch(pattern.c_str(), name->c_str(), 0) == 0) return true;
  return false;
}

}  // namespace

std::vector<CheckSpec> select_checks(const Config& config, const Selection& selection) {
  const auto& all = config.checks;
  std::vector<bool> chosen(all.size(), false);
  for (const auto& pattern : selection.only) {
    bool any = false;
    for (std::size_t i = 0; i < all.size(); ++i)
      if (matches(all[i], pattern)) any = chosen[i] = true;
    if (!any) throw std::invalid_argument("--only '" + pattern + "' matches no check");
  }
  if (selection.only.empty()) std::fill(chosen.begin(), chosen.end(), true);
  if (!selection.tags.empty()) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& tags = all[i].tags;
      chosen[i] =
          chosen[i] &&
          std::any_of(selection.tags.begin(), selection.tags.end(), [&](const std::string& t) {
            return std::find(tags.begin(), tags.end(), t) != tags.end();
          });
    }
    // Selecting nothing is a mistake in the command, not an empty success.
    if (std::none_of(chosen.begin(), chosen.end(), [](bool c) { return c; })) {
      std::string named;
      for (const auto& t : selection.tags) named += (named.empty() ? "'" : ", '") + t + "'";
      throw std::invalid_argument(
          std::string(selection.tags.size() == 1 ? "--tag " : "--tags ") + named +
          (selection.only.empty() ? " selects" : " with --only selects") + " no check");
    }
  }
  // Pull in prerequisites (transitively), whatever their tags.
  for (bool grew = true; grew;) {
    grew = false;
    std::set<std::string> needed;
    for (std::size_t i = 0; i < all.size(); ++i)
      if (chosen[i]) needed.insert(all[i].depends_on.begin(), all[i].depends_on.end());
    for (std::size_t i = 0; i < all.size(); ++i)
      if (!chosen[i] && needed.count(all[i].base_id) != 0) grew = chosen[i] = true;
  }
  std::vector<CheckSpec> out;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (chosen[i]) out.push_back(all[i]);
  return out;
}

}  // namespace triage::core
