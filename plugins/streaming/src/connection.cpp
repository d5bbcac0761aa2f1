#include "connection.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace triage::streaming {

namespace {

constexpr std::string_view kConnectionProperties = R"json(
    "target": {
      "type": "string",
      "minLength": 1,
      "maxLength": 4096,
      "description": "Bootstrap brokers, host:port[,host:port...] (IPv6 as [addr]:port). For Azure Event Hubs: NAMESPACE.servicebus.windows.net:9093."
    },
    "security_protocol": {
      "type": "string",
      "enum": ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"],
      "default": "plaintext",
      "description": "How to talk to the brokers. Event Hubs: sasl_ssl."
    },
    "sasl_mechanism": {
      "type": "string",
      "enum": ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"],
      "description": "SASL mechanism, for the sasl_* protocols (default PLAIN). Event Hubs: PLAIN."
    },
    "sasl_username": {
      "type": "string",
      "maxLength": 4096,
      "description": "SASL user name. Event Hubs: the literal $ConnectionString."
    },
    "sasl_password": {
      "type": "string", "writeOnly": true, "x-triage-secret": true,
      "maxLength": 65536,
      "description": "SASL password, a secret: give it as ${env:NAME} or ${file:PATH}. Event Hubs: the namespace's connection string."
    },
    "ca_file": {
      "type": "string",
      "minLength": 1,
      "maxLength": 4096,
      "description": "PEM file of the CA certificate(s) to trust for ssl and sasl_ssl (default: the system's). Certificates and host names are verified (unless properties turn librdkafka's verification off; the per-broker probe verifies always)."
    },
    "properties": {
      "type": "object",
      "maxProperties": 64,
      "additionalProperties": {"type": ["string", "number", "boolean"]},
      "description": "Raw librdkafka properties for what the params above do not cover (e.g. {\"sasl.oauthbearer.method\": \"oidc\"}). A property whose name contains password, secret, key or token is a secret: its value is never shown."
    })json";

constexpr std::size_t kMaxBootstrap = 64;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string schema_with_connection(std::string_view title, std::string_view own_properties,
                                   std::vector<std::string> required) {
  std::string s = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": ")json";
  s.append(title).append(R"json(",
  "type": "object",
  "properties": {)json");
  s.append(kConnectionProperties);
  if (!own_properties.empty()) s.append(",").append(own_properties);
  s.append("\n  },\n  \"required\": [\"target\"");
  for (const auto& r : required) s.append(", \"").append(r).append("\"");
  s.append("],\n  \"additionalProperties\": false\n}");
  return s;
}

std::string Broker::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::vector<Broker> parse_bootstrap(std::string_view text) {
  std::vector<Broker> out;
  auto bad = [&](std::string_view item, const std::string& why) {
    throw ParamError("param 'target': '" + std::string(item) + "' " + why +
                     " (expected host:port[,host:port...])");
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) bad(text, "has an empty broker");
    if (item.find("://") != std::string_view::npos)
      bad(item, "is a URL: give host:port (the protocol is security_protocol)");
    if (item.find('@') != std::string_view::npos)
      throw ParamError(
          "param 'target' must not hold credentials: give sasl_username and "
          "sasl_password");
    Broker b;
    std::string_view port;
    if (item.front() == '[') {
      const auto close = item.find(']');
      if (close == std::string_view::npos || close + 1 >= item.size() || item[close + 1] != ':')
        bad(item, "is not [address]:port");
      b.host = std::string(item.substr(1, close - 1));
      port = item.substr(close + 2);
    } else {
      const auto colon = item.rfind(':');
      if (colon == std::string_view::npos || colon == 0) bad(item, "has no port");
      if (item.substr(0, colon).find(':') != std::string_view::npos)
        bad(item, "is an IPv6 address without brackets");
      b.host = std::string(item.substr(0, colon));
      port = item.substr(colon + 1);
    }
    for (const char c : b.host)
      if (std::iscntrl(static_cast<unsigned char>(c)) || c == ' ' || c == '/')
        bad(item, "has a character a host name cannot have");
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535)
      bad(item, "has no valid port (1-65535)");
    b.port = static_cast<std::uint16_t>(value);
    out.push_back(std::move(b));
    if (out.size() > kMaxBootstrap)
      throw ParamError("param 'target' lists more than " + std::to_string(kMaxBootstrap) +
                       " brokers");
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool secret_property(std::string_view name) {
  const std::string n = lower(name);
  for (const char* word : {"password", "secret", "key", "token"})
    if (n.find(word) != std::string::npos) return true;
  return false;
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.size() < 3) continue;  // too short to tell from ordinary text
    for (auto at = text.find(s); at != std::string::npos; at = text.find(s, at + 3))
      text.replace(at, s.size(), "***");
  }
  return text;
}

