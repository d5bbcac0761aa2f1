// `triage list`: the check instances a run would execute, after fan-out.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "isolation.hpp"
#include "options.hpp"
#include "triage/core/duration.hpp"
#include "triage/core/selection.hpp"

namespace triage::cli {

namespace {

constexpr const char* kHelp = R"(Usage: triage list [options]

Lists the check instances a `triage run` with the same options would execute,
after fan-out of `targets` and selection by --only/--tag.

Examples:
  triage list                       the built-in diagnosis of this machine
  triage list -c checks.yaml --tag prod
  triage list -c checks.yaml -f json

)";

}  // namespace

int cmd_list(const std::vector<std::string>& args) {
  Common common;
  std::string config_path, format = "text";
  std::vector<std::string> only, tags;
  po::options_description desc("Options");
  desc.add_options()("config,c", po::value(&config_path)->value_name("FILE"),
                     "config file (YAML or JSON)")(
      "only", po::value(&only)->composing()->value_name("PATTERN"),
      "as for triage run (repeatable)")("tag", po::value(&tags)->composing()->value_name("TAG"),
                                        "as for triage run (repeatable)")(
      "format,f", po::value(&format)->default_value("text")->value_name("FORMAT"), "text or json");
  add_common_options(desc, common);
  try {
    parse(args, desc);
  } catch (const po::error& e) {
    return usage_error("list", e.what(), desc);
  }
  if (common.help) {
    std::cout << kHelp << desc << "\n";
    return 0;
  }
  if (format != "text" && format != "json")
    return usage_error("list", "unknown --format '" + format + "' (expected text or json)", desc);
  setup_logging(common);
  std::vector<core::CheckSpec> checks;
  core::Secrets secrets;  // ids and targets may hold some: shown as ***
  try {
    auto config = load_config_or_default(config_path);
    PluginSetup plugins(common, &config, std::nullopt);
    core::validate_plugins(config, plugins.registry());
    protect_secrets(config, plugins.registry());
    secrets = config.secrets;
    checks = core::select_checks(config, {only, tags});
  } catch (const core::ConfigError& e) {
    std::cerr << "triage: config error: " << e.what() << "\n";
    return kExitConfig;
  } catch (const std::invalid_argument& e) {
    return usage_error("list", e.what(), desc);
  }
  if (format == "json") {
    auto out = nlohmann::ordered_json::array();
    for (const auto& c : checks)
      out.push_back({{"id", c.id},
                     {"plugin", c.plugin},
                     {"type", c.type},
                     {"target", c.target},
                     {"tags", c.tags},
                     {"timeout", core::format_duration(c.timeout)},
                     {"retries", c.retries},
                     {"depends_on", c.depends_on}});
    secrets.redact(out);
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& c : checks) {
    std::string line = c.id + "  " + c.plugin + "." + c.type;
    if (!c.target.empty()) line += "  " + c.target;
    line += "  timeout " + core::format_duration(c.timeout);
    if (c.retries > 0) line += "  retries " + std::to_string(c.retries);
    if (!c.depends_on.empty()) {
      line += "  after";
      for (const auto& d : c.depends_on) line += " " + d;
    }
    if (!c.tags.empty()) {
      line += "  [";
      for (std::size_t i = 0; i < c.tags.size(); ++i) line += (i ? " " : "") + c.tags[i];
      line += "]";
    }
    std::cout << secrets.redact(line) << "\n";
  }
  return 0;
}

}  // namespace triage::cli
