// `triage run`: load config and plugins, run the checks, write the report.
#include <iostream>

#include "commands.hpp"
#include "isolation.hpp"
#include "options.hpp"
#include "output.hpp"
#include "run_flow.hpp"
#include "triage/core/selection.hpp"

namespace triage::cli {

namespace {

constexpr const char* kHelp = R"(Usage: triage run [options]

Runs the checks of a config and prints a report. The config is, in order:
--config FILE ('-' reads standard input), $TRIAGE_CONFIG,
/etc/triage/triage.yaml when it exists, else the built-in diagnosis of this
machine. With --history FILE (or history: in the config) the run is also
recorded in an SQLite history that `triage history` and `triage diff` read.

Exit code: the worst status in the Monitoring Plugins order
ok < unknown < warning < critical, as 0 ok, 1 warning, 2 critical, 3 unknown
(a run cut by --deadline that found no failure is unknown); 64 bad usage;
70 a report could not be written, or the run could not be recorded in the
history (the report is written all the same), or a plugin run in-process
called exit() before it was; 78 bad config; 130 interrupted by SIGINT,
SIGTERM or SIGHUP (the partial report is written). With -f nagios every failure is one "TRIAGE UNKNOWN - ..."
line and exit 3.

Examples:
  triage run                               diagnose this machine
  triage run -c checks.yaml                run a config
  triage run -c checks.yaml --only 'api-*' --tag prod
  triage run -c checks.yaml -o report.json -o report.xml
  triage run -c checks.yaml -f nagios      one line with perfdata
  triage run -f prometheus -o /var/lib/node_exporter/triage.prom
  triage run -c checks.yaml --history /var/lib/triage/history.db --keep 30d

)";

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  Common common;
  OutputOptions output;
  RunFlags flags;
  std::string config_path;
  std::vector<std::string> only, tags;
  po::options_description desc("Options");
  desc.add_options()("config,c", po::value(&config_path)->value_name("FILE"),
                     "config file (YAML or JSON; '-' reads standard input)")(
      "only", po::value(&only)->composing()->value_name("PATTERN"),
      "run only checks matching ID, config id, plugin.type or a glob (repeatable)")(
      "tag", po::value(&tags)->composing()->value_name("TAG"),
      "run only checks with this tag (repeatable)");
  add_output_options(desc, output);
  add_run_flags(desc, flags);
  add_history_flags(desc, flags);
  add_common_options(desc, common);
  po::variables_map vm;
  try {
    vm = parse(args, desc);
  } catch (const po::error& e) {
    return usage_error("run", e.what(), desc);
  }
  if (common.help) {
    std::cout << kHelp << desc << "\n";
    return 0;
  }
  if (auto stop = check_common("run", common, desc)) return *stop;
  if (auto stop = check_output_options("run", output, desc)) return *stop;
  if (auto stop = check_run_flags("run", flags, vm, desc)) return *stop;
  if (auto stop = check_history_flags("run", flags, nullptr, desc)) return *stop;
  setup_logging(common);
  config_path = discover_config(config_path);
  const auto isolation = flags.isolation;

  core::Config config;
  std::unique_ptr<PluginSetup> plugins;
  std::vector<core::CheckSpec> checks;
  try {
    config = load_config_or_default(config_path);
    plugins = std::make_unique<PluginSetup>(common, &config, isolation);
    core::validate_plugins(config, plugins->registry());
  } catch (const core::ConfigError& e) {
    std::cerr << "triage: config error: " << e.what() << "\n";
    return kExitConfig;
  }
  if (auto stop = check_history_flags("run", flags, &config, desc)) return *stop;
  try {
    checks = core::select_checks(config, {only, tags});
  } catch (const std::invalid_argument& e) {
    return usage_error("run", e.what(), desc);
  }
  config.checks = std::move(checks);
  try {
    core::resolve_references(config);  // only the selected checks need theirs
    core::validate_plugins(config, plugins->registry());
    protect_secrets(config, plugins->registry());
  } catch (const core::ConfigError& e) {
    std::cerr << "triage: config error: " << e.what() << "\n";
    return kExitConfig;
  }
  return execute_run(config, *plugins, flags, output, common,
                     config_path == "-" ? "<stdin>" : config_path);
}

}  // namespace triage::cli
