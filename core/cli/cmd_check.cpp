// `triage check PLUGIN.TYPE TARGET`: one ad-hoc check without a config file,
// with the same views and exit codes as `triage run`.
#include <iostream>
#include <map>

#include "commands.hpp"
#include "isolation.hpp"
#include "options.hpp"
#include "output.hpp"
#include "run_flow.hpp"
#include "triage/core/range.hpp"

namespace triage::cli {

namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kHelp = R"(Usage: triage check PLUGIN.TYPE [TARGET] [options]

Runs one check without a config file and prints the report, with the views
and exit codes of `triage run` (0 ok, 1 warning, 2 critical, 3 unknown;
64 bad usage; 78 params the check type refuses).

Params are KEY=VALUE: a value is read as JSON when it is one (20, true,
["a","b"]) unless the check type's schema says the param is a string; a
comma-separated value fills an array param. `${env:NAME}`, `${file:PATH}` and
`${var:NAME}` work as in a config: keep secrets out of the command line.

Examples:
  triage check network.tcp 127.0.0.1:22
  triage check network.http https://api.example/health --param samples=20
  triage check network.http https://api.example/health --warning latency_p99_ms=500
  triage check storage.filesystem / --critical used_pct=95 -f nagios
  triage check network.dns example.com --param expect=93.184.215.14

)";

