// Finds and loads check plugins through the SDK's C ABI. A file that is not a
// plugin, or a plugin of another ABI major, is refused with a one-line reason
// naming the file; the others still load. Libraries are never unloaded while
// the registry lives, so nothing that came from a plugin outlives its code.
#pragma once

#include <triage/plugin.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <triage/evaluation.hpp>
#include <vector>

#include "triage/core/config.hpp"

namespace triage::core {

// A metric a check type declares (ABI 1.1, triage_metric_decl).
struct MetricDecl {
  std::string name;  // "latency_ms", "used_pct[*]" (per item) or "{param}" (the param's keys)
  std::string unit;
  std::string description;
  std::string warning;  // default ranges, "" for none
  std::string critical;
  std::string remediation;  // shown when a threshold on the metric is crossed
};

// "" when `declared` is a well-formed declared name, else what is wrong.
std::string declared_name_problem(std::string_view declared);

// True when the declared name covers `name` (an emitted metric or a config
// threshold) for a check with these params: the same name; "p[ITEM]" (any
// non-empty ITEM) for "p[*]"; a key of the object params.P for "{P}".
template <class Json>
bool declared_name_covers(std::string_view declared, std::string_view name, const Json& params) {
  return triage::evaluation::covers(declared, name, params);
}

// Everything a check type declares about its metrics.
class MetricCatalog {
 public:
  explicit MetricCatalog(std::vector<MetricDecl> decls) : decls_(std::move(decls)) {}
  const std::vector<MetricDecl>& decls() const { return decls_; }

  // The declaration covering metric (or threshold) `name`, or nullptr.
  template <class Json>
  const MetricDecl* find(std::string_view name, const Json& params) const {
    for (const auto& d : decls_)  // exact names first: they win over patterns
      if (d.name == name) return &d;
    for (const auto& d : decls_)
      if (declared_name_covers(d.name, name, params)) return &d;
    return nullptr;
  }

  // The names a threshold could have meant, for "did you mean" against
  // `wanted`: the exact names, "p[ITEM]" with wanted's item (and "p[*]"),
  // and the keys of the params named by "{P}".
  template <class Json>
  std::vector<std::string> candidates(std::string_view wanted, const Json& params) const {
    std::vector<std::string> out;
    std::string item;
    if (const auto open = wanted.find('['); open != std::string_view::npos && wanted.back() == ']')
      item = std::string(wanted.substr(open));
    for (const auto& d : decls_) {
      const std::size_t n = d.name.size();
      if (n > 3 && d.name.compare(n - 3, 3, "[*]") == 0) {
        out.push_back(d.name);
        if (!item.empty()) out.push_back(d.name.substr(0, n - 3) + item);
      } else if (n > 2 && d.name.front() == '{' && d.name.back() == '}') {
        const std::string param = d.name.substr(1, n - 2);
        if (params.is_object() && params.contains(param) && params[param].is_object())
          for (const auto& [key, _] : params[param].items()) out.push_back(key);
      } else {
        out.push_back(d.name);
      }
    }
    return out;
  }

  // The declared names for a person: "a, b[ITEM], the keys of params.c".
  std::string describe() const;

 private:
  std::vector<MetricDecl> decls_;
};

// The declarations as JSON (name, unit, description, warning, critical,
// remediation; absent texts null), for listings and the plugin-host protocol.
nlohmann::ordered_json metrics_to_json(const MetricCatalog& catalog);
// Throws std::exception on a malformed list.
MetricCatalog metrics_from_json(const nlohmann::json& j);

struct CheckType {
  std::string name;
  std::string description;
  std::string params_schema;  // JSON Schema text
  std::uint32_t flags = 0;
  triage_run_fn run = nullptr;
  void* user_data = nullptr;
  // The metrics it declares (ABI 1.1); null when it declares none (a 1.0
  // plugin, or metrics NULL): thresholds on it are then not checked.
  std::shared_ptr<const MetricCatalog> metrics = nullptr;
};

struct Plugin {
  std::filesystem::path file;
  std::string name;
  std::string version;
  std::string description;
  std::string sdk_version;
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  std::vector<CheckType> types;

  const CheckType* find(std::string_view type) const;
};

// A file in a plugin folder that could not be used, and why.
struct LoadProblem {
  std::filesystem::path file;
  std::string reason;
  std::string message() const { return file.string() + ": " + reason; }
};

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // How a file becomes a Plugin. The default maps the library into this
  // process; process isolation discovers it through a plugin-host process.
  using Loader =
      std::function<std::optional<Plugin>(const std::filesystem::path& file, std::string& reason)>;
  void set_loader(Loader loader) { loader_ = std::move(loader); }
  // Load plugin files that others could have modified (see plugin_security).
  void set_allow_insecure(bool allow) { allow_insecure_ = allow; }
  // Loads every "*.so" in dir (sorted by name). A plugin whose name is
  // already loaded is skipped: earlier folders in the search path win.
  void load_directory(const std::filesystem::path& dir);
  // Loads one file; returns false and records a problem when it is refused.
  bool load_file(const std::filesystem::path& file);

  const Plugin* find(std::string_view name) const;
  const std::vector<std::unique_ptr<Plugin>>& plugins() const { return plugins_; }
  const std::vector<LoadProblem>& problems() const { return problems_; }

 private:
  struct Libraries;
  std::unique_ptr<Libraries> libraries_;
  Loader loader_;
  bool allow_insecure_ = false;
  std::vector<std::unique_ptr<Plugin>> plugins_;
  std::vector<LoadProblem> problems_;
};

// The default system-wide plugin folder, for plugins installed by the
// administrator or by other packages.
inline constexpr const char* kSystemPluginDir = "/etc/triage/plugins.d";

// What the plugin search path is made of, apart from the process so that the
// order can be tested.
struct SearchPathInputs {
  std::vector<std::filesystem::path> cli_dirs;  // --plugin-dir, in order
  std::string env_path;                         // TRIAGE_PLUGIN_PATH, ':'-separated
  std::filesystem::path home;                   // $HOME; no user folder unless absolute
  std::filesystem::path system_dir = kSystemPluginDir;
  std::filesystem::path executable;  // the running triage binary; none when empty
};

// Plugin folders in search order (the first plugin of a name wins): the
// --plugin-dir folders, TRIAGE_PLUGIN_PATH, the user's
// ~/.local/lib/triage/plugins, the system /etc/triage/plugins.d, then
// <prefix>/lib/triage/plugins relative to the executable (build tree and
// install prefix alike). More specific places override more general ones.
std::vector<std::filesystem::path> plugin_search_path(const SearchPathInputs& inputs);

// The search path of this process: cli_dirs, then its environment and binary.
std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::filesystem::path>& cli_dirs);

// Checks that every check's plugin and type exist, its params match the
// type's schema (not checked while they hold references: call it again after
// resolve_references), and, for a type that declares its metrics, that every
// threshold names a declared metric; throws ConfigError naming file:line and
// key, with "did you mean". Sets each check's `metrics` to its type's
// declarations (evaluate() uses them for default ranges and remediations).
void validate_plugins(Config& config, const PluginRegistry& registry);

}  // namespace triage::core
