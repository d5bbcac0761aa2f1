#include <algorithm>
#include <fstream>
#include <sstream>

#include "triage/core/config.hpp"

namespace triage::core {

Isolation Config::isolation_of(const std::string& plugin) const {
  const auto it = plugins.find(plugin);
  if (it != plugins.end() && it->second.isolation) return *it->second.isolation;
  return defaults.isolation;
}

std::string SourceLocation::where() const {
  return line > 0 ? file + ":" + std::to_string(line) : file;
}

void resolve_references(Config& config) {
  for (auto& check : config.checks) {
    if (!check.references.empty()) {
      auto params = check.params;  // left as it was if a reference fails
      for (const auto& ref : check.references) {
        auto& value = params.at(ref.pointer);
        try {
          value = substitute_references(value.get_ref<const std::string&>(),
                                        std::filesystem::path(ref.location.file).parent_path(),
                                        config.secrets);
        } catch (const ReferenceError& e) {
          throw ConfigError(ref.location.where() + ": " + ref.key + ": " + e.what());
        }
      }
      check.params = std::move(params);
      check.references.clear();
      const auto target = check.params.find("target");
      if (target != check.params.end() && target->is_string()) check.target = *target;
    }
    if (!check.target_error.empty()) throw ConfigError(check.target_error);
  }
}

Config load_config(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path.string() + ": is a directory, not a config file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(path.string() + ": cannot read the config file (" +
                      std::generic_category().message(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path.string());
}

std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates) {
  // Edit distance counting a swap of neighbours as one edit (typos like
  // "dsn"); close means at most a third of the word's length.
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
      for (std::size_t j = 1; j <= b.size(); ++j) {
        d[i][j] = std::min(
            {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    return d[a.size()][b.size()];
  };
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(1, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const auto d = distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace triage::core
