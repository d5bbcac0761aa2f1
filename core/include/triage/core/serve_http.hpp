// The HTTP side of `triage serve` (cpp-httplib): /metrics, /healthz,
// /report[?format=...], an optional bearer token on all but /healthz, and
// the --listen address. Requests are bounded (GET only, no body, 5 s to send
// one, a fixed pool of worker threads).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "triage/core/serve_state.hpp"

namespace triage::core::serve {

struct Listen {
  std::string host;  // an IPv4 or IPv6 address (no name: no resolver at start)
  std::uint16_t port = 0;
  std::string text() const;  // "127.0.0.1:9477", "[::1]:9477"
};

inline constexpr const char* kDefaultListen = "127.0.0.1:9477";

// "HOST:PORT" or "[IPV6]:PORT", HOST a numeric address, PORT 1..65535.
// nullopt with `why` set when it is not.
std::optional<Listen> parse_listen(std::string_view text, std::string& why);

// True for 127.0.0.0/8 and ::1.
bool is_loopback(const Listen& listen);

// The bearer token: the first line of the file (without its line end), at
// most 4 KiB, not empty. Throws std::runtime_error naming the file and what
// to do. The token itself never appears in a message.
std::string read_token_file(const std::filesystem::path& file);

class HttpServer {
 public:
  // token: "" for none. The server reads state on every request.
  HttpServer(ServiceState& state, std::string token);
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on a thread of its own; false with `error` set
  // when the address cannot be bound.
  bool start(const Listen& listen, std::string& error);
  void stop();

  // Replaces the token (SIGHUP re-reads --token-file).
  void set_token(std::string token);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace triage::core::serve
