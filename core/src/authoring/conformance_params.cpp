// The static half of the conformance kit: descriptor and schema checks, and
// the params the runs use (generated from a schema, or pointed elsewhere).
#include <set>

#include "triage/core/conformance.hpp"
#include "triage/core/lexical.hpp"

namespace triage::core::conformance {

namespace {

using json = nlohmann::json;

bool contains_any(std::string_view name, std::initializer_list<std::string_view> words) {
  for (auto w : words)
    if (name.find(w) != std::string_view::npos) return true;
  return false;
}

// The first declared type of a property ("type": "string" or ["null", "string"]).
std::string type_of(const json& property) {
  if (!property.is_object() || !property.contains("type")) return {};
  const json& t = property["type"];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array())
    for (const auto& each : t)
      if (each.is_string() && each != "null") return each.get<std::string>();
  return {};
}

json sample_value(const std::string& name, const json& property, const Endpoint& to) {
  for (const char* given : {"default", "const"})
    if (property.contains(given)) return property[given];
  for (const char* list : {"enum", "examples"})
    if (property.contains(list) && property[list].is_array() && !property[list].empty())
      return property[list][0];
  const std::string type = type_of(property);
  const std::string lower = [&] {
    std::string s = name;
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }();
  const std::string hostport = to.host + ":" + std::to_string(to.port);
  if (type == "string") {
    if (contains_any(lower, {"url", "uri"}) || property.value("format", "") == "uri")
      return "http://" + hostport + "/";
    if (contains_any(lower, {"target", "address", "endpoint", "server"})) return hostport;
    if (contains_any(lower, {"host"})) return to.host;
    if (contains_any(lower, {"path", "file", "dir", "mount"}))
      return std::filesystem::temp_directory_path().string();
    return std::string(std::max<std::size_t>(property.value("minLength", 1), 1), 'x');
  }
  if (type == "integer" || type == "number") {
    if (lower == "port" || contains_any(lower, {"_port"})) return to.port;
    if (property.contains("minimum") && property["minimum"].is_number()) return property["minimum"];
    return 1;
  }
  if (type == "boolean") return false;
  if (type == "object") return params_from_schema(property, to);
  if (type == "array") {
    json items = json::array();
    const std::size_t need = property.value("minItems", 0);
    for (std::size_t i = 0; i < need; ++i)
      items.push_back(sample_value(name, property.value("items", json::object()), to));
    return items;
  }
  return nullptr;
}

bool looks_like_target(const std::string& name) {
  return contains_any(name, {"target", "url", "uri", "host", "address", "endpoint", "server"}) ||
         name == "port" || contains_any(name, {"_port"});
}

// The draft-07 keywords with the type of value each must have (the gist of
// the meta-schema). Written out rather than handed to valijson: built
// without VALIJSON_USE_EXCEPTIONS, valijson aborts on a malformed schema.
void keyword_problems(const json& schema, const std::string& at, std::vector<std::string>& out) {
  if (schema.is_boolean()) return;
  if (!schema.is_object()) {
    out.push_back("not a valid draft-07 JSON Schema: " + (at.empty() ? "(top)" : at) +
                  " is not a schema (an object or a boolean)");
    return;
  }
  auto bad = [&](const std::string& key, const char* want) {
    out.push_back("not a valid draft-07 JSON Schema: " + at + (at.empty() ? "" : ".") + key +
                  " must be " + want);
  };
  static const std::set<std::string> kTypes{"null",   "boolean", "object", "array",
                                            "number", "string",  "integer"};
  for (const auto& [key, value] : schema.items()) {
    const std::string here = at + (at.empty() ? "" : ".") + key;
    if (key == "type") {
      const bool ok_one = value.is_string() && kTypes.count(value.get<std::string>()) != 0;
      bool ok_list = value.is_array() && !value.empty();
      if (ok_list)
        for (const auto& t : value)
          ok_list = ok_list && t.is_string() && kTypes.count(t.get<std::string>()) != 0;
      if (!ok_one && !ok_list) bad(key, "a JSON type name or a list of them");
    } else if (key == "properties" || key == "patternProperties" || key == "definitions" ||
               key == "dependencies") {
      if (!value.is_object()) {
        bad(key, "an object");
        continue;
      }
      for (const auto& [name, sub] : value.items())
        if (key != "dependencies" || !sub.is_array()) keyword_problems(sub, here + "." + name, out);
    } else if (key == "required" || key == "enum") {
      if (!value.is_array()) bad(key, "an array");
      if (key == "required" && value.is_array())
        for (const auto& name : value)
          if (!name.is_string()) bad(key, "an array of strings");
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      if (!value.is_array() || value.empty()) {
        bad(key, "a non-empty array of schemas");
        continue;
      }
      for (std::size_t i = 0; i < value.size(); ++i)
        keyword_problems(value[i], here + "[" + std::to_string(i) + "]", out);
    } else if (key == "not" || key == "additionalProperties" || key == "additionalItems" ||
               key == "contains" || key == "propertyNames" || key == "if" || key == "then" ||
               key == "else") {
      keyword_problems(value, here, out);
    } else if (key == "items") {
      if (value.is_array())
        for (std::size_t i = 0; i < value.size(); ++i)
          keyword_problems(value[i], here + "[" + std::to_string(i) + "]", out);
      else
        keyword_problems(value, here, out);
    } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems" ||
               key == "minProperties" || key == "maxProperties") {
      if (!value.is_number_integer() || value.get<long long>() < 0)
        bad(key, "a non-negative integer");
    } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
               key == "exclusiveMaximum" || key == "multipleOf") {
      if (!value.is_number()) bad(key, "a number");
    } else if (key == "pattern" || key == "format" || key == "title" || key == "description" ||
               key == "$schema" || key == "$id" || key == "$ref" || key == "$comment") {
      if (!value.is_string()) bad(key, "a string");
    } else if (key == "uniqueItems" || key == "readOnly" || key == "writeOnly") {
      if (!value.is_boolean()) bad(key, "a boolean");
    }
  }
}

}  // namespace

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::pass:
      return "pass";
    case Verdict::fail:
      return "FAIL";
    case Verdict::skip:
      return "skip";
  }
  return "?";
}

