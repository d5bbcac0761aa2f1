#include "triage/core/plugin_loader.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstddef>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "triage/core/host_api.hpp"
#include "triage/core/params_check.hpp"
#include "triage/core/plugin_security.hpp"
#include "triage/core/range.hpp"

namespace triage::core {

namespace {

// The least a 1.x plugin's structs may be: their 1.0 sizes.
constexpr std::uint32_t kDescriptorV1Size =
    offsetof(triage_plugin_descriptor, init) + sizeof(triage_init_fn);
constexpr std::uint32_t kCheckTypeV1Size = offsetof(triage_check_type, user_data) + sizeof(void*);
// What ABI 1.1 appended: a check type this large has metrics and metric_count.
constexpr std::uint32_t kCheckTypeV11Size =
    offsetof(triage_check_type, metric_count) + sizeof(std::uint32_t);
constexpr std::uint32_t kMetricDeclV11Size =
    offsetof(triage_metric_decl, remediation) + sizeof(const char*);
constexpr std::uint32_t kMaxDeclaredMetrics = 1024;

std::string safe(const char* s) {
  return s == nullptr ? std::string() : std::string(s);
}

bool plain_name(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (c == '[' || c == ']' || c == '{' || c == '}' || static_cast<unsigned char>(c) <= ' ')
      return false;
  return true;
}

nlohmann::ordered_json text_or_null(const std::string& s) {
  return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
}

std::string string_or_empty(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
}

// The check type's declared metrics (ABI 1.1), or null when it declares
// none. Sets why and returns null when a declaration is malformed.
std::shared_ptr<const MetricCatalog> read_metrics(const triage_plugin_descriptor& d,
                                                  const triage_check_type& t, std::string& why) {
  // A 1.0 plugin's struct ends before the 1.1 fields; one that claims 1.0
  // and is larger anyway did not mean them.
  if (d.abi_minor < 1 || t.struct_size < kCheckTypeV11Size || t.metrics == nullptr) return nullptr;
  const std::string type = "check type " + safe(t.name);
  if (t.metric_count > kMaxDeclaredMetrics) {
    why = type + " declares " + std::to_string(t.metric_count) + " metrics (at most " +
          std::to_string(kMaxDeclaredMetrics) + ")";
    return nullptr;
  }
  std::vector<MetricDecl> decls;
  for (std::uint32_t i = 0; i < t.metric_count; ++i) {
    const triage_metric_decl* m = t.metrics[i];
    if (m == nullptr || m->struct_size < kMetricDeclV11Size || m->name == nullptr) {
      why = type + ": metric declaration #" + std::to_string(i) + " is malformed";
      return nullptr;
    }
    MetricDecl decl{safe(m->name),
                    safe(m->unit),
                    safe(m->description),
                    safe(m->default_warning),
                    safe(m->default_critical),
                    safe(m->remediation)};
    auto problem = declared_name_problem(decl.name);
    for (const auto& [which, range] :
         {std::pair{"warning", &decl.warning}, std::pair{"critical", &decl.critical}}) {
      if (!problem.empty() || range->empty()) continue;
      try {
        (void)Range::parse(*range);
      } catch (const RangeError& e) {
        problem = std::string("default ") + which + " '" + *range + "' is not a range: " + e.what();
      }
    }
    for (const auto& other : decls)
      if (problem.empty() && other.name == decl.name) problem = "declared twice";
    if (!problem.empty()) {
      why = type + ": metric '" + decl.name + "': " + problem;
      return nullptr;
    }
    decls.push_back(std::move(decl));
  }
  return std::make_shared<const MetricCatalog>(std::move(decls));
}

}  // namespace

std::string declared_name_problem(std::string_view declared) {
  const std::size_t n = declared.size();
  if (n > 3 && declared.substr(n - 3) == "[*]" && plain_name(declared.substr(0, n - 3))) return "";
  if (n > 2 && declared.front() == '{' && declared.back() == '}' &&
      plain_name(declared.substr(1, n - 2)))
    return "";
  if (plain_name(declared)) return "";
  return "not a metric name (expected NAME, NAME[*] for one metric per item, or {PARAM} for "
         "one per key of an object param; no spaces)";
}

std::string MetricCatalog::describe() const {
  std::string out;
  for (const auto& d : decls_) {
    std::string shown = d.name;
    const std::size_t n = d.name.size();
    if (n > 3 && d.name.compare(n - 3, 3, "[*]") == 0)
      shown = d.name.substr(0, n - 3) + "[ITEM]";
    else if (n > 2 && d.name.front() == '{')
      shown = "the keys of params." + d.name.substr(1, n - 2);
    out += (out.empty() ? "" : ", ") + shown;
  }
  return out;
}

nlohmann::ordered_json metrics_to_json(const MetricCatalog& catalog) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& d : catalog.decls())
    out.push_back({{"name", d.name},
                   {"unit", d.unit},
                   {"description", d.description},
                   {"warning", text_or_null(d.warning)},
                   {"critical", text_or_null(d.critical)},
                   {"remediation", text_or_null(d.remediation)}});
  return out;
}

