// The secret strings of a run, and how they are kept out of every output.
//
// A config value may reference a value instead of holding it: `${var:NAME}`
// (an environment variable that is not secret: an endpoint, a hostname),
// `${env:NAME}` (an environment variable that is) or `${file:PATH}` (a
// file's content, one trailing newline stripped). Every value substituted
// from ${env:...} or ${file:...} is a secret, and so is every value of a
// param that its check type's JSON Schema marks `"writeOnly": true` or
// `"x-triage-secret": true`. The report, the log lines and `triage list`
// show `***` in place of each of them. See docs/reliability.md#secrets.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace triage::core {

struct Config;
class PluginRegistry;

// What a secret is replaced with.
inline constexpr std::string_view kRedacted = "***";

// A set of secret strings. A plain value: copy it to wherever text must be
// redacted; nothing global.
class Secrets {
 public:
  // Shorter values are not recorded: redacting every "on" or "443" would
  // garble reports without protecting anything.
  static constexpr std::size_t kMinLength = 4;
  // The shortest start of a secret redacted where text was cut.
  static constexpr std::size_t kMinPrefix = 6;

  // Records a secret, with the forms the host and plugins may give it on the
  // way to a report: cleaned (output hygiene), control characters as spaces
  // (one-line views), escaped for a terminal (escape_control, and its ASCII
  // form), bytes as \xNN (plugins' previews, either case), and JSON string
  // escaping, once and twice (a plugin echoing its params as JSON).
  void add(std::string_view value);
  void add(const Secrets& other);

  bool empty() const { return values_.empty(); }
  // Distinct, longest first.
  const std::vector<std::string>& values() const { return values_; }

  // text with every occurrence of every secret replaced by "***", and a
  // secret's first kMinPrefix+ bytes where the text was cut (at its end, or
  // before "...", "…" or " [truncated]"). Occurrences that overlap or touch
  // become a single "***", so no piece of a secret survives next to another.
  std::string redact(std::string_view text) const;
  // Redacts every string and every object key of a JSON document in place.
  void redact(nlohmann::ordered_json& document) const;

 private:
  void insert(std::string value);
  std::vector<std::string> values_;
};

// A `${...}` reference that cannot be resolved. The message names what is
// wrong (a variable name, a file path) and never a value.
class ReferenceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Replaces the references in text: `${var:NAME}` and `${env:NAME}` by the
// environment variable NAME, `${file:PATH}` by the content of PATH (relative
// to base_dir) less one trailing newline, and `$${` by a literal `${`. Each
// value substituted from ${env:...} or ${file:...} is added to secrets; one
// from ${var:...} is not. Substituted values are never read again for
// references. Throws ReferenceError.
std::string substitute_references(std::string_view text, const std::filesystem::path& base_dir,
                                  Secrets& secrets);

// Checks the references in text without resolving them: throws
// ReferenceError for what substitute_references refuses whatever the
// environment and the files hold (a `${` not closed, an unknown kind, a bad
// variable name, `${file:}`). Returns whether text holds a reference or a
// `$${` escape, i.e. whether substitute_references would change it.
bool check_references(std::string_view text);

// Adds to `out` the values in params that schema (a check type's params JSON
// Schema) marks secret: a schema with "writeOnly": true or
// "x-triage-secret": true, reached through "properties",
// "additionalProperties", "items", "allOf", "anyOf" or "oneOf" at any depth.
// Every string inside a marked value counts.
void collect_declared_secrets(const nlohmann::ordered_json& params,
                              const nlohmann::ordered_json& schema, Secrets& out);

// Adds to config.secrets the secret params of every check, as their check
// types' schemas declare them. Call after the plugins are loaded and after
// resolve_references (a declared-secret param may take its value from a
// ${var:...}); checks of unknown plugins or types are passed over. Throws
// std::logic_error when a check of config still has unresolved references.
void add_declared_secrets(Config& config, const PluginRegistry& registry);

}  // namespace triage::core
