// Checks a check's params against the JSON Schema its plugin declared, so a
// typo or a wrong type is a config error (file:line: key) before anything runs.
#include "triage/core/params_check.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <triage/evaluation.hpp>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

namespace triage::core {

namespace {

// The JSON Schema validator matches `pattern` (and `format`) with
// std::regex, whose matcher recurses once per character: a 30 kB string
// overflows the stack. Strings longer than this are refused before it runs
// where the schema would match them against a regex.
constexpr std::size_t kMaxPatternInput = 4096;

// True when a schema (or any part of it) matches strings against a regex.
bool uses_regex(const nlohmann::json& schema) {
  if (schema.is_object()) {
    for (const auto& [key, value] : schema.items())
      if (key == "pattern" || key == "patternProperties" || key == "propertyNames" ||
          key == "format" || uses_regex(value))
        return true;
  } else if (schema.is_array()) {
    for (const auto& value : schema)
      if (uses_regex(value)) return true;
  }
  return false;
}

// The length of the longest string (value or key) in a JSON value.
std::size_t longest_string(const nlohmann::json& value) {
  std::size_t longest = 0;
  if (value.is_string()) return value.get_ref<const std::string&>().size();
  if (value.is_object())
    for (const auto& [key, item] : value.items())
      longest = std::max({longest, key.size(), longest_string(item)});
  if (value.is_array())
    for (const auto& item : value) longest = std::max(longest, longest_string(item));
  return longest;
}

}  // namespace

struct ParamsChecker::Compiled {
  nlohmann::json document;
  valijson::Schema schema;
};

ParamsChecker::ParamsChecker() = default;
ParamsChecker::~ParamsChecker() = default;

const ParamsChecker::Compiled* ParamsChecker::compile(const CheckType& type) {
  auto it = cache_.find(&type);
  if (it != cache_.end()) return it->second.get();
  auto compiled = std::make_unique<Compiled>();
  try {
    compiled->document = nlohmann::json::parse(type.params_schema);
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(compiled->document);
    parser.populateSchema(adapter, compiled->schema);
  } catch (const std::exception& e) {
    // The plugin's own schema is broken: its check will judge its params.
    spdlog::warn("check type {}: params schema ignored: {}", type.name, e.what());
    compiled.reset();
  }
  return (cache_[&type] = std::move(compiled)).get();
}

void ParamsChecker::check(const CheckSpec& spec, const CheckType& type) {
  const Compiled* compiled = compile(type);
  if (compiled == nullptr) return;
  const std::string key = "checks[" + spec.base_id + "].params";
  auto fail = [&](const std::string& what) {
    throw ConfigError(spec.params_location.where() + ": " + what);
  };
  const auto params = nlohmann::json::parse(spec.params.dump());
  const auto& schema = compiled->document;
  // Our own pass first, for the two most common mistakes, with better words
  // than a generic validator has: unknown names (with a suggestion) and
  // missing required ones.
  if (const auto problem = evaluation::params_problem(schema, params)) {
    const std::string where = key + "." + problem->name + ": ";
    const std::string check_type = spec.plugin + "." + spec.type;
    if (problem->kind == evaluation::ParamsProblem::Kind::missing)
      fail(where + "missing (" + check_type + " requires it)");
    const auto props = schema.value("properties", nlohmann::json::object());
    std::vector<std::string> known;
    for (const auto& [name, _] : props.items()) known.push_back(name);
    std::string what = where + check_type + " has no param '" + problem->name + "'";
    if (auto near = closest_match(problem->name, known)) what += " (did you mean '" + *near + "'?)";
    fail(what);
  }
  if (schema.is_object() && params.is_object()) {
    const auto props = schema.value("properties", nlohmann::json::object());
    const auto others = schema.value("additionalProperties", nlohmann::json(true));
    for (const auto& [name, value] : params.items()) {
      const auto& part = props.contains(name) ? props[name] : others;
      const std::size_t longest = longest_string(value);
      if (longest > kMaxPatternInput && uses_regex(part))
        fail(key + "." + name + ": a string of " + std::to_string(longest) +
             " bytes is longer than the " + std::to_string(kMaxPatternInput) +
             " bytes its schema's pattern is checked on");
    }
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(params);
  if (validator.validate(compiled->schema, adapter, &results)) return;
  // Report the deepest error: it names the param and what was wrong.
  valijson::ValidationResults::Error error, deepest;
  while (results.popError(error))
    if (error.context.size() >= deepest.context.size()) deepest = error;
  std::string path = key;
  std::string first;  // the top-level param the error is in
  for (std::size_t i = 1; i < deepest.context.size(); ++i) {
    std::string part = deepest.context[i];
    if (part.size() > 2 && part.front() == '[' && part.back() == ']') {
      const std::string inner = part.substr(1, part.size() - 2);
      const bool index = inner.find_first_not_of("0123456789") == std::string::npos;
      part = index ? "[" + inner + "]" : "." + inner;
      if (!index && part.size() > 2 && part[1] == '"')
        part = "." + inner.substr(1, inner.size() - 2);
    }
    if (i == 1 && part.size() > 1 && part[0] == '.') first = part.substr(1);
    path += part;
  }
  std::string what = deepest.description;
  // valijson names the constraint, not what it wanted: add the declared type.
  const auto props = schema.is_object() ? schema.value("properties", nlohmann::json::object())
                                        : nlohmann::json::object();
  if (deepest.context.size() == 2 && props.contains(first) && props[first].contains("type"))
    what += " (expected " + props[first]["type"].dump() + ")";
  fail(path + ": " + what);
}

}  // namespace triage::core