MetricCatalog metrics_from_json(const nlohmann::json& j) {
  if (!j.is_array()) throw std::invalid_argument("declared metrics are not a list");
  std::vector<MetricDecl> decls;
  for (const auto& m : j)
    decls.push_back({m.at("name").get<std::string>(), string_or_empty(m, "unit"),
                     string_or_empty(m, "description"), string_or_empty(m, "warning"),
                     string_or_empty(m, "critical"), string_or_empty(m, "remediation")});
  return MetricCatalog(std::move(decls));
}

struct PluginRegistry::Libraries {
  std::vector<boost::dll::shared_library> loaded;
};

PluginRegistry::PluginRegistry() : libraries_(std::make_unique<Libraries>()) {}
PluginRegistry::~PluginRegistry() = default;

const CheckType* Plugin::find(std::string_view type) const {
  for (const auto& t : types)
    if (t.name == type) return &t;
  return nullptr;
}

const Plugin* PluginRegistry::find(std::string_view name) const {
  for (const auto& p : plugins_)
    if (p->name == name) return p.get();
  return nullptr;
}

void PluginRegistry::load_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    spdlog::debug("plugin folder {} does not exist", dir.string());
    return;
  }
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".so") files.push_back(it->path());
  if (ec) {
    problems_.push_back({dir, "cannot read plugin folder: " + ec.message()});
    return;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) load_file(f);
}

