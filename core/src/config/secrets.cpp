// Secret references in config values, secret params declared by schemas, and
// redaction of everything a run shows.
#include "triage/core/secrets.hpp"

#include "triage/core/text_format.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <utility>

#include "triage/core/config.hpp"
#include "triage/core/plugin_loader.hpp"
#include "triage/core/result.hpp"

namespace triage::core {

namespace {

// A secret file bigger than this is a mistake (a wrong path), not a secret.
constexpr std::size_t kMaxSecretFileBytes = 1 << 20;

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

bool valid_env_name(std::string_view name) {
  return !name.empty() && is_name_start(name.front()) &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

enum class Kind { var, env, file };

// Walks the references of text: literal(piece) for the text between them
// (with `$${` already turned into `${`), reference(kind, name) for each one.
// Throws ReferenceError for a malformed reference, before any callback for it.
template <class Literal, class Reference>
void scan(std::string_view text, Literal&& literal, Reference&& reference) {
  std::size_t done = 0;  // text before this has been passed on
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {
      literal(text.substr(done, i - done));
      literal("${");
      done = i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      ++i;
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos)
      throw ReferenceError("'${' without a closing '}' (write $${ for a literal '${')");
    const std::string_view body = text.substr(i + 2, close - i - 2);
    Kind kind;
    std::string_view name;
    if (body.rfind("var:", 0) == 0) {
      kind = Kind::var;
      name = body.substr(4);
    } else if (body.rfind("env:", 0) == 0) {
      kind = Kind::env;
      name = body.substr(4);
    } else if (body.rfind("file:", 0) == 0) {
      kind = Kind::file;
      name = body.substr(5);
    } else {
      throw ReferenceError(
          "'${' starts none of ${var:NAME}, ${env:NAME} or ${file:PATH} (write $${ for a "
          "literal '${')");
    }
    if (kind == Kind::file && name.empty())
      throw ReferenceError("'${file:}' names no file (expected ${file:PATH})");
    if (kind != Kind::file && !valid_env_name(name))
      throw ReferenceError(std::string("'${") + (kind == Kind::var ? "var" : "env") +
                           ":' must be followed by a variable name (letters, digits and '_', not "
                           "starting with a digit) and '}'");
    literal(text.substr(done, i - done));
    reference(kind, name);
    done = i = close + 1;
  }
  literal(text.substr(done));
}

std::string env_value(std::string_view name) {
  const std::string key(name);
  const char* value = std::getenv(key.c_str());
  if (value == nullptr) throw ReferenceError("environment variable " + key + " is not set");
  return value;
}

std::string file_value(std::string_view name, const std::filesystem::path& base_dir) {
  if (name.empty()) throw ReferenceError("'${file:}' names no file (expected ${file:PATH})");
  std::filesystem::path path{std::string(name)};
  if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
  const std::string shown = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) throw ReferenceError("cannot read secret file " + shown + " (" + ec.message() + ")");
  // Not a device or a pipe: reading /dev/zero or a FIFO would never end.
  if (!std::filesystem::is_regular_file(status))
    throw ReferenceError("secret file " + shown + " is not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ReferenceError("cannot read secret file " + shown + " (" + std::strerror(errno) + ")");
  std::string value(kMaxSecretFileBytes + 1, '\0');
  in.read(value.data(), static_cast<std::streamsize>(value.size()));
  if (in.bad()) throw ReferenceError("cannot read secret file " + shown);
  value.resize(static_cast<std::size_t>(in.gcount()));
  if (value.size() > kMaxSecretFileBytes)
    throw ReferenceError("secret file " + shown + " is larger than 1 MiB");
  if (!value.empty() && value.back() == '\n') {
    value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
  }
  return value;
}

// Every string inside value (object keys are names, not secrets).
void add_strings(const nlohmann::ordered_json& value, Secrets& out) {
  if (value.is_string()) {
    out.add(value.get_ref<const std::string&>());
  } else if (value.is_structured()) {
    for (const auto& item : value) add_strings(item, out);
  }
}

bool marked_secret(const nlohmann::ordered_json& schema) {
  for (const char* key : {"writeOnly", "x-triage-secret"}) {
    const auto it = schema.find(key);
    if (it != schema.end() && it->is_boolean() && it->get<bool>()) return true;
  }
  return false;
}

void collect(const nlohmann::ordered_json& value, const nlohmann::ordered_json& schema,
             Secrets& out, int depth) {
  // A schema deeper than this is not one a plugin meant; stop rather than recurse forever.
  if (!schema.is_object() || depth > 64) return;
  if (marked_secret(schema)) return add_strings(value, out);
  for (const char* combinator : {"allOf", "anyOf", "oneOf"}) {
    const auto it = schema.find(combinator);
    if (it != schema.end() && it->is_array())
      for (const auto& sub : *it) collect(value, sub, out, depth + 1);
  }
  if (value.is_object()) {
    const auto props = schema.find("properties");
    const auto extra = schema.find("additionalProperties");
    for (const auto& [name, item] : value.items()) {
      if (props != schema.end() && props->is_object() && props->contains(name))
        collect(item, props->at(name), out, depth + 1);
      else if (extra != schema.end())
        collect(item, *extra, out, depth + 1);
    }
  } else if (value.is_array()) {
    const auto items = schema.find("items");
    if (items == schema.end()) return;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (items->is_object())
        collect(value[i], *items, out, depth + 1);
      else if (items->is_array() && i < items->size())
        collect(value[i], (*items)[i], out, depth + 1);
    }
  }
}

}  // namespace

