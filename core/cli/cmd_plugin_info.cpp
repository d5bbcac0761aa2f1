// `triage plugin info FILE`: a plugin file's descriptor, check types and
// params, read through a plugin-host process (a plugin that crashes while
// loading is reported, not fatal).
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "triage/core/plugin_host.hpp"

namespace triage::cli {

namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kHelp = R"(Usage: triage plugin info FILE [options]

Shows what a plugin file declares: its name, version, description, the ABI
it was built against, its SDK version, and each check type with its flags,
description, params (text; the whole params schema with --format json) and
the metrics it declares (name, unit, description, default warning and
critical ranges, remediation; ABI 1.1). A type that declares no metrics
(ABI 1.0) shows "not declared": thresholds on it are not checked.
The file is loaded in a plugin-host process. Exit code: 0 shown; 64 bad
usage; 70 the file cannot be loaded as a plugin (the loader's reason is
printed).

Examples:
  triage plugin info build/my-plugin.so
  triage plugin info /usr/lib/triage/plugins/triage_network.so -f json

)";

std::string type_words(const nlohmann::json& property) {
  if (!property.is_object() || !property.contains("type")) return "any";
  const auto& t = property["type"];
  if (t.is_string()) return t.get<std::string>();
  std::string words;
  for (const auto& each : t) words += (words.empty() ? "" : "|") + each.get<std::string>();
  return words;
}

void print_params(const std::string& schema_text) {
  const auto schema = nlohmann::ordered_json::parse(schema_text, nullptr, false);
  if (schema.is_discarded() || !schema.is_object()) {
    std::cout << "      (the params schema is not a JSON object: " << schema_text << ")\n";
    return;
  }
  const auto properties = schema.value("properties", ojson::object());
  const auto required = schema.value("required", ojson::array());
  if (!properties.is_object() || properties.empty()) {
    std::cout << "      (no params)\n";
    return;
  }
  for (const auto& [name, p] : properties.items()) {
    bool is_required = false;
    for (const auto& r : required) is_required = is_required || r == name;
    std::cout << "      " << name << " (" << type_words(p) << (is_required ? ", required" : "");
    if (p.is_object() && p.contains("default")) std::cout << ", default " << p["default"].dump();
    std::cout << ")";
    if (p.is_object() && p.value("description", ojson()).is_string())
      std::cout << "  " << p["description"].get<std::string>();
    std::cout << "\n";
  }
}

void print_metrics(const core::CheckType& type) {
  if (!type.metrics) {
    std::cout << "    metrics: not declared (thresholds on any name are accepted)\n";
    return;
  }
  std::cout << "    metrics:\n";
  if (type.metrics->decls().empty()) std::cout << "      (none)\n";
  for (const auto& m : type.metrics->decls()) {
    std::string facts = m.unit.empty() ? "" : m.unit;
    if (!m.warning.empty()) facts += (facts.empty() ? "" : ", ") + ("warning " + m.warning);
    if (!m.critical.empty()) facts += (facts.empty() ? "" : ", ") + ("critical " + m.critical);
    std::cout << "      " << m.name << (facts.empty() ? "" : " (" + facts + ")");
    if (!m.description.empty()) std::cout << "  " << m.description;
    std::cout << "\n";
    if (!m.remediation.empty()) std::cout << "        remediation: " << m.remediation << "\n";
  }
}

// The command; cmd_plugin_info below checks that what it printed reached stdout.
int plugin_info_command(const std::vector<std::string>& args) {
  std::string file, format = "text";
  bool allow_insecure = false, help = false, verbose = false;
  po::options_description desc("Options");
  desc.add_options()("format,f", po::value(&format)->default_value("text")->value_name("FORMAT"),
                     "text or json")(
      "allow-insecure-plugins", po::bool_switch(&allow_insecure),
      "load the file even when users other than root or you could have modified it")(
      "verbose,v", po::bool_switch(&verbose), "log debug detail to stderr")(
      "help,h", po::bool_switch(&help), "show this help");
  if (auto stop = parse_one_arg({"plugin info", kHelp, "file", "give the plugin FILE (a .so)"},
                                args, desc, file, help))
    return *stop;
  if (format != "text" && format != "json")
    return usage_error("plugin info", "unknown --format '" + format + "' (expected text or json)",
                       desc);
  Common common;
  common.verbose = verbose;
  if (auto stop = check_common("plugin info", common, desc)) return *stop;
  setup_logging(common);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    std::cerr << "triage plugin info: " << file << ": "
              << (std::filesystem::exists(file, ec) ? "not a regular file" : "no such file")
              << "\n";
    return kExitSoftware;
  }
  std::string reason;
  auto host = core::HostProcess::start(file, core::default_host_options(allow_insecure), reason);
  if (!host) {
    std::cerr << "triage plugin info: " << file << ": " << reason << "\n";
    return kExitSoftware;
  }
  const core::Plugin& p = host->plugin();
  const std::string abi = std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor);
  if (format == "json") {
    auto types = ojson::array();
    for (const auto& t : p.types) {
      const auto schema = ojson::parse(t.params_schema, nullptr, false);
      types.push_back(
          {{"name", t.name},
           {"description", t.description},
           {"thread_safe", (t.flags & TRIAGE_CHECK_THREAD_SAFE) != 0},
           {"flags", t.flags},
           {"params_schema", schema.is_discarded() ? ojson(t.params_schema) : schema},
           // null: the type declares none (ABI 1.0)
           {"metrics", t.metrics ? core::metrics_to_json(*t.metrics) : ojson(nullptr)}});
    }
    std::cout << ojson{{"file", file},         {"name", p.name},
                       {"version", p.version}, {"description", p.description},
                       {"abi", abi},           {"sdk_version", p.sdk_version},
                       {"check_types", types}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << p.name << " " << p.version << "\n"
            << "  " << p.description << "\n"
            << "  file: " << file << "\n"
            << "  built for plugin ABI " << abi << " (this triage: " << TRIAGE_ABI_MAJOR << "."
            << TRIAGE_ABI_MINOR << "), SDK " << p.sdk_version << "\n\n"
            << "Check types:\n";
  for (const auto& t : p.types) {
    std::cout << "  " << p.name << "." << t.name
              << ((t.flags & TRIAGE_CHECK_THREAD_SAFE) != 0 ? "  [thread-safe]" : "  [serial]")
              << "\n    " << t.description << "\n    params:\n";
    print_params(t.params_schema);
    print_metrics(t);
  }
  return 0;
}

}  // namespace

int cmd_plugin_info(const std::vector<std::string>& args) {
  return finish_stdout(plugin_info_command(args));
}

}  // namespace triage::cli
