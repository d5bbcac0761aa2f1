// `triage list`: the check instances a run would execute, after fan-out.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "isolation.hpp"
#include "options.hpp"
#include "output.hpp"
#include "triage/core/duration.hpp"
#include "triage/core/selection.hpp"
#include "triage/core/text_format.hpp"

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

// The command; cmd_list below checks that what it printed reached stdout.
int list_command(const std::vector<std::string>& args) {
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
  if (auto stop = check_common("list", common, desc)) return *stop;
  setup_logging(common);
  std::vector<core::CheckSpec> checks;
  core::Secrets secrets;  // ids and targets may hold some: shown as ***
  try {
    auto config = load_config_or_default(config_path);
    PluginSetup plugins(common, &config, std::nullopt);
    core::validate_plugins(config, plugins.registry());
    config.checks = core::select_checks(config, {only, tags});
    core::resolve_references(config);  // only the selected checks need theirs
    core::validate_plugins(config, plugins.registry());
    protect_secrets(config, plugins.registry());
    secrets = config.secrets;
    checks = config.checks;
  } catch (const core::ConfigError& e) {
    std::cerr << "triage: config error: " << e.what() << "\n";
    return kExitConfig;
  } catch (const std::invalid_argument& e) {
    return usage_error("list", e.what(), desc);
  }
  // Only what a config author or a secret wrote is redacted, never the
  // document's keys or the header: a secret "plugin" must not rewrite them.
  auto redacted = [&](const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const auto& v : values) out.push_back(secrets.redact(v));
    return out;
  };
  if (format == "json") {
    auto out = nlohmann::ordered_json::array();
    for (const auto& c : checks)
      out.push_back({{"id", secrets.redact(c.id)},
                     {"plugin", c.plugin},
                     {"type", c.type},
                     {"target", secrets.redact(c.target)},
                     {"tags", redacted(c.tags)},
                     {"timeout", core::format_duration(c.timeout)},
                     {"retries", c.retries},
                     {"depends_on", redacted(c.depends_on)}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  // One aligned row per check under a header, then the count.
  std::vector<std::vector<std::string>> rows{
      {"ID", "CHECK", "TARGET", "TIMEOUT", "RETRIES", "AFTER", "TAGS"}};
  for (const auto& c : checks) {
    std::string after, tag_text;
    for (const auto& d : c.depends_on) after += (after.empty() ? "" : ",") + d;
    for (const auto& t : c.tags) tag_text += (tag_text.empty() ? "" : ",") + t;
    rows.push_back({secrets.redact(c.id), c.plugin + "." + c.type,
                    c.target.empty() ? "-" : secrets.redact(c.target),
                    core::format_duration(c.timeout), std::to_string(c.retries),
                    after.empty() ? "-" : secrets.redact(after),
                    tag_text.empty() ? "-" : secrets.redact(tag_text)});
  }
  for (auto& row : rows)
    for (auto& cell : row) cell = core::escape_control(cell);
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], core::display_width(row[i]));
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - core::display_width(row[i]) + 2, ' ');
    }
    std::cout << line << "\n";
  }
  std::cout << "\n" << checks.size() << (checks.size() == 1 ? " check" : " checks") << "\n";
  return 0;
}

}  // namespace

int cmd_list(const std::vector<std::string>& args) {
  return finish_stdout(list_command(args));
}

}  // namespace triage::cli
