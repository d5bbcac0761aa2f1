// `triage plugins`: what plugins were found, from where, and what they offer.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "isolation.hpp"
#include "options.hpp"
#include "output.hpp"
#include "triage/core/plugin_loader.hpp"

namespace triage::cli {

namespace {

constexpr const char* kHelp = R"(Usage: triage plugins [options]

Lists the plugins found on the search path, their ABI and version, their
check types, and any file refused; --format json adds each check type's
params schema and declared metrics (null for a type that declares none). Folders are searched in this order, the
first plugin of a name winning: --plugin-dir folders, TRIAGE_PLUGIN_PATH,
~/.local/lib/triage/plugins, /etc/triage/plugins.d, then
<prefix>/lib/triage/plugins beside the triage binary.

Examples:
  triage plugins
  triage plugins --plugin-dir ./build/my-plugin -f json

)";

// The command; cmd_plugins below checks that what it printed reached stdout.
int plugins_command(const std::vector<std::string>& args) {
  Common common;
  std::string format = "text";
  po::options_description desc("Options");
  desc.add_options()("format,f", po::value(&format)->default_value("text")->value_name("FORMAT"),
                     "text or json");
  add_common_options(desc, common);
  try {
    parse(args, desc);
  } catch (const po::error& e) {
    return usage_error("plugins", e.what(), desc);
  }
  if (common.help) {
    std::cout << kHelp << desc << "\n";
    return 0;
  }
  if (format != "text" && format != "json")
    return usage_error("plugins", "unknown --format '" + format + "' (expected text or json)",
                       desc);
  if (auto stop = check_common("plugins", common, desc)) return *stop;
  setup_logging(common);
  // Discovered through plugin hosts: a plugin that crashes while loading is
  // listed as refused instead of taking this command down.
  PluginSetup plugins(common, nullptr, std::nullopt);
  const core::PluginRegistry& registry = plugins.registry();

  if (format == "json") {
    auto plugins = nlohmann::ordered_json::array();
    for (const auto& p : registry.plugins()) {
      auto types = nlohmann::ordered_json::array();
      for (const auto& t : p->types) {
        nlohmann::ordered_json schema =
            nlohmann::ordered_json::parse(t.params_schema, nullptr, false);
        types.push_back({{"name", t.name},
                         {"description", t.description},
                         {"thread_safe", (t.flags & TRIAGE_CHECK_THREAD_SAFE) != 0},
                         {"params_schema",
                          schema.is_discarded() ? nlohmann::ordered_json(t.params_schema) : schema},
                         {"metrics", t.metrics ? core::metrics_to_json(*t.metrics)
                                               : nlohmann::ordered_json(nullptr)}});
      }
      plugins.push_back({{"name", p->name},
                         {"version", p->version},
                         {"description", p->description},
                         {"abi", std::to_string(p->abi_major) + "." + std::to_string(p->abi_minor)},
                         {"sdk_version", p->sdk_version},
                         {"file", p->file.string()},
                         {"check_types", types}});
    }
    auto refused = nlohmann::ordered_json::array();
    for (const auto& problem : registry.problems())
      refused.push_back({{"file", problem.file.string()}, {"reason", problem.reason}});
    std::cout << nlohmann::ordered_json{{"plugins", plugins}, {"refused", refused}}.dump(2) << "\n";
    return 0;
  }
  for (const auto& p : registry.plugins()) {
    std::cout << p->name << " " << p->version << "  (ABI " << p->abi_major << "." << p->abi_minor
              << ", " << p->file.string() << ")\n";
    if (!p->description.empty()) std::cout << "  " << p->description << "\n";
    for (const auto& t : p->types) std::cout << "    " << t.name << "  " << t.description << "\n";
  }
  if (registry.plugins().empty()) std::cout << "no plugins found\n";
  for (const auto& problem : registry.problems())
    std::cout << "refused: " << problem.message() << "\n";
  return 0;
}

}  // namespace

int cmd_plugins(const std::vector<std::string>& args) {
  return finish_stdout(plugins_command(args));
}

}  // namespace triage::cli