bool PluginRegistry::load_file(const std::filesystem::path& file) {
  auto refuse = [&](std::string reason) {
    spdlog::warn("plugin {} refused: {}", file.string(), reason);
    problems_.push_back({file, std::move(reason)});
    return false;
  };
  // Before anything maps the file: a library others could modify is their
  // code. Opened once: what is checked is what is loaded.
  PluginFile opened = PluginFile::open(file);
  if (const auto& insecure = opened.problem()) {
    if (!allow_insecure_ || !opened.opened()) return refuse(*insecure);
    if (first_insecure_warning(file))
      spdlog::warn("plugin {} loaded although others can modify it (--allow-insecure-plugins): {}",
                   file.string(), *insecure);
  }
  if (loader_) {
    std::string reason;
    auto plugin = loader_(file, reason);
    if (!plugin) return refuse(reason);
    if (const auto* other = find(plugin->name)) {
      spdlog::info("plugin {} from {} ignored: already loaded from {}", plugin->name, file.string(),
                   other->file.string());
      return true;
    }
    plugins_.push_back(std::make_unique<Plugin>(std::move(*plugin)));
    return true;
  }
  boost::dll::shared_library lib;
  boost::dll::fs::error_code ec;
  // RTLD_LOCAL: plugins must not see each other's symbols.
  lib.load(boost::dll::fs::path(opened.load_path()),
           boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    const char* error = dlerror();
    std::string why = error ? error : ec.message();
    // The loader names the descriptor's path; people know the file's.
    for (auto at = why.find(opened.load_path()); at != std::string::npos;
         at = why.find(opened.load_path(), at + file.string().size()))
      why.replace(at, opened.load_path().size(), file.string());
    return refuse("not a loadable shared library (" + why + ")");
  }
  opened.keep_open();
  if (!lib.has(TRIAGE_PLUGIN_ENTRY_V1))
    return refuse(std::string("not a Triage plugin: it does not export ") + TRIAGE_PLUGIN_ENTRY_V1 +
                  "()");
  const auto entry = lib.get<const triage_plugin_descriptor*()>(TRIAGE_PLUGIN_ENTRY_V1);
  const triage_plugin_descriptor* d = entry();
  if (d == nullptr) return refuse("its entry point returned no descriptor");
  // Read only the first fields until the size and version say more is there.
  if (d->struct_size < offsetof(triage_plugin_descriptor, abi_minor) + sizeof(std::uint32_t))
    return refuse("descriptor too small (" + std::to_string(d->struct_size) + " bytes)");
  if (d->magic != TRIAGE_PLUGIN_MAGIC) return refuse("descriptor has a wrong magic number");
  if (d->abi_major != TRIAGE_ABI_MAJOR)
    return refuse("built for plugin ABI " + std::to_string(d->abi_major) + "." +
                  std::to_string(d->abi_minor) + ", this triage speaks ABI " +
                  std::to_string(TRIAGE_ABI_MAJOR) + ".x; rebuild it against SDK " +
                  std::to_string(TRIAGE_ABI_MAJOR) + ".x");
  if (d->struct_size < kDescriptorV1Size)
    return refuse("descriptor is " + std::to_string(d->struct_size) +
                  " bytes, smaller than ABI 1.0's " + std::to_string(kDescriptorV1Size));
  if (d->name == nullptr || *d->name == '\0' || d->init == nullptr)
    return refuse("descriptor lacks a name or an init function");

  auto plugin = std::make_unique<Plugin>();
  plugin->file = file;
  plugin->name = safe(d->name);
  plugin->version = safe(d->version);
  plugin->description = safe(d->description);
  plugin->sdk_version = safe(d->sdk_version);
  plugin->abi_major = d->abi_major;
  plugin->abi_minor = d->abi_minor;
  if (const auto* other = find(plugin->name)) {
    spdlog::info("plugin {} from {} ignored: already loaded from {}", plugin->name, file.string(),
                 other->file.string());
    return true;
  }

  const triage_check_type* const* types = nullptr;
  std::uint32_t count = 0;
  const triage_rc rc = d->init(host_api(), &types, &count);
  if (rc != TRIAGE_RC_OK) return refuse("its init() failed with code " + std::to_string(rc));
  if (count > 0 && types == nullptr) return refuse("init() returned no check types");
  for (std::uint32_t i = 0; i < count; ++i) {
    const triage_check_type* t = types[i];
    if (t == nullptr || t->struct_size < kCheckTypeV1Size || t->name == nullptr ||
        t->run == nullptr)
      return refuse("check type #" + std::to_string(i) + " is malformed");
    std::string why;
    auto metrics = read_metrics(*d, *t, why);
    if (!why.empty()) return refuse(why);
    plugin->types.push_back({safe(t->name), safe(t->description), safe(t->params_schema), t->flags,
                             t->run, t->user_data, std::move(metrics)});
  }
  spdlog::debug("loaded plugin {} {} from {}", plugin->name, plugin->version, file.string());
  plugins_.push_back(std::move(plugin));
  libraries_->loaded.push_back(std::move(lib));
  return true;
}

