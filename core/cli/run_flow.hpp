// What `triage run` and `triage check` share: the flags that shape a run
// (jobs, isolation, deadline, timeout), running the checks under signals, and
// writing the report to every destination with one exit code.
#pragma once

#include <chrono>
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
};

// Adds -j/--jobs, --isolation, --deadline and --timeout to desc.
void add_run_flags(po::options_description& desc, RunFlags& flags);

// Parses the durations and modes; returns the usage error to stop with.
std::optional<int> check_run_flags(const std::string& command, RunFlags& flags,
                                   const po::variables_map& vm,
                                   const po::options_description& desc);

// Runs config.checks (already selected), writes the report and returns the
// exit code: the report's status (0..3), 70 when a destination could not be
// written, 130 when interrupted (except for Nagios on stdout, which gets the
// report's own code).
int execute_run(core::Config& config, PluginSetup& plugins, const RunFlags& flags,
                const OutputOptions& output, const Common& common, const std::string& config_label);

}  // namespace triage::cli
