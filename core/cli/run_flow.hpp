// What `triage run` and `triage check` share: the flags that shape a run
// (jobs, isolation, deadline, timeout), running the checks under signals, and
// writing the report to every destination with one exit code.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "isolation.hpp"
#include "options.hpp"
#include "output.hpp"

namespace triage::cli {

struct RunFlags {
  int jobs = 0;  // 0: the config's defaults.jobs
  std::string isolation_name, deadline_text, timeout_text;

  // Resolved by check_run_flags.
  std::optional<core::Isolation> isolation;
  std::optional<std::chrono::milliseconds> deadline;
  std::optional<std::chrono::milliseconds> timeout;

  // `triage run` only (add_history_flags): record the run in this history
  // database (else the config's `history:`, when it has one), pruning runs
  // older than `keep` (else the config's history.keep).
  std::string history_file, keep_text;
  std::optional<std::chrono::seconds> keep;  // resolved by check_history_flags
};

// Adds -j/--jobs, --isolation, --deadline and --timeout to desc.
void add_run_flags(po::options_description& desc, RunFlags& flags);

// The history database a command that reads it uses: `history_file`
// (--history), else the `history:` of the config at `config_path` (-c) when
// given, else core::kDefaultHistoryPath. nullopt after printing the config
// error (exit kExitConfig).
std::optional<std::filesystem::path> history_to_read(const std::string& history_file,
                                                     const std::string& config_path);

// Parses the durations and modes; returns the usage error to stop with.
std::optional<int> check_run_flags(const std::string& command, RunFlags& flags,
                                   const po::variables_map& vm,
                                   const po::options_description& desc);

// Adds --history and --keep to desc.
void add_history_flags(po::options_description& desc, RunFlags& flags);

// Parses --keep; returns the usage error to stop with. With the config
// loaded: --keep without a history to prune (no --history, no `history:`)
// is a usage error too.
std::optional<int> check_history_flags(const std::string& command, RunFlags& flags,
                                       const core::Config* config,
                                       const po::options_description& desc);

// Runs config.checks (already selected), writes the report, records it in
// the history when --history or the config's `history:` asks for it, and
// returns the exit code: the report's status (0..3), 70 when a destination
// could not be written or the run could not be recorded (the report is
// written all the same: a broken history never costs a run its report), 130
// when interrupted (except for Nagios on stdout, which gets the report's own
// code).
int execute_run(core::Config& config, PluginSetup& plugins, const RunFlags& flags,
                const OutputOptions& output, const Common& common, const std::string& config_label);

}  // namespace triage::cli
