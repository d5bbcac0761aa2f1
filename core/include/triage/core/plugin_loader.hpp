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
#include <vector>

#include "triage/core/config.hpp"

namespace triage::core {

struct CheckType {
  std::string name;
  std::string description;
  std::string params_schema;  // JSON Schema text
  std::uint32_t flags = 0;
  triage_run_fn run = nullptr;
  void* user_data = nullptr;
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

// Checks that every check's plugin and type exist; throws ConfigError naming
// file:line and key, with "did you mean".
void validate_plugins(const Config& config, const PluginRegistry& registry);

}  // namespace triage::core
