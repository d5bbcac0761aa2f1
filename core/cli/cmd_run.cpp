// `triage run`: load config and plugins, run the checks, write the report.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "isolation.hpp"
#include "options.hpp"
#include "triage/core/atomic_file.hpp"
#include "triage/core/duration.hpp"
#include "triage/core/report.hpp"
#include "triage/core/selection.hpp"

namespace triage::cli {

namespace {

constexpr const char* kHelp = R"(Usage: triage run [options]

Runs the checks of a config (or, without --config, the built-in diagnosis of
this machine) and prints a report. Exit code: the worst status, 0 ok,
1 warning, 2 critical, 3 unknown; 64 bad usage; 70 the report could not be
written; 78 bad config; 130 interrupted (the partial report is written).

Examples:
  triage run                               diagnose this machine
  triage run -c checks.yaml                run a config
  triage run -c checks.yaml --only 'api-*' --tag prod
  triage run -c checks.yaml -f json -o report.json
  triage run -c checks.yaml -f nagios      one line with perfdata

)";

// Set from the signal handler: the only state a handler may touch.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_signal(int) {
  if (g_interrupted.exchange(true)) _exit(130);  // a second signal: leave at once
}

core::Format default_format(const std::string& output) {
  const auto ext = std::filesystem::path(output).extension();
  if (ext == ".xml") return core::Format::junit;
  if (ext == ".txt") return core::Format::text;
  if (!output.empty()) return core::Format::json;
  return isatty(STDOUT_FILENO) != 0 ? core::Format::text : core::Format::json;
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  Common common;
  std::string config_path, format_name, output, timeout_text, isolation_name, deadline_text;
  std::vector<std::string> only, tags;
  int jobs = 0;
  po::options_description desc("Options");
  desc.add_options()("config,c", po::value(&config_path)->value_name("FILE"),
                     "config file (YAML or JSON)")(
      "only", po::value(&only)->composing()->value_name("PATTERN"),
      "run only checks matching ID, config id, plugin.type or a glob (repeatable)")(
      "tag", po::value(&tags)->composing()->value_name("TAG"),
      "run only checks with this tag (repeatable)")(
      "format,f", po::value(&format_name)->value_name("FORMAT"),
      "text, json, nagios or junit (default: text on a terminal, else json; with --output, "
      "from its extension: .xml junit, .txt text, otherwise json)")(
      "output,o", po::value(&output)->value_name("FILE"),
      "write the report to FILE (atomically) instead of stdout")(
      "jobs,j", po::value(&jobs)->value_name("N"),
      "checks run at once (default: the config's defaults.jobs, 64)")(
      "isolation", po::value(&isolation_name)->value_name("MODE"),
      "'process' (default: each plugin in its own host process; a crash or hang "
      "cannot take the run down) or 'in-process' (faster, for trusted plugins and "
      "debugging); overrides the config")(
      "deadline", po::value(&deadline_text)->value_name("DURATION"),
      "bound the whole run: checks not started by then are skipped (\"run deadline\"), "
      "running ones are cancelled, and the report says it is partial")(
      "timeout", po::value(&timeout_text)->value_name("DURATION"),
      "timeout for every check, overriding the config (e.g. 2s)");
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
  if (common.log_format != "text" && common.log_format != "json")
    return usage_error("run", "--log-format must be 'text' or 'json'", desc);
  setup_logging(common);

  core::Format format = default_format(output);
  if (!format_name.empty()) {
    auto f = core::parse_format(format_name);
    if (!f)
      return usage_error(
          "run", "unknown --format '" + format_name + "' (expected text, json, nagios or junit)",
          desc);
    format = *f;
  }
  std::optional<std::chrono::milliseconds> timeout;
  if (!timeout_text.empty()) {
    timeout = core::parse_duration(timeout_text);
    if (!timeout)
      return usage_error("run", "--timeout '" + timeout_text + "' is not a duration (e.g. 2s)",
                         desc);
    if (timeout->count() == 0) return usage_error("run", "--timeout must be longer than 0", desc);
  }
  std::optional<std::chrono::milliseconds> deadline;
  if (!deadline_text.empty()) {
    deadline = core::parse_duration(deadline_text);
    if (!deadline || deadline->count() == 0)
      return usage_error("run", "--deadline '" + deadline_text + "' is not a positive duration",
                         desc);
  }
  if (vm.count("jobs") != 0 && jobs < 1)
    return usage_error("run", "--jobs must be at least 1", desc);
  if (!output.empty()) {
    // Refuse an unwritable destination now, not after every check has run.
    const auto dir = std::filesystem::absolute(output).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      return usage_error(
          "run", "--output " + output + ": folder " + dir.string() + " does not exist", desc);
    if (access(dir.c_str(), W_OK) != 0 && access(output.c_str(), W_OK) != 0)
      return usage_error(
          "run", "--output " + output + ": folder " + dir.string() + " is not writable", desc);
  }

  std::optional<core::Isolation> isolation;
  if (isolation_name == "process")
    isolation = core::Isolation::process;
  else if (isolation_name == "in-process")
    isolation = core::Isolation::in_process;
  else if (!isolation_name.empty())
    return usage_error(
        "run", "--isolation must be 'process' or 'in-process', not '" + isolation_name + "'", desc);

  core::Config config;
  std::unique_ptr<PluginSetup> plugins;
  std::vector<core::CheckSpec> checks;
  try {
    config = load_config_or_default(config_path);
    plugins = std::make_unique<PluginSetup>(common, &config, isolation);
    core::validate_plugins(config, plugins->registry());
    protect_secrets(config, plugins->registry());
  } catch (const core::ConfigError& e) {
    std::cerr << "triage: config error: " << e.what() << "\n";
    return kExitConfig;
  }
  try {
    checks = core::select_checks(config, {only, tags});
  } catch (const std::invalid_argument& e) {
    return usage_error("run", e.what(), desc);
  }
  if (timeout)
    for (auto& c : checks) c.timeout = *timeout;
  config.checks = std::move(checks);

  core::RunOptions options;
  options.jobs = jobs > 0 ? jobs : config.defaults.jobs;
  options.cancel = &g_interrupted;
  if (deadline) options.deadline = std::chrono::steady_clock::now() + *deadline;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  auto info = core::start_run_info(config_path);
  const auto outcome = core::run_checks(config.checks, plugins->executor(), options);
  info.finished_at = std::chrono::system_clock::now();
  const auto report = core::build_report(config, outcome, info);
  const bool color = output.empty() && format == core::Format::text && stdout_wants_color();
  const std::string text = core::render(report, format, color);
  int code = core::report_exit_code(report);
  try {
    if (output.empty()) {
      std::cout << text << std::flush;
    } else {
      core::write_file_atomically(output, text);
      spdlog::info("report written to {}", output);
    }
  } catch (const std::exception& e) {
    std::cerr << "triage: " << e.what() << "\n";
    code = kExitSoftware;
  }
  if (g_interrupted.load()) {
    std::cerr << "triage: interrupted; the report is partial\n";
    code = 130;
  } else if (outcome.partial) {
    // An incomplete run cannot vouch for what it did not check.
    std::cerr << "triage: run deadline reached; the report is partial\n";
    code = std::max(code, 3);
  }
  if (outcome.abandoned > 0) {
    // Threads of checks that never returned are still inside plugin code;
    // leaving now is the only safe way out (see docs/reliability.md).
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

}  // namespace triage::cli