std::vector<std::filesystem::path> plugin_search_path(const SearchPathInputs& in) {
  std::vector<std::filesystem::path> dirs = in.cli_dirs;
  std::string_view rest = in.env_path;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const auto part = rest.substr(0, colon);
    if (!part.empty()) dirs.emplace_back(std::string(part));
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  // A relative HOME would make the folder depend on the working directory.
  if (in.home.is_absolute()) dirs.push_back(in.home / ".local" / "lib" / "triage" / "plugins");
  if (!in.system_dir.empty()) dirs.push_back(in.system_dir);
  if (!in.executable.empty())
    dirs.push_back(in.executable.parent_path().parent_path() / "lib" / "triage" / "plugins");
  // A folder listed twice would only log "already loaded" for every plugin in it.
  std::vector<std::filesystem::path> unique;
  std::vector<std::filesystem::path> seen;
  for (auto& d : dirs) {
    auto normal = d.lexically_normal();
    if (std::find(seen.begin(), seen.end(), normal) != seen.end()) continue;
    seen.push_back(std::move(normal));
    unique.push_back(std::move(d));
  }
  return unique;
}

std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::filesystem::path>& cli_dirs) {
  SearchPathInputs in;
  in.cli_dirs = cli_dirs;
  if (const char* env = std::getenv("TRIAGE_PLUGIN_PATH")) in.env_path = env;
  if (const char* home = std::getenv("HOME")) in.home = home;
  in.executable = boost::dll::program_location().string();
  return plugin_search_path(in);
}

namespace {

// A threshold on a metric the check type does not declare is a typo or a
// stale config: refuse it, with the closest declared name.
void check_thresholds(const CheckSpec& check, const CheckType& type) {
  if (!type.metrics) return;  // declares nothing (ABI 1.0): a runtime warning at most
  const MetricCatalog& catalog = *type.metrics;
  for (const auto& [name, spec] : check.thresholds) {
    if (catalog.find(name, check.params) != nullptr) continue;
    std::string what =
        "check type " + check.plugin + "." + check.type + " emits no metric '" + name + "'";
    if (auto near = closest_match(name, catalog.candidates(name, check.params)))
      what += " (did you mean '" + *near + "'?)";
    else if (catalog.decls().empty())
      what += " (it emits no metrics)";
    else
      what += " (it emits: " + catalog.describe() + ")";
    const SourceLocation& at = spec.location.line > 0 ? spec.location : check.location;
    throw ConfigError(at.where() + ": checks[" + check.base_id + "].thresholds." + name + ": " +
                      what);
  }
}

}  // namespace

void validate_plugins(Config& config, const PluginRegistry& registry) {
  ParamsChecker params;
  std::string last_base;
  for (auto& check : config.checks) {
    const Plugin* plugin = registry.find(check.plugin);
    if (plugin == nullptr) {
      std::vector<std::string> names;
      for (const auto& p : registry.plugins()) names.push_back(p->name);
      std::string what = "unknown plugin '" + check.plugin + "'";
      if (auto near = closest_match(check.plugin, names))
        what += " (did you mean '" + *near + "'?)";
      else
        what += names.empty() ? " (no plugins were found; see `triage plugins`)"
                              : " (see `triage plugins` for what is installed)";
      throw ConfigError(check.plugin_location.where() + ": checks[" + check.base_id +
                        "].plugin: " + what);
    }
    if (plugin->find(check.type) == nullptr) {
      std::vector<std::string> names;
      for (const auto& t : plugin->types) names.push_back(t.name);
      std::string what = "plugin '" + plugin->name + "' has no check type '" + check.type + "'";
      if (auto near = closest_match(check.type, names))
        what += " (did you mean '" + *near + "'?)";
      else {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        what += " (it has: " + list + ")";
      }
      throw ConfigError(check.type_location.where() + ": checks[" + check.base_id +
                        "].type: " + what);
    }
    const CheckType& type = *plugin->find(check.type);
    // Fan-out instances differ only in their target: check the first one.
    // Params still holding references are checked once resolved (commands
    // call this again after resolve_references).
    if (check.base_id != last_base) {
      if (check.resolved()) params.check(check, type);
      check_thresholds(check, type);
    }
    last_base = check.base_id;
    check.metrics = type.metrics;
  }
}

}  // namespace triage::core