void Secrets::insert(std::string value) {
  if (value.size() < kMinLength) return;
  if (std::find(values_.begin(), values_.end(), value) != values_.end()) return;
  const auto at = std::find_if(values_.begin(), values_.end(),
                               [&](const std::string& v) { return v.size() < value.size(); });
  values_.insert(at, std::move(value));
}

// value as a plugin's "printable" escaping writes it (the network plugin's
// body previews): backslash doubled, \n \r \t, other bytes outside
// printable ASCII as \xNN in lower or upper case hex.
std::string printable_escaped(std::string_view value, bool upper) {
  std::string out;
  for (const unsigned char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, upper ? "\\x%02X" : "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

std::string json_escaped(std::string_view value) {
  const std::string json =
      nlohmann::ordered_json(std::string(value))
          .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return json.size() >= 2 ? json.substr(1, json.size() - 2) : std::string();
}

void Secrets::add(std::string_view value) {
  if (value.size() < kMinLength) return;
  insert(std::string(value));
  // As output hygiene leaves it (invalid UTF-8 and control characters replaced).
  insert(sanitize_utf8(value));
  // With every control character a space, as one-line views flatten text.
  std::string flat(value);
  std::replace_if(
      flat.begin(), flat.end(),
      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, ' ');
  insert(std::move(flat));
  // As the text views escape it for a terminal, in UTF-8 and in ASCII.
  insert(escape_control(value));
  insert(escape_control_ascii(value));
  // As plugins escape bytes they show (\xc3\xa4), either case.
  insert(printable_escaped(value, false));
  insert(printable_escaped(value, true));
  // Escaped as in a JSON string, without the quotes; and that escaped again
  // (a plugin echoing JSON inside JSON), with its backslashes doubled.
  const std::string json = json_escaped(value);
  insert(json);
  insert(json_escaped(json));
}

void Secrets::add(const Secrets& other) {
  for (const auto& v : other.values_) insert(v);
}

std::string Secrets::redact(std::string_view text) const {
  if (values_.empty() || text.empty()) return std::string(text);
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // [begin, end)
  for (const auto& secret : values_)
    for (auto at = text.find(secret); at != std::string_view::npos; at = text.find(secret, at + 1))
      spans.emplace_back(at, at + secret.size());
  // A secret cut short (a 200-byte preview, a capped summary) leaves its
  // first bytes before the cut: at the end of the text, or before a cut
  // mark. A prefix of kMinPrefix bytes or more there is redacted too.
  std::vector<std::size_t> cuts{text.size()};
  for (const std::string_view mark : {"...", "\xE2\x80\xA6", " [truncated]"})
    for (auto at = text.find(mark); at != std::string_view::npos; at = text.find(mark, at + 1))
      cuts.push_back(at);
  for (const std::size_t cut : cuts)
    for (const auto& secret : values_)
      for (std::size_t n = std::min(cut, secret.size() - 1); n >= kMinPrefix; --n)
        if (text.compare(cut - n, n, secret, 0, n) == 0) {
          spans.emplace_back(cut - n, cut);
          break;
        }
  if (spans.empty()) return std::string(text);
  std::sort(spans.begin(), spans.end());
  std::string out;
  out.reserve(text.size());
  std::size_t done = 0;
  for (std::size_t i = 0; i < spans.size();) {
    const std::size_t begin = spans[i].first;
    std::size_t end = spans[i].second;
    for (++i; i < spans.size() && spans[i].first <= end; ++i) end = std::max(end, spans[i].second);
    out.append(text.substr(done, begin - done));
    out.append(kRedacted);
    done = end;
  }
  out.append(text.substr(done));
  return out;
}

void Secrets::redact(nlohmann::ordered_json& document) const {
  if (values_.empty()) return;
  if (document.is_string()) {
    document = redact(document.get_ref<const std::string&>());
  } else if (document.is_array()) {
    for (auto& item : document) redact(item);
  } else if (document.is_object()) {
    auto out = nlohmann::ordered_json::object();
    for (auto& [key, value] : document.items()) {
      redact(value);
      out[redact(key)] = std::move(value);
    }
    document = std::move(out);
  }
}

std::string substitute_references(std::string_view text, const std::filesystem::path& base_dir,
                                  Secrets& secrets) {
  std::string out;
  out.reserve(text.size());
  scan(
      text, [&](std::string_view piece) { out += piece; },
      [&](Kind kind, std::string_view name) {
        if (kind == Kind::var) {
          out += env_value(name);  // not a secret: an endpoint, a hostname
          return;
        }
        const std::string value = kind == Kind::env ? env_value(name) : file_value(name, base_dir);
        secrets.add(value);
        out += value;
      });
  return out;
}

bool check_references(std::string_view text) {
  bool any = false;
  // A `$${` escape reaches literal() as the piece "${".
  scan(
      text, [&](std::string_view piece) { any = any || piece == "${"; },
      [&](Kind, std::string_view) { any = true; });
  return any;
}

void collect_declared_secrets(const nlohmann::ordered_json& params,
                              const nlohmann::ordered_json& schema, Secrets& out) {
  collect(params, schema, out, 0);
}

void add_declared_secrets(Config& config, const PluginRegistry& registry) {
  std::map<const CheckType*, nlohmann::ordered_json> schemas;
  for (const auto& check : config.checks) {
    // A declared-secret param whose value is still `${var:...}` would leave
    // the value it gets unprotected.
    if (!check.resolved())
      throw std::logic_error("add_declared_secrets: check " + check.id +
                             " has unresolved references (call resolve_references first)");
    const Plugin* plugin = registry.find(check.plugin);
    const CheckType* type = plugin != nullptr ? plugin->find(check.type) : nullptr;
    if (type == nullptr) continue;
    auto it = schemas.find(type);
    if (it == schemas.end())
      it = schemas.emplace(type, nlohmann::ordered_json::parse(type->params_schema, nullptr, false))
               .first;
    if (!it->second.is_discarded())
      collect_declared_secrets(check.params, it->second, config.secrets);
  }
}

}  // namespace triage::core
