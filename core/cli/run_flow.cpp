#include "run_flow.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "triage/core/descendants.hpp"
#include "triage/core/duration.hpp"
#include "triage/core/history.hpp"
#include "triage/core/report.hpp"

namespace triage::cli {

namespace {

constexpr long long kReservedDescriptors = 64;  // logs, reports, plugin hosts' channels
constexpr long long kDescriptorsPerCheck = 8;

// Set from the signal handler: the only state a handler may touch.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_signal(int) {
  if (g_interrupted.exchange(true)) _exit(130);  // a second signal: leave at once
}

// Records the report where --history or the config's `history:` says, if
// anywhere. False when it could not be: said on stderr, naming the file.
bool record_history(const nlohmann::ordered_json& report, const core::Config& config,
                    const RunFlags& flags) {
  if (flags.history_file.empty() && !config.history) return true;
  const auto file = core::choose_history_path(flags.history_file, &config);
  auto keep = flags.keep;
  if (!keep && config.history) keep = config.history->keep;
  try {
    core::History history(file);
    const auto id = history.record(report, keep);
    spdlog::debug("recorded run {} in history {}", id, file.string());
    return true;
  } catch (const core::HistoryError& e) {
    spdlog::error("{} (the report was written; this run is not in the history)", e.what());
    return false;
  }
}

}  // namespace

std::optional<std::filesystem::path> history_to_read(const std::string& history_file,
                                                     const std::string& config_path) {
  std::optional<core::Config> config;
  if (!config_path.empty()) {
    try {
      config = load_config_or_default(config_path);
    } catch (const core::ConfigError& e) {
      std::cerr << "triage: config error: " << e.what() << "\n";
      return std::nullopt;
    }
  }
  return core::choose_history_path(history_file, config ? &*config : nullptr);
}

void add_history_flags(po::options_description& desc, RunFlags& flags) {
  desc.add_options()("history", po::value(&flags.history_file)->value_name("FILE"),
                     "record the run in this SQLite history database (created 0600 when "
                     "missing; default: the config's history:, else not recorded)")(
      "keep", po::value(&flags.keep_text)->value_name("DURATION"),
      "with a history: remove runs that started longer ago than this (e.g. 30d, 2w, 12h), "
      "in the same transaction as the record");
}

std::optional<int> check_history_flags(const std::string& command, RunFlags& flags,
                                       const core::Config* config,
                                       const po::options_description& desc) {
  if (!flags.keep_text.empty() && !flags.keep) {
    flags.keep = core::parse_age(flags.keep_text);
    if (!flags.keep)
      return usage_error(command,
                         "--keep '" + flags.keep_text +
                             "' is not a retention (a positive duration of at most 100 years, "
                             "e.g. 30d, 2w, 12h)",
                         desc);
  }
  if (config != nullptr && flags.keep && flags.history_file.empty() && !config->history)
    return usage_error(command,
                       "--keep prunes a history: give --history FILE too (or history: in the "
                       "config)",
                       desc);
  return std::nullopt;
}

void add_run_flags(po::options_description& desc, RunFlags& flags) {
  desc.add_options()("jobs,j", po::value(&flags.jobs)->value_name("N"),
                     "checks run at once (default: the config's defaults.jobs, 64)")(
      "isolation", po::value(&flags.isolation_name)->value_name("MODE"),
      "'process' (default: each plugin in its own host process; a crash or hang "
      "cannot take the run down) or 'in-process' (faster, for trusted plugins and "
      "debugging); overrides the config")(
      "deadline", po::value(&flags.deadline_text)->value_name("DURATION"),
      "bound the whole run: checks not started by then are skipped (\"run deadline\"), "
      "running ones are cancelled, and the report says it is partial (UNKNOWN unless a "
      "failure was found)")("timeout", po::value(&flags.timeout_text)->value_name("DURATION"),
                            "timeout for every check, overriding the config (e.g. 2s)");
}

