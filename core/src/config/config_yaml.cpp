// YAML (and JSON) config → Config, with errors that name file, line and key.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <set>

#include "triage/core/config.hpp"
#include "triage/core/duration.hpp"
#include "triage/core/history.hpp"
#include "triage/core/lexical.hpp"
#include "triage/core/secrets.hpp"

namespace triage::core {

namespace {

// Function-local statics: configs may be parsed during static initialisation.
using Keys = std::vector<std::string>;
const Keys& top_keys() {
  static const Keys keys{"version", "defaults", "plugins", "history", "checks"};
  return keys;
}
const Keys& defaults_keys() {
  static const Keys keys{"timeout", "retries", "jobs", "isolation"};
  return keys;
}
const Keys& plugin_keys() {
  static const Keys keys{"isolation", "memory_limit_mb"};
  return keys;
}
const Keys& history_keys() {
  static const Keys keys{"path", "keep"};
  return keys;
}
const Keys& check_keys() {
  static const Keys keys{"id",         "plugin", "type",    "tags",       "timeout", "retries",
                         "depends_on", "params", "targets", "thresholds", "interval"};
  return keys;
}
const Keys& threshold_keys() {
  static const Keys keys{"warning", "critical"};
  return keys;
}

// Builds errors for one config source.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  // Counts the values params expand to: YAML aliases share nodes, so a
  // 700-byte file can name a billion values (the "billion laughs"). Past
  // kMaxConfigValues values, or kMaxConfigText bytes of text, in all of a
  // config's params, the config is refused.
  void spend(const YAML::Node& node, const std::string& key, std::size_t text_bytes) const {
    ++values_;
    text_ += text_bytes;
    if (values_ > kMaxConfigValues || text_ > kMaxConfigText)
      fail(node, key,
           "params expand to more than " + std::to_string(kMaxConfigValues) + " values or " +
               std::to_string(kMaxConfigText >> 20) +
               " MiB of text in this config (YAML aliases repeated?); that is the limit");
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& what) const {
    const int line = node.IsDefined() ? node.Mark().line + 1 : 0;
    throw ConfigError(SourceLocation{source_, line}.where() + ": " + key + ": " + what);
  }

  SourceLocation at(const YAML::Node& node) const { return {source_, node.Mark().line + 1}; }

  void expect_map(const YAML::Node& node, const std::string& key) const {
    if (!node.IsMap()) fail(node, key, "expected a mapping (key: value), got " + kind(node));
  }

  // Refuses keys not in `allowed`, suggesting the closest one.
  void only_keys(const YAML::Node& map, const std::string& key,
                 const std::vector<std::string>& allowed) const {
    for (const auto& kv : map) {
      const auto name = kv.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
      // A name past 80 bytes is shown cut: an error is one readable line.
      const std::string shown = name.size() <= 80 ? name
                                                  : name.substr(0, 60) + "... (" +
                                                        std::to_string(name.size()) + " bytes)";
      std::string what = "unknown key '" + shown + "'";
      if (auto near = closest_match(name, allowed))
        what += " (did you mean '" + *near + "'?)";
      else
        what += " (expected one of: " + join(allowed) + ")";
      fail(kv.first, key.empty() ? shown : key + "." + shown, what);
    }
  }

  std::string string(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "expected a string, got " + kind(node));
    return node.Scalar();
  }

  int integer(const YAML::Node& node, const std::string& key, int min) const {
    if (!node.IsScalar()) fail(node, key, "expected a whole number, got " + kind(node));
    if (!lexical::is_integer(node.Scalar(), 9))
      fail(node, key, "'" + node.Scalar() + "' is not a whole number");
    const int value = std::stoi(node.Scalar());
    if (value < min)
      fail(node, key, "must be at least " + std::to_string(min) + ", got " + node.Scalar());
    return value;
  }