bool Report::passed() const {
  for (const auto& r : results)
    if (r.verdict == Verdict::fail) return false;
  return true;
}

std::vector<std::string> descriptor_problems(const Plugin& plugin) {
  std::vector<std::string> problems;
  if (plugin.name.empty())
    problems.push_back("the plugin name is empty");
  else if (!lexical::is_plugin_name(plugin.name))
    problems.push_back("plugin name '" + plugin.name + "' is not of the form [a-z][a-z0-9_-]*");
  if (plugin.version.empty())
    problems.push_back("the version is empty");
  else if (!lexical::is_version(plugin.version))
    problems.push_back("version '" + plugin.version + "' is not MAJOR.MINOR[.PATCH][-pre]");
  if (plugin.description.empty()) problems.push_back("the plugin description is empty");
  if (plugin.abi_major != TRIAGE_ABI_MAJOR)
    problems.push_back("built for ABI " + std::to_string(plugin.abi_major) + ", this triage has " +
                       std::to_string(TRIAGE_ABI_MAJOR));
  if (plugin.sdk_version.empty()) problems.push_back("the SDK version is empty");
  if (plugin.types.empty()) problems.push_back("it declares no check type");
  std::set<std::string> seen;
  for (const auto& t : plugin.types) {
    if (t.name.empty()) problems.push_back("a check type has an empty name");
    if (!seen.insert(t.name).second)
      problems.push_back("check type '" + t.name + "' is declared twice");
    if (t.description.empty()) problems.push_back("check type '" + t.name + "' has no description");
  }
  return problems;
}

std::vector<std::string> schema_problems(std::string_view schema_text) {
  const json schema = json::parse(schema_text, nullptr, false);
  if (schema.is_discarded()) return {"the params schema is not valid JSON"};
  if (!schema.is_object()) return {"the params schema is not a JSON object"};
  std::vector<std::string> problems;
  keyword_problems(schema, "", problems);
  if (schema.value("type", json()) != "object")
    problems.push_back("the top level must have \"type\": \"object\"");
  const json properties = schema.value("properties", json::object());
  if (!properties.is_object()) {
    problems.push_back("\"properties\" is not an object");
    return problems;
  }
  for (const auto& [name, property] : properties.items()) {
    const json description = property.is_object() ? property.value("description", json()) : json();
    if (!description.is_string() || description.get<std::string>().empty())
      problems.push_back("property '" + name + "' has no description");
  }
  const json required = schema.value("required", json::array());
  if (required.is_array())
    for (const auto& name : required)
      if (!name.is_string() || !properties.contains(name.get<std::string>()))
        problems.push_back("required names " + name.dump() + ", which is not a property");
  return problems;
}

json params_from_schema(const json& schema, const Endpoint& to) {
  json params = json::object();
  if (!schema.is_object()) return params;
  const json properties = schema.value("properties", json::object());
  const json required = schema.value("required", json::array());
  if (!properties.is_object() || !required.is_array()) return params;
  for (const auto& name : required) {
    if (!name.is_string()) continue;
    const std::string key = name.get<std::string>();
    params[key] = sample_value(key, properties.value(key, json::object()), to);
  }
  return params;
}

json retarget(json params, const Endpoint& to) {
  if (!params.is_object()) return params;
  for (auto& [name, value] : params.items()) {
    if (!looks_like_target(name)) continue;
    if (value.is_number()) {
      value = to.port;
    } else if (value.is_string()) {
      const auto text = value.get<std::string>();
      const auto scheme = text.find("://");
      if (scheme != std::string::npos)
        value = text.substr(0, scheme) + "://" + to.host + ":" + std::to_string(to.port) + "/";
      else if (name.find("host") != std::string::npos)
        value = to.host;
      else
        value = to.host + ":" + std::to_string(to.port);
    }
  }
  return params;
}

}  // namespace triage::core::conformance