// The JSON type(s) the schema gives a property ("" when it says none).
std::vector<std::string> schema_types(const Json& property) {
  std::vector<std::string> out;
  if (!property.is_object() || !property.contains("type")) return out;
  const auto& t = property.at("type");
  if (t.is_string()) out.push_back(t.get<std::string>());
  if (t.is_array())
    for (const auto& e : t)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

bool has(const std::vector<std::string>& types, std::string_view type) {
  return std::find(types.begin(), types.end(), type) != types.end();
}

// A value as the schema's property wants it.
Json typed_value(const std::string& text, const Json& property) {
  const auto types = schema_types(property);
  if (types.size() == 1 && types[0] == "string") return text;
  if (has(types, "array") && !(text.size() > 1 && text.front() == '[')) {
    const Json items = property.value("items", Json::object());
    Json array = Json::array();
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto comma = text.find(',', start);
      const auto end = comma == std::string::npos ? text.size() : comma;
      array.push_back(typed_value(text.substr(start, end - start), items));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return array;
  }
  const Json parsed = Json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return text;
  if (has(types, "string") && !parsed.is_string() && !has(types, std::string(parsed.type_name())))
    return text;
  return parsed;
}

// "KEY=VALUE" → (KEY, VALUE); nullopt when there is no '=' or no key.
std::optional<std::pair<std::string, std::string>> key_value(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

// A config error about the generated one-check config, in the words of the
// command line: "--param timeout_ms: ..." rather than "triage check:8:
// checks[tcp].params.timeout_ms: ...".
std::string in_flag_words(std::string message, const std::string& type) {
  const std::string prefix = "checks[" + type + "].";
  if (const auto at = message.find(prefix); at != std::string::npos)
    message = message.substr(at + prefix.size());
  if (message.rfind("params.", 0) == 0) return "--param " + message.substr(7);
  if (message.rfind("thresholds.", 0) == 0) return "--warning/--critical " + message.substr(11);
  return message;
}

}  // namespace

int cmd_check(const std::vector<std::string>& args) {
  Common common;
  OutputOptions output;
  RunFlags flags;
  std::vector<std::string> positional, params, warnings, criticals;
  po::options_description desc("Options");
  desc.add_options()("param,p", po::value(&params)->composing()->value_name("KEY=VALUE"),
                     "a param of the check type (repeatable; see `triage plugins`)")(
      "warning", po::value(&warnings)->composing()->value_name("METRIC=RANGE"),
      "warning threshold on a metric, in the Monitoring Plugins range syntax (repeatable)")(
      "critical", po::value(&criticals)->composing()->value_name("METRIC=RANGE"),
      "critical threshold on a metric (repeatable)");
  add_output_options(desc, output);
  add_run_flags(desc, flags);
  add_common_options(desc, common);
  po::options_description all;
  all.add(desc).add_options()("positional", po::value(&positional));
  po::positional_options_description pos;
  pos.add("positional", 2);
  po::variables_map vm;
  try {
    vm = parse(args, all, &pos);
  } catch (const po::error& e) {
    return usage_error("check", e.what(), desc);
  }
  if (common.help) {
    std::cout << kHelp << desc << "\n";
    return 0;
  }
  if (auto stop = check_common("check", common, desc)) return *stop;
  if (auto stop = check_output_options("check", output, desc)) return *stop;
  if (auto stop = check_run_flags("check", flags, vm, desc)) return *stop;
  if (positional.empty())
    return usage_error("check", "which check? (triage check PLUGIN.TYPE [TARGET])", desc);
  const std::string kind = positional[0];
  const auto dot = kind.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == kind.size())
    return usage_error(
        "check", "'" + kind + "' is not PLUGIN.TYPE (e.g. network.tcp; see triage plugins)", desc);
  const std::string plugin_name = kind.substr(0, dot), type_name = kind.substr(dot + 1);

  Json thresholds = Json::object();
  for (const auto& [list, level] :
       {std::pair{&warnings, "warning"}, std::pair{&criticals, "critical"}})
    for (const auto& text : *list) {
      const auto kv = key_value(text);
      const std::string flag = std::string("--") + level;
      if (!kv || kv->second.empty())
        return usage_error("check", flag + " '" + text + "' is not METRIC=RANGE (e.g. used_pct=90)",
                           desc);
      try {
        (void)core::Range::parse(kv->second);
      } catch (const std::exception& e) {
        return usage_error("check", flag + " " + kv->first + ": " + e.what(), desc);
      }
      thresholds[kv->first][level] = kv->second;
    }
  setup_logging(common);

  // Plugins first: the schema says how to read each param's value.
  core::Config defaults;
  std::unique_ptr<PluginSetup> plugins;
  try {
    plugins = std::make_unique<PluginSetup>(common, &defaults, flags.isolation);
  } catch (const core::ConfigError& e) {
    std::cerr << "triage: config error: " << e.what() << "\n";
    return kExitConfig;
  }
  const core::Plugin* plugin = plugins->registry().find(plugin_name);
  const core::CheckType* type = plugin != nullptr ? plugin->find(type_name) : nullptr;
  if (type == nullptr) {
    std::vector<std::string> kinds;
    for (const auto& p : plugins->registry().plugins())
      for (const auto& t : p->types) kinds.push_back(p->name + "." + t.name);
    std::string hint;
    if (auto near = core::closest_match(kind, kinds)) hint = " (did you mean '" + *near + "'?)";
    return usage_error("check", "no check type '" + kind + "'" + hint + "; see triage plugins",
                       desc);
  }
  const Json schema = Json::parse(type->params_schema, nullptr, false);
  const Json properties =
      schema.is_object() ? schema.value("properties", Json::object()) : Json::object();

  Json param_values = Json::object();
  if (positional.size() > 1) param_values["target"] = positional[1];
  for (const auto& text : params) {
    const auto kv = key_value(text);
    if (!kv) return usage_error("check", "--param '" + text + "' is not KEY=VALUE", desc);
    const Json property = properties.value(kv->first, Json::object());
    Json value = typed_value(kv->second, property);
    auto& slot = param_values[kv->first];
    if (!slot.is_null() && slot.is_array() && value.is_array())
      for (auto& v : value) slot.push_back(std::move(v));  // --param k=a --param k=b
    else
      slot = std::move(value);
  }

  // The check as a one-entry config, so it gets exactly what a config gets:
  // references resolved, params validated, secrets redacted.
  Json check{
      {"id", type_name}, {"plugin", plugin_name}, {"type", type_name}, {"params", param_values}};
  if (!thresholds.empty()) check["thresholds"] = thresholds;
  const Json document{{"version", 1}, {"checks", Json::array({check})}};
  core::Config config;
  try {
    config = core::parse_config(document.dump(2), "triage check");
    core::resolve_references(config);
    core::validate_plugins(config, plugins->registry());
    protect_secrets(config, plugins->registry());
  } catch (const core::ConfigError& e) {
    std::cerr << "triage check: " << in_flag_words(e.what(), type_name) << "\n";
    return kExitConfig;
  }
  return execute_run(config, *plugins, flags, output, common, "");
}

}  // namespace triage::cli