  std::chrono::milliseconds duration(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "expected a duration, got " + kind(node));
    auto d = parse_duration(node.Scalar());
    if (!d)
      fail(node, key,
           "'" + node.Scalar() + "' is not a duration (expected e.g. 500ms, 10s, 2m, 1h)");
    if (d->count() == 0) fail(node, key, "must be longer than 0");
    return *d;
  }

  std::vector<std::string> strings(const YAML::Node& node, const std::string& key) const {
    if (!node.IsSequence()) fail(node, key, "expected a list of strings, got " + kind(node));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < node.size(); ++i)
      out.push_back(string(node[i], key + "[" + std::to_string(i) + "]"));
    return out;
  }

  Range range(const YAML::Node& node, const std::string& key) const {
    const auto text = string(node, key);
    try {
      return Range::parse(text);
    } catch (const RangeError& e) {
      fail(node, key, e.what());
    }
  }

  static std::string kind(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Scalar:
        return "'" + node.Scalar() + "'";
      case YAML::NodeType::Null:
        return "nothing";
      default:
        return "an undefined value";
    }
  }

  static std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  mutable std::size_t values_ = 0;  // spent by spend()
  mutable std::size_t text_ = 0;
};

// The `${...}` references of config strings (see parse_config in
// config.hpp): a malformed one is an error here, naming file:line and the
// key; params strings holding one are noted for resolve_references; targets
// are resolved here, and what failed is kept for resolve_references.
class References {
 public:
  References(const Reader& r, Secrets& secrets)
      : r_(r), base_dir_(std::filesystem::path(r.source()).parent_path()), secrets_(secrets) {}

  // Whether text holds a reference or a `$${` escape.
  bool check(const YAML::Node& node, const std::string& key, const std::string& text) const {
    if (text.find("${") == std::string::npos) return false;
    try {
      return check_references(text);
    } catch (const ReferenceError& e) {
      r_.fail(node, key, e.what());
    }
  }

  // Notes a params string at `at` that resolve_references must substitute.
  void note(const YAML::Node& node, const std::string& key,
            const nlohmann::ordered_json::json_pointer& at, const std::string& text,
            std::vector<ParamReference>& out) const {
    if (check(node, key, text)) out.push_back({at, key, r_.at(node)});
  }

  // A target with its references substituted; when one cannot be, the target
  // as written, and `error` says why (a config error, without any value).
  std::string target(const YAML::Node& node, const std::string& key, const std::string& text,
                     std::string& error) const {
    if (!check(node, key, text)) return text;
    try {
      return substitute_references(text, base_dir_, secrets_);
    } catch (const ReferenceError& e) {
      error = r_.at(node).where() + ": " + key + ": " + e.what();
      return text;
    }
  }

 private:
  const Reader& r_;
  std::filesystem::path base_dir_;
  Secrets& secrets_;
};

// Drops what `out` noted at or under `at`: a repeated key replaced it.
void forget(std::vector<ParamReference>& out, const nlohmann::ordered_json::json_pointer& at) {
  const std::string prefix = at.to_string();
  out.erase(std::remove_if(out.begin(), out.end(),
                           [&](const ParamReference& ref) {
                             const std::string p = ref.pointer.to_string();
                             return p == prefix || p.rfind(prefix + "/", 0) == 0;
                           }),
            out.end());
}

// YAML has no types for plain scalars; give params the JSON types a user
// means. Strings holding references are noted in `out`, at their place `at`.
nlohmann::ordered_json to_json(const Reader& r, const YAML::Node& node, const std::string& key,
                               const nlohmann::ordered_json::json_pointer& at,
                               const References& refs, std::vector<ParamReference>& out,
                               int depth = 0) {
  r.spend(node, key, node.IsScalar() ? node.Scalar().size() : 0);
  // Each level copies the key and the pointer that name it: depth costs
  // depth² bytes, and no check needs more than a few levels.
  if (depth > kMaxParamsDepth)
    r.fail(node, key.substr(0, 200) + "...",
           "params nest deeper than " + std::to_string(kMaxParamsDepth) +
               " levels; that is the limit");
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      auto obj = nlohmann::ordered_json::object();
      for (const auto& kv : node) {
        const auto name = kv.first.as<std::string>();
        if (!lexical::is_utf8(name)) r.fail(kv.first, key, "a key that is not valid UTF-8");
        if (obj.contains(name)) forget(out, at / name);
        r.spend(kv.first, key, name.size());
        obj[name] = to_json(r, kv.second, key + "." + name, at / name, refs, out, depth + 1);
      }
      return obj;
    }
    case YAML::NodeType::Sequence: {
      auto arr = nlohmann::ordered_json::array();
      for (std::size_t i = 0; i < node.size(); ++i)
        arr.push_back(
            to_json(r, node[i], key + "[" + std::to_string(i) + "]", at / i, refs, out, depth + 1));
      return arr;
    }
    case YAML::NodeType::Scalar: {
      const auto& s = node.Scalar();
      // JSON (and every report) is UTF-8: say where, not crash later.
      if (!lexical::is_utf8(s)) r.fail(node, key, "is not valid UTF-8");
      if (node.Tag() == "!") {  // quoted: always a string
        refs.note(node, key, at, s, out);
        return s;
      }
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~") return nullptr;
      if (lexical::is_integer(s, 18)) return std::stoll(s);
      if (lexical::is_decimal(s)) {
        try {
          return std::stod(s);
        } catch (const std::out_of_range&) {
          // Beyond a double (1e999, 1e-400): stays a string, which the params check names.
        }
      }
      refs.note(node, key, at, s, out);
      return s;
    }
    default:
      return nullptr;
  }
}

