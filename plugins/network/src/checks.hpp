// The network plugin's check types. Each is one class per the SDK's wrapper;
// see plugins/network/README.md for params, metrics and findings.
#pragma once

#include <triage/plugin.hpp>

namespace triage::network {

struct DnsCheck {
  static constexpr const char* name = "dns";
  static constexpr const char* description =
      "Resolves a name with c-ares against the system resolver or a given server";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct TcpCheck {
  static constexpr const char* name = "tcp";
  static constexpr const char* description =
      "Connects to host:port, optionally sends a line and expects a banner";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct HttpCheck {
  static constexpr const char* name = "http";
  static constexpr const char* description =
      "Requests a URL N times with libcurl and reports latency percentiles and error rate";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct TlsCheck {
  static constexpr const char* name = "tls";
  static constexpr const char* description =
      "Reads a server's certificate chain: expiry, trust, hostname, protocol";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct RouteCheck {
  static constexpr const char* name = "route";
  static constexpr const char* description =
      "Checks that a default route exists and its gateway is a reachable neighbour";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct LoopbackCheck {
  static constexpr const char* name = "loopback";
  static constexpr const char* description =
      "Opens a listener on a loopback address and round-trips bytes through it";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

}  // namespace triage::network
