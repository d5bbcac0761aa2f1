#include "isolation.hpp"

#include "triage/core/descendants.hpp"
#include "triage/core/exit_guard.hpp"

#include <spdlog/spdlog.h>

namespace triage::cli {

// Sends each check to the in-process executor or to the plugin hosts.
class PluginSetup::Routing final : public core::Executor {
 public:
  Routing(std::set<std::string> in_process, core::Executor* direct, core::Executor* hosts)
      : in_process_(std::move(in_process)), direct_(direct), hosts_(hosts) {}
  triage_rc execute(const core::CheckSpec& spec, core::Attempt& attempt) override {
    return (in_process_.count(spec.plugin) != 0 ? direct_ : hosts_)->execute(spec, attempt);
  }

 private:
  std::set<std::string> in_process_;
  core::Executor* direct_;
  core::Executor* hosts_;
};

namespace {

// Settings under `plugins:` for a plugin that was not found do nothing: most
// often a typo. A warning, not an error: one config may serve machines with
// different plugins installed.
void warn_unknown_settings(const core::Config* config, const core::PluginRegistry& registry) {
  if (config == nullptr) return;
  std::vector<std::string> names;
  for (const auto& plugin : registry.plugins()) names.push_back(plugin->name);
  for (const auto& [name, settings] : config->plugins) {
    if (registry.find(name) != nullptr) continue;
    const auto near = core::closest_match(name, names);
    spdlog::warn("{}: plugins.{}: no plugin '{}' was found{}; these settings do nothing",
                 config->path.empty() ? "config" : config->path, name, name,
                 near ? " (did you mean '" + *near + "'?)" : std::string());
  }
}

}  // namespace

PluginSetup::PluginSetup(const Common& common, const core::Config* config,
                         std::optional<core::Isolation> isolation) {
  // Plugin code may call exit() from here on (in-process: in its init or a
  // check's thread): that must never end the command with status 0 and no
  // output. main() settles the status once the command is done.
  core::exit_guard::arm(
      "a plugin called exit() before triage had written its report: no report (status 70); "
      "--isolation process contains such plugins");
  // Processes a plugin starts and orphans (a daemon, or the children of a
  // host killed for a hang) come back to us, to be killed at the end.
  core::become_subreaper();
  auto mode_of = [&](const std::string& plugin) {
    if (isolation) return *isolation;
    return config ? config->isolation_of(plugin) : core::Isolation::process;
  };
  // RLIMIT_AS or a cgroup can bound a host, not a library inside triage.
  if (config != nullptr)
    for (const auto& [name, settings] : config->plugins)
      if (settings.memory_limit_mb > 0 && mode_of(name) == core::Isolation::in_process)
        spdlog::warn(
            "plugin {}: memory_limit_mb {} is ignored: the plugin runs in-process, where no "
            "limit can apply to it alone (use isolation: process)",
            name, settings.memory_limit_mb);
  bool all_in_process = isolation == core::Isolation::in_process;
  if (!isolation && config != nullptr) {
    all_in_process = config->defaults.isolation == core::Isolation::in_process;
    for (const auto& [name, settings] : config->plugins)
      if (settings.isolation == core::Isolation::process) all_in_process = false;
  }
  if (all_in_process) {
    load_plugins(registry_, common);
    warn_unknown_settings(config, registry_);
    executor_ = std::make_unique<core::InProcessExecutor>(registry_);
    return;
  }
  process_ = std::make_unique<core::ProcessExecutor>(
      core::default_host_options(common.allow_insecure_plugins));
  registry_.set_loader([this](const std::filesystem::path& file, std::string& reason) {
    return process_->discover(file, reason);
  });
  load_plugins(registry_, common);
  warn_unknown_settings(config, registry_);
  std::set<std::string> direct;
  if (config != nullptr) {
    for (const auto& [name, settings] : config->plugins)
      if (settings.memory_limit_mb > 0) process_->set_memory_limit(name, settings.memory_limit_mb);
    in_process_.set_allow_insecure(common.allow_insecure_plugins);
    for (const auto& plugin : registry_.plugins())
      if (mode_of(plugin->name) == core::Isolation::in_process &&
          in_process_.load_file(plugin->file))
        direct.insert(plugin->name);
  }
  direct_ = std::make_unique<core::InProcessExecutor>(in_process_);
  executor_ = std::make_unique<Routing>(std::move(direct), direct_.get(), process_.get());
}

PluginSetup::~PluginSetup() {
  executor_.reset();
  direct_.reset();
  process_.reset();  // each host kills what its plugin started, then exits
  if (const auto killed = core::kill_descendants(); killed > 0)
    spdlog::info("killed {} process(es) that plugins left behind", killed);
}

}  // namespace triage::cli