struct RawCheck {
  CheckSpec spec;
  std::vector<std::string> targets;
  std::vector<std::string> target_errors;  // by target; "" when it resolved
  bool fan_out = false;
};

RawCheck read_check(const Reader& r, const YAML::Node& node, const std::string& key,
                    const Defaults& defaults, const References& refs) {
  r.expect_map(node, key);
  r.only_keys(node, key, check_keys());
  RawCheck raw;
  CheckSpec& c = raw.spec;
  c.location = r.at(node);
  c.timeout = defaults.timeout;
  c.retries = defaults.retries;
  for (const char* required : {"id", "plugin", "type"})
    if (!node[required]) r.fail(node, key + "." + required, "missing (every check needs one)");
  c.base_id = r.string(node["id"], key + ".id");
  if (!lexical::is_check_id(c.base_id))
    r.fail(node["id"], key + ".id",
           "'" + c.base_id + "' is not a valid id (use lowercase letters, digits, '.', '_', '-')");
  const std::string k = "checks[" + c.base_id + "]";
  c.plugin = r.string(node["plugin"], k + ".plugin");
  c.plugin_location = r.at(node["plugin"]);
  c.type = r.string(node["type"], k + ".type");
  c.type_location = r.at(node["type"]);
  if (node["tags"]) {
    c.tags = r.strings(node["tags"], k + ".tags");
    for (std::size_t i = 0; i < c.tags.size(); ++i)
      if (escape_control(c.tags[i]) != c.tags[i])
        r.fail(node["tags"][i], k + ".tags[" + std::to_string(i) + "]",
               "contains a control character, bidi control or line separator");
  }
  if (node["timeout"]) c.timeout = r.duration(node["timeout"], k + ".timeout");
  if (node["retries"]) c.retries = r.integer(node["retries"], k + ".retries", 0);
  if (node["interval"]) c.interval = r.duration(node["interval"], k + ".interval");
  c.params_location = c.location;
  c.depends_on_location = c.location;
  if (node["depends_on"]) {
    c.depends_on = r.strings(node["depends_on"], k + ".depends_on");
    c.depends_on_location = r.at(node["depends_on"]);
  }
  if (node["params"]) {
    r.expect_map(node["params"], k + ".params");
    c.params = to_json(r, node["params"], k + ".params", nlohmann::ordered_json::json_pointer(),
                       refs, c.references);
    c.params_location = r.at(node["params"]);
  }
  if (node["thresholds"]) {
    const auto& th = node["thresholds"];
    r.expect_map(th, k + ".thresholds");
    for (const auto& kv : th) {
      const auto metric = kv.first.as<std::string>();
      const auto mk = k + ".thresholds." + metric;
      r.expect_map(kv.second, mk);
      r.only_keys(kv.second, mk, threshold_keys());
      ThresholdSpec spec;
      spec.location = r.at(kv.first);
      if (kv.second["warning"]) spec.warning = r.range(kv.second["warning"], mk + ".warning");
      if (kv.second["critical"]) spec.critical = r.range(kv.second["critical"], mk + ".critical");
      c.thresholds[metric] = spec;
    }
  }
  if (c.params.contains("target")) {
    if (!c.params["target"].is_string())
      r.fail(node["params"]["target"], k + ".params.target", "expected a string");
    c.target = c.params["target"].get<std::string>();
    if (const auto problem = target_problem(c.target))
      r.fail(node["params"]["target"], k + ".params.target", *problem);
  }
  if (node["targets"]) {
    if (c.params.contains("target"))
      r.fail(node["targets"], k + ".targets",
             "give either targets (fan-out) or params.target, not both");
    raw.targets = r.strings(node["targets"], k + ".targets");
    if (raw.targets.empty()) r.fail(node["targets"], k + ".targets", "must not be empty");
    raw.target_errors.resize(raw.targets.size());
    for (std::size_t i = 0; i < raw.targets.size(); ++i) {
      const auto key = k + ".targets[" + std::to_string(i) + "]";
      raw.targets[i] = refs.target(node["targets"][i], key, raw.targets[i], raw.target_errors[i]);
      // The target becomes part of the id: it must be one a terminal can show,
      // with no credentials, and unique.
      if (const auto problem = target_problem(raw.targets[i]))
        r.fail(node["targets"][i], key, *problem);
      for (std::size_t j = 0; j < i; ++j)
        if (raw.targets[j] == raw.targets[i])
          r.fail(node["targets"][i], key,
                 "the same target as targets[" + std::to_string(j) +
                     "] (each target is one check instance, with its own id)");
    }
    raw.fan_out = true;
  }
  return raw;
}

