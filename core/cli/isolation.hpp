// Chooses how each plugin's checks run (its own host process, or in the
// triage process) and builds the executor and plugin registry for a command.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "options.hpp"
#include "triage/core/plugin_host.hpp"
#include "triage/core/runner.hpp"

namespace triage::cli {

// The plugins of a command, discovered through plugin hosts unless
// everything runs in-process, and the executor that runs their checks.
class PluginSetup {
 public:
  // isolation: the --isolation override, if given. config may be null
  // (commands without one): then process isolation discovers.
  PluginSetup(const Common& common, const core::Config* config,
              std::optional<core::Isolation> isolation);

  // Ends the plugin hosts, then kills whatever processes plugins left
  // behind (this process is their subreaper).
  ~PluginSetup();
  PluginSetup(const PluginSetup&) = delete;
  PluginSetup& operator=(const PluginSetup&) = delete;

  core::PluginRegistry& registry() { return registry_; }
  core::Executor& executor() { return *executor_; }

 private:
  class Routing;
  core::PluginRegistry registry_;
  core::PluginRegistry in_process_;  // plugins configured to run in-process
  std::unique_ptr<core::ProcessExecutor> process_;
  std::unique_ptr<core::InProcessExecutor> direct_;
  std::unique_ptr<core::Executor> executor_;
};

}  // namespace triage::cli