std::vector<std::string> Connection::secrets() const {
  std::vector<std::string> out;
  if (!sasl_password.empty()) out.push_back(sasl_password);
  for (const auto& [name, value] : properties)
    if (secret_property(name) && !value.empty()) out.push_back(value);
  return out;
}

std::string Connection::key() const {
  // NUL-separated: no value can fake a boundary (params are UTF-8 text).
  std::string k = bootstrap_text;
  for (const auto* part :
       {&security_protocol, &sasl_mechanism, &sasl_username, &sasl_password, &ca_file})
    k.append(1, '\0').append(*part);
  for (const auto& [name, value] : properties)
    k.append(1, '\0').append(name).append("=").append(value);
  return k;
}

Connection read_connection(const Context& ctx) {
  Connection c;
  const std::string target = ctx.target();
  c.bootstrap = parse_bootstrap(target);
  for (const auto& b : c.bootstrap)
    c.bootstrap_text += (c.bootstrap_text.empty() ? "" : ",") + b.to_string();
  c.security_protocol = lower(ctx.param<std::string>("security_protocol", "plaintext"));
  if (c.security_protocol != "plaintext" && c.security_protocol != "ssl" &&
      c.security_protocol != "sasl_plaintext" && c.security_protocol != "sasl_ssl")
    throw ParamError(
        "param 'security_protocol' must be plaintext, ssl, sasl_plaintext or "
        "sasl_ssl, not '" +
        c.security_protocol + "'");
  c.sasl_mechanism = ctx.param<std::string>("sasl_mechanism", "");
  c.sasl_username = ctx.param<std::string>("sasl_username", "");
  c.sasl_password = ctx.param<std::string>("sasl_password", "");
  if (!c.sasl_mechanism.empty()) {
    static constexpr std::string_view kMechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512",
                                                       "OAUTHBEARER"};
    if (std::find(std::begin(kMechanisms), std::end(kMechanisms), c.sasl_mechanism) ==
        std::end(kMechanisms))
      throw ParamError(
          "param 'sasl_mechanism' must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or "
          "OAUTHBEARER, not '" +
          c.sasl_mechanism + "'");
  }
  if (!c.sasl() &&
      (!c.sasl_mechanism.empty() || !c.sasl_username.empty() || !c.sasl_password.empty()))
    throw ParamError("params 'sasl_*' need security_protocol sasl_ssl or sasl_plaintext (it is " +
                     c.security_protocol + ")");
  if (c.sasl() && c.sasl_mechanism.empty()) c.sasl_mechanism = "PLAIN";
  if (c.sasl() && c.sasl_mechanism != "OAUTHBEARER" &&
      (c.sasl_username.empty() || c.sasl_password.empty()))
    throw ParamError("security_protocol " + c.security_protocol + " with " + c.sasl_mechanism +
                     " needs params 'sasl_username' and 'sasl_password'");
  c.ca_file = ctx.param<std::string>("ca_file", "");
  if (!c.ca_file.empty() && !c.tls())
    throw ParamError("param 'ca_file' needs security_protocol ssl or sasl_ssl (it is " +
                     c.security_protocol + ")");
  if (ctx.has("properties")) {
    const auto& props = ctx.params().at("properties");
    if (!props.is_object()) throw ParamError("param 'properties' must be a mapping");
    for (const auto& [name, value] : props.items()) {
      if (value.is_string())
        c.properties[name] = value.get<std::string>();
      else if (value.is_boolean())
        c.properties[name] = value.get<bool>() ? "true" : "false";
      else if (value.is_number())
        c.properties[name] = value.dump();
      else
        throw ParamError("param 'properties." + name + "' must be a string, number or boolean");
    }
  }
  return c;
}

}  // namespace triage::streaming
