// How a streaming check reaches a Kafka cluster: the bootstrap list and the
// security params every check type takes, read from the check's params,
// checked, and turned into librdkafka configuration.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <triage/plugin.hpp>

namespace triage::streaming {

// A check type's params schema: its own `properties` entries (a JSON
// fragment: `"name": {...}, ...`, or "") beside target and the connection
// params every type takes, with `required` naming target and these.
std::string schema_with_connection(std::string_view title, std::string_view own_properties,
                                   std::vector<std::string> required = {});

struct Broker {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
};

struct Connection {
  std::vector<Broker> bootstrap;
  std::string bootstrap_text;  // as librdkafka takes it
  std::string security_protocol = "plaintext";
  std::string sasl_mechanism;
  std::string sasl_username;
  std::string sasl_password;
  std::string ca_file;
  std::map<std::string, std::string> properties;

  bool tls() const { return security_protocol == "ssl" || security_protocol == "sasl_ssl"; }
  bool sasl() const { return security_protocol.rfind("sasl_", 0) == 0; }
  // The values never to show: the password and secret-named properties.
  std::vector<std::string> secrets() const;
  // Identifies a cluster and credentials: checks with equal keys share a client.
  std::string key() const;
};

// Reads and checks the connection params; throws triage::ParamError naming
// the param on a bad value (never quoting a secret).
Connection read_connection(const Context& ctx);

// "host:port" pairs from a bootstrap list; throws ParamError when malformed.
std::vector<Broker> parse_bootstrap(std::string_view text);

// True when a librdkafka property name is a secret's (password, secret, key, token).
bool secret_property(std::string_view name);

// text with every non-empty secret replaced by "***".
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace triage::streaming
