// What every `triage` command shares: option groups, logging set-up, and
// friendly errors for bad usage (exit 64) and bad config (exit 78).
#pragma once

#include <boost/program_options.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/core/plugin_loader.hpp"
#include "triage/core/secrets.hpp"

namespace triage::cli {

inline constexpr int kExitUsage = 64;     // EX_USAGE
inline constexpr int kExitSoftware = 70;  // EX_SOFTWARE
inline constexpr int kExitConfig = 78;    // EX_CONFIG

// The system-wide config `triage run` reads when neither --config nor
// TRIAGE_CONFIG names one.
inline constexpr const char* kSystemConfig = "/etc/triage/triage.yaml";

// Options common to every command.
struct Common {
  std::vector<std::string> plugin_dirs;
  bool verbose = false;
  std::string log_format = "text";
  bool allow_insecure_plugins = false;
  bool help = false;
  std::string color = "auto";  // --color: auto, always or never
  bool quiet = false;          // -q: no log lines below error
};

namespace po = boost::program_options;

// Adds --plugin-dir, --allow-insecure-plugins, -v/--verbose, -q/--quiet,
// --log-format, --color and --help to desc.
void add_common_options(po::options_description& desc, Common& common);

// Parses args against desc (positionals allowed only when given). Throws
// po::error; the message is made friendly by usage_error().
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* positional = nullptr);

// A command that takes its options and one positional argument (`triage
// plugin info FILE`): what it needs to parse them and answer --help.
struct OneArgCommand {
  std::string command;    // "plugin info"
  std::string_view help;  // printed before the options on --help
  std::string arg_name;   // "file"
  std::string missing;    // the usage error when the argument is absent
};

// Parses args against desc plus the positional argument into arg. Returns the
// exit code to stop with (usage error printed, or --help shown: `help` is the
// variable desc's --help is bound to), or nullopt to go on.
std::optional<int> parse_one_arg(const OneArgCommand& cmd, const std::vector<std::string>& args,
                                 const po::options_description& desc, std::string& arg,
                                 const bool& help);

// Prints "triage CMD: <what>" with a "did you mean" for unknown options and
// the way to get help; returns kExitUsage.
int usage_error(const std::string& command, const std::string& what,
                const po::options_description& desc);

// Checks --log-format and --color; returns the usage error to stop with.
std::optional<int> check_common(const std::string& command, const Common& common,
                                const po::options_description& desc);

// Sets up spdlog on stderr: warnings by default, debug with -v, errors only
// with -q; text or JSON lines; colour only when --color says so (auto: stderr
// is a terminal, NO_COLOR unset, TERM not dumb). Every line goes through a
// sink that escapes control characters and redacts secrets (see
// set_log_secrets).
void setup_logging(const Common& common);

// From now on, log lines show "***" for each of these secrets (replacing the
// set given before). load_config_or_default and protect_secrets call it.
// Thread-safe.
void set_log_secrets(const core::Secrets& secrets);

// After the config is loaded and validated against the plugins: adds the
// params the check types' schemas declare secret to config.secrets
// (core::add_declared_secrets), then redacts all of config.secrets from the
// log (set_log_secrets).
void protect_secrets(core::Config& config, const core::PluginRegistry& registry);

// Loads the plugins found on the search path (with --plugin-dir first).
// With --allow-insecure-plugins, warns once and loads plugin files others
// could have modified (see core/plugin_security.hpp).
void load_plugins(core::PluginRegistry& registry, const Common& common);

// The config a command reads: --config as given ("-": standard input), else
// $TRIAGE_CONFIG, else /etc/triage/triage.yaml when it exists, else "" (the
// built-in default).
std::string discover_config(const std::string& flag);

// Reads --config, or the built-in default when it is empty, and redacts the
// secrets its references substituted from the log (set_log_secrets).
core::Config load_config_or_default(const std::string& path);

// True when ANSI colour should be used on fd under --color `mode`: always;
// never; auto: a TTY, NO_COLOR unset or empty, TERM not dumb.
bool wants_color(const std::string& mode, int fd);

}  // namespace triage::cli
