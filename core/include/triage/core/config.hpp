// The run configuration: which check instances to run, with what params,
// thresholds, timeouts, retries and dependencies. Loaded from YAML (JSON is
// accepted: it is YAML); see docs/config.md for the shape.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "triage/core/range.hpp"
#include "triage/core/secrets.hpp"
#include "triage/core/text_format.hpp"

namespace triage::core {

class MetricCatalog;  // plugin_loader.hpp

// Bounds on a config (docs/config.md, "Limits"): what a 700-byte file must
// never cost. A config file (or standard input) holds at most
// kMaxConfigFileBytes; all its params together expand to at most
// kMaxConfigValues values and kMaxConfigText bytes of text, nested at most
// kMaxParamsDepth levels.
inline constexpr std::size_t kMaxConfigFileBytes = 4u << 20;
inline constexpr std::size_t kMaxConfigValues = 100'000;
inline constexpr std::size_t kMaxConfigText = 16u << 20;
inline constexpr int kMaxParamsDepth = 64;  // levels of nesting in a check's params

// A config problem, worded "FILE:LINE: KEY: what is wrong (what was expected)".
// The message quotes config text, so it is cleaned like any text bound for a
// terminal (escape_control): a config cannot clear the screen of the person
// reading its error.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& what) : std::runtime_error(escape_control(what)) {}
};

// Why a target cannot be used, or nullopt: a URL with credentials
// (scheme://user:password@host: they would show wherever the target does —
// the report, `triage list`, a fan-out check's id — so they go in a secret
// param instead), or a control character, bidi control or line separator
// (it would reach terminals through the id).
std::optional<std::string> target_problem(std::string_view target);

// Where something came from in the config file, for error messages.
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  std::string where() const;
};

// A string of a check's params that holds `${...}` references (or a `$${`
// escape), kept as written until resolve_references substitutes it.
struct ParamReference {
  nlohmann::ordered_json::json_pointer pointer;  // where it is in CheckSpec::params
  std::string key;                               // as errors name it: checks[api].params.x
  SourceLocation location;                       // of the value
};

struct ThresholdSpec {
  std::optional<Range> warning;
  std::optional<Range> critical;
  SourceLocation location;  // of the metric's key under `thresholds:`
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
  // `interval:` under `triage serve`: run this check only this often
  // (docs/sweeps.md); nullopt: every sweep. `triage run` ignores it.
  std::optional<std::chrono::milliseconds> interval;
  std::vector<std::string> depends_on;  // base ids
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  std::map<std::string, ThresholdSpec> thresholds;  // by metric name
  SourceLocation location;                          // of the check entry
  SourceLocation plugin_location;
  SourceLocation type_location;
  SourceLocation params_location;      // of `params`, else the check entry
  SourceLocation depends_on_location;  // of `depends_on`, else the check entry
  // The params strings still to substitute (see resolve_references); empty
  // once resolved, and for a check without references.
  std::vector<ParamReference> references;
  // A fan-out target that could not be resolved when the config was read:
  // the config error ("FILE:LINE: checks[ID].targets[N]: ...") that
  // resolve_references throws for this instance. id and target hold the
  // target as written.
  std::string target_error;
  // True when params and target hold final values.
  bool resolved() const { return references.empty() && target_error.empty(); }
  // The metrics its check type declares, set by validate_plugins; null when
  // the type declares none (ABI 1.0).
  std::shared_ptr<const MetricCatalog> metrics = nullptr;
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

// Where `triage run` records its runs (docs/sweeps.md), from the config's
// `history: FILE` or `history: {path: FILE, keep: 30d}`.
struct HistorySettings {
  // As written when absolute, else joined to the config file's folder; ""
  // for the default database (kDefaultHistoryPath in history.hpp).
  std::string path;
  std::optional<std::chrono::seconds> keep;  // retention; nullopt: keep every run
  SourceLocation location;                   // of the `history` key
};

struct Config {
  std::string path;  // file it came from; "" for the embedded default
  Defaults defaults;
  // Set when the config has a `history:` key: every `triage run` of it is
  // recorded there.
  std::optional<HistorySettings> history;
  std::map<std::string, PluginSettings> plugins;  // by plugin name
  std::vector<CheckSpec> checks;
  // The values substituted from ${env:...} and ${file:...} references (by
  // parse_config for targets, by resolve_references for params), and (after
  // add_declared_secrets) the params schemas mark secret: redacted from the
  // report, the logs and `triage list`. ${var:...} values are not secrets.
  Secrets secrets;

  Isolation isolation_of(const std::string& plugin) const;
};

// Parses config text; `source` names it in errors. Throws ConfigError.
//
// References (`${var:...}`, `${env:...}`, `${file:...}`, docs/config.md) are
// checked for syntax here, but resolved lazily, so that a run needs only the
// variables and files of the checks it selects:
// - in `targets`, here: instance ids (`web[TARGET]`), which --only matches,
//   are made from them. A target that cannot be resolved (an unset variable,
//   an unreadable file) is no error yet: its instance keeps the target as
//   written and carries the error in target_error;
// - in `params`, by resolve_references, after selection.
Config parse_config(const std::string& text, const std::string& source);
// Reads and parses a file: a regular file of at most kMaxConfigFileBytes (a
// FIFO or a device is refused, never waited on). Throws ConfigError.
Config load_config(const std::filesystem::path& path);

// All of fd (standard input for `-c -`), at most kMaxConfigFileBytes; source
// names it in errors. Throws ConfigError.
std::string read_config_text(int fd, const std::string& source);

// Substitutes the references left in the params of config.checks, adding
// what ${env:...} and ${file:...} gave to config.secrets, and sets each
// check's target from its resolved params.target. Call it once
// config.checks holds only the selected checks (select_checks), before
// validate_plugins checks their params and before add_declared_secrets.
// Throws ConfigError "FILE:LINE: KEY: what" naming the variable or file and
// never a value, for the first check (in config order) that cannot be
// resolved, including the target_error of an instance. Resolving a resolved
// config changes nothing.
void resolve_references(Config& config);

// The config used when none is given: diagnoses the machine Triage runs on.
Config default_config();

// Closest candidate within a small edit distance, for "did you mean".
std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates);

}  // namespace triage::core