Isolation read_isolation(const Reader& r, const YAML::Node& node, const std::string& key) {
  const auto text = r.string(node, key);
  if (text == "process") return Isolation::process;
  if (text == "in-process") return Isolation::in_process;
  r.fail(node, key, "'" + text + "' is not an isolation mode (expected process or in-process)");
}

Defaults read_defaults(const Reader& r, const YAML::Node& node) {
  Defaults d;
  r.expect_map(node, "defaults");
  r.only_keys(node, "defaults", defaults_keys());
  if (node["timeout"]) d.timeout = r.duration(node["timeout"], "defaults.timeout");
  if (node["retries"]) d.retries = r.integer(node["retries"], "defaults.retries", 0);
  if (node["jobs"]) d.jobs = r.integer(node["jobs"], "defaults.jobs", 1);
  if (node["isolation"]) d.isolation = read_isolation(r, node["isolation"], "defaults.isolation");
  return d;
}

std::map<std::string, PluginSettings> read_plugins(const Reader& r, const YAML::Node& node) {
  std::map<std::string, PluginSettings> out;
  r.expect_map(node, "plugins");
  for (const auto& kv : node) {
    const auto name = kv.first.as<std::string>();
    const std::string key = "plugins." + name;
    r.expect_map(kv.second, key);
    r.only_keys(kv.second, key, plugin_keys());
    PluginSettings settings;
    if (kv.second["isolation"])
      settings.isolation = read_isolation(r, kv.second["isolation"], key + ".isolation");
    if (kv.second["memory_limit_mb"])
      settings.memory_limit_mb =
          r.integer(kv.second["memory_limit_mb"], key + ".memory_limit_mb", 0);
    out[name] = settings;
  }
  return out;
}

// `history: FILE` or `history: {path: FILE, keep: 30d}` (docs/config.md).
HistorySettings read_history(const Reader& r, const YAML::Node& node) {
  HistorySettings h;
  h.location = r.at(node);
  if (!node.IsMap() && !node.IsScalar())
    r.fail(node, "history",
           "expected a file name or a mapping {path: FILE, keep: 30d}, got " + Reader::kind(node));
  // Copied, never assigned: assigning a YAML::Node writes through to the node it refers to.
  const YAML::Node path_node = node.IsMap() ? node["path"] : node;
  if (node.IsMap()) {
    r.only_keys(node, "history", history_keys());
    if (const auto keep = node["keep"]) {
      const auto text = r.string(keep, "history.keep");
      h.keep = parse_age(text);
      if (!h.keep)
        r.fail(keep, "history.keep",
               "'" + text +
                   "' is not a retention (expected a positive duration of at most 100 years, "
                   "e.g. 30d, 2w, 12h)");
    }
  }
  if (path_node) {
    const auto key = node.IsMap() ? "history.path" : "history";
    const auto text = r.string(path_node, key);
    if (text.empty()) r.fail(path_node, key, "must not be empty (a database file name)");
    if (text.find('\0') != std::string::npos || escape_control(text) != text)
      r.fail(path_node, key, "contains a control character");
    const std::filesystem::path file(text);
    // Relative to the config, as ${file:...} references are: the same config
    // records to the same database whatever the working directory.
    h.path = file.is_absolute() ? text
                                : (std::filesystem::path(r.source()).parent_path() / file).string();
  }
  return h;
}

