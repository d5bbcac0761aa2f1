// The run configuration: which check instances to run, with what params,
// thresholds, timeouts, retries and dependencies. Loaded from YAML (JSON is
// accepted: it is YAML); see docs/config.md for the shape.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "triage/core/range.hpp"
#include "triage/core/secrets.hpp"

namespace triage::core {

// A config problem, worded "FILE:LINE: KEY: what is wrong (what was expected)".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where something came from in the config file, for error messages.
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  std::string where() const;
};

struct ThresholdSpec {
  std::optional<Range> warning;
  std::optional<Range> critical;
};

// One check instance, after fan-out: `targets: [a, b]` on check `web` yields
// instances `web[a]` and `web[b]`, each with params.target set.
struct CheckSpec {
  std::string id;       // unique instance id
  std::string base_id;  // the id in the config
  std::string plugin;
  std::string type;
  std::string target;  // params.target, "" when none
  std::vector<std::string> tags;
  std::chrono::milliseconds timeout{10'000};
  int retries = 0;
  std::vector<std::string> depends_on;  // base ids
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  std::map<std::string, ThresholdSpec> thresholds;  // by metric name
  SourceLocation location;                          // of the check entry
  SourceLocation plugin_location;
  SourceLocation type_location;
  SourceLocation params_location;      // of `params`, else the check entry
  SourceLocation depends_on_location;  // of `depends_on`, else the check entry
};

enum class Isolation { process, in_process };

struct Defaults {
  std::chrono::milliseconds timeout{10'000};
  int retries = 0;
  int jobs = 64;
  Isolation isolation = Isolation::process;
};

// Per-plugin settings from the config's `plugins:` mapping.
struct PluginSettings {
  std::optional<Isolation> isolation;
  int memory_limit_mb = 0;  // RLIMIT_AS of the plugin's host process; 0: none
};

struct Config {
  std::string path;  // file it came from; "" for the embedded default
  Defaults defaults;
  std::map<std::string, PluginSettings> plugins;  // by plugin name
  std::vector<CheckSpec> checks;
  // The values substituted from ${env:...} and ${file:...} references, and
  // (after add_declared_secrets) the params schemas mark secret: redacted
  // from the report, the logs and `triage list`.
  Secrets secrets;

  Isolation isolation_of(const std::string& plugin) const;
};

// Parses config text; `source` names it in errors. Throws ConfigError.
Config parse_config(const std::string& text, const std::string& source);
// Reads and parses a file. Throws ConfigError.
Config load_config(const std::filesystem::path& path);

// The config used when none is given: diagnoses the machine Triage runs on.
Config default_config();

// Closest candidate within a small edit distance, for "did you mean".
std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates);

}  // namespace triage::core