std::optional<int> check_run_flags(const std::string& command, RunFlags& flags,
                                   const po::variables_map& vm,
                                   const po::options_description& desc) {
  if (!flags.timeout_text.empty()) {
    flags.timeout = core::parse_duration(flags.timeout_text);
    if (!flags.timeout)
      return usage_error(
          command, "--timeout '" + flags.timeout_text + "' is not a duration (e.g. 2s)", desc);
    if (flags.timeout->count() == 0)
      return usage_error(command, "--timeout must be longer than 0", desc);
  }
  if (!flags.deadline_text.empty()) {
    flags.deadline = core::parse_duration(flags.deadline_text);
    if (!flags.deadline || flags.deadline->count() == 0)
      return usage_error(
          command, "--deadline '" + flags.deadline_text + "' is not a positive duration", desc);
  }
  if (vm.count("jobs") != 0 && flags.jobs < 1)
    return usage_error(command, "--jobs must be at least 1", desc);
  if (flags.isolation_name == "process")
    flags.isolation = core::Isolation::process;
  else if (flags.isolation_name == "in-process")
    flags.isolation = core::Isolation::in_process;
  else if (!flags.isolation_name.empty())
    return usage_error(
        command,
        "--isolation must be 'process' or 'in-process', not '" + flags.isolation_name + "'", desc);
  return std::nullopt;
}

int execute_run(core::Config& config, PluginSetup& plugins, const RunFlags& flags,
                const OutputOptions& output, const Common& common,
                const std::string& config_label) {
  if (flags.timeout)
    for (auto& c : config.checks) c.timeout = *flags.timeout;
  core::RunOptions options;
  options.jobs = flags.jobs > 0 ? flags.jobs : config.defaults.jobs;
  // A check may hold a few descriptors at once (sockets of each address it
  // tries, a resolver's, a TLS session's): no more checks at once than the
  // descriptor limit leaves room for, or healthy targets would fail.
  if (rlimit nofile{};
      ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    const auto room = static_cast<long long>(nofile.rlim_cur) - kReservedDescriptors;
    const int fits = static_cast<int>(std::max(1LL, room / kDescriptorsPerCheck));
    if (options.jobs > fits) {
      spdlog::warn(
          "{} checks at once would not fit in {} file descriptors (ulimit -n): running {} at once",
          options.jobs, nofile.rlim_cur, fits);
      options.jobs = fits;
    }
  }
  options.cancel = &g_interrupted;
  if (flags.deadline) options.deadline = std::chrono::steady_clock::now() + *flags.deadline;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_signal);  // a closed terminal or session: the same partial report

  auto info = core::start_run_info(config_label);
  const auto outcome = core::run_checks(config.checks, plugins.executor(), options);
  info.finished_at = std::chrono::system_clock::now();
  const auto report = core::build_report(config, outcome, info);
  int code = core::report_exit_code(report);
  const bool run_interrupted = g_interrupted.load();
  if (write_report(report, output, common, &g_interrupted) != 0) code = kExitSoftware;
  // After the report is out: a history that is locked, corrupt or
  // read-only delays or fails only the record, never the report.
  // Nagios reads only 0..3: it keeps the report's status (stderr says why).
  if (!record_history(report, config, flags) && output.stdout_format != core::Format::nagios)
    code = kExitSoftware;
  if (g_interrupted.load()) {
    std::cerr << (run_interrupted ? "triage: interrupted; the report is partial\n"
                                  : "triage: interrupted while writing the report\n");
    // Nagios reads only 0..3: it gets the partial report's own status.
    if (output.stdout_format != core::Format::nagios) code = 130;
  } else if (outcome.partial) {
    std::cerr << "triage: " << report.at("summary").at("message").get<std::string>()
              << "; the report is partial\n";
  }
  if (outcome.abandoned > 0) {
    // Threads of checks that never returned are still inside plugin code;
    // leaving now is the only safe way out (see docs/reliability.md). What
    // plugins started goes with us.
    core::kill_descendants();
    std::fflush(nullptr);
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(code);
  }
  return code;
}

}  // namespace triage::cli