// Refuses dependency cycles, naming the cycle.
void check_cycles(const Reader& r, const std::vector<RawCheck>& raws) {
  std::map<std::string, const RawCheck*> by_id;
  for (const auto& raw : raws) by_id[raw.spec.base_id] = &raw;
  std::map<std::string, int> state;  // 0 new, 1 on stack, 2 done
  std::vector<std::string> stack;
  std::function<void(const std::string&)> visit = [&](const std::string& id) {
    state[id] = 1;
    stack.push_back(id);
    for (const auto& dep : by_id[id]->spec.depends_on) {
      if (state[dep] == 1) {
        std::string cycle;
        auto it = std::find(stack.begin(), stack.end(), dep);
        for (; it != stack.end(); ++it) cycle += *it + " -> ";
        cycle += dep;
        const auto& spec = by_id[id]->spec;
        throw ConfigError(spec.depends_on_location.where() + ": checks[" + spec.base_id +
                          "].depends_on: dependency cycle " + cycle);
      }
      if (state[dep] == 0) visit(dep);
    }
    stack.pop_back();
    state[id] = 2;
  };
  (void)r;
  for (const auto& raw : raws)
    if (state[raw.spec.base_id] == 0) visit(raw.spec.base_id);
}

}  // namespace

static Config parse_config_node(const std::string& text, const std::string& source);

Config parse_config(const std::string& text, const std::string& source) {
  try {
    return parse_config_node(text, source);
  } catch (const YAML::Exception& e) {
    // What the readers above do not expect (a mapping used as a key, say)
    // still names the place; found by tests/fuzz/fuzz_config.
    throw ConfigError(SourceLocation{source, e.mark.is_null() ? 0 : e.mark.line + 1}.where() +
                      ": not a valid config: " + e.msg);
  }
}

static Config parse_config_node(const std::string& text, const std::string& source) {
  Reader r(source);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(SourceLocation{source, e.mark.line + 1}.where() +
                      ": not valid YAML or JSON: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull())
    throw ConfigError(source + ": the config is empty (expected a mapping with 'checks')");
  r.expect_map(root, "(top level)");
  r.only_keys(root, "", top_keys());
  if (root["version"]) {
    const int version = r.integer(root["version"], "version", 1);
    if (version != 1)
      r.fail(root["version"], "version",
             "unsupported config version " + std::to_string(version) + " (expected 1)");
  }
  Config config;
  config.path = source;
  if (root["defaults"]) config.defaults = read_defaults(r, root["defaults"]);
  if (root["plugins"]) config.plugins = read_plugins(r, root["plugins"]);
  if (root["history"]) config.history = read_history(r, root["history"]);
  if (!root["checks"]) r.fail(root, "checks", "missing (expected a list of checks)");
  const auto& checks = root["checks"];
  if (!checks.IsSequence())
    r.fail(checks, "checks", "expected a list, got " + Reader::kind(checks));

  std::vector<RawCheck> raws;
  std::set<std::string> ids;
  const References refs(r, config.secrets);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    auto raw = read_check(r, checks[i], "checks[" + std::to_string(i) + "]", config.defaults, refs);
    if (!ids.insert(raw.spec.base_id).second)
      r.fail(checks[i]["id"], "checks[" + std::to_string(i) + "].id",
             "duplicate id '" + raw.spec.base_id + "'");
    raws.push_back(std::move(raw));
  }
  for (std::size_t i = 0; i < raws.size(); ++i) {
    const auto& spec = raws[i].spec;
    for (std::size_t d = 0; d < spec.depends_on.size(); ++d) {
      const auto& dep = spec.depends_on[d];
      if (ids.count(dep) != 0) continue;
      std::string what = "depends on '" + dep + "', which is not a check id";
      if (auto near = closest_match(dep, {ids.begin(), ids.end()}))
        what += " (did you mean '" + *near + "'?)";
      r.fail(checks[i]["depends_on"][d], "checks[" + spec.base_id + "].depends_on", what);
    }
  }
  check_cycles(r, raws);

  for (auto& raw : raws) {
    if (!raw.fan_out) {
      raw.spec.id = raw.spec.base_id;
      config.checks.push_back(std::move(raw.spec));
      continue;
    }
    for (std::size_t t = 0; t < raw.targets.size(); ++t) {
      const auto& target = raw.targets[t];
      CheckSpec instance = raw.spec;
      instance.id = raw.spec.base_id + "[" + target + "]";
      instance.target = target;
      instance.params["target"] = target;
      instance.target_error = raw.target_errors[t];
      config.checks.push_back(std::move(instance));
    }
  }
  return config;
}

}  // namespace triage::core
