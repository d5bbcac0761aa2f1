// A local HTTPS server that replays responses written from a vendor's
// published API reference, for the control planes that have no local
// equivalent (Databricks, Kubernetes, Azure Resource Manager, Microsoft Entra
// ID token endpoints). It is NOT the service: it knows nothing but the
// routes of its fixture file, each of which names the documentation it was
// written from. Served on 127.0.0.1 with a certificate from make_certs for
// "localhost" (trust certs().ca), by cpp-httplib in a thread of the test.
//
// A fixture is a JSON file in tests/support/replays/NAME.json:
//   {"about":   "Documented-response replay of ..., not the service.",
//    "sources": ["https://learn.microsoft.com/...", ...],
//    "routes":  [ROUTE, ...],
//    "scenarios": {"NAME": [ROUTE, ...], ...}}
// ROUTE:
//   {"method": "GET", "path": "/api/2.0/clusters/list",
//    "query":   {"page_token": "p2", "absent_param": null},  each must match
//    "headers": {"authorization": "Bearer good"},            each must match (names any case)
//    "responses": [RESPONSE, ...]}   served in turn; the last one repeats
// RESPONSE:
//   {"status": 200, "headers": {"Retry-After": "1"},
//    "json": {...}  or  "body": "raw text",   (json: Content-Type application/json)
//    "delay_ms": 0,                            answer only after this long
//    "hang": false}                            never answer (until the server stops)
// Routes are tried in order, a scenario's before the common ones; a request no
// route matches gets 404 {"replay_error": "no route for METHOD PATH"}. In a
// body (json or raw) these are replaced, N in seconds:
//   {{now_ms}} {{now_ms-N}} {{now_ms+N}}    epoch milliseconds
//   {{now_s}}  {{now_s-N}}  {{now_s+N}}     epoch seconds
//   {{rfc3339}} {{rfc3339-N}} {{rfc3339+N}} "2026-12-03T18:00:00Z"
//   {{rfc1123}} {{rfc1123-N}} {{rfc1123+N}} "Thu, 03 Dec 2026 18:00:00 GMT"
//   {{base_url}}                             "https://localhost:PORT"
// In a "json" body, a string that is exactly "{{now_ms...}}" or "{{now_s...}}"
// becomes a JSON number, as the vendors send those times.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "services.hpp"

namespace triage::test {

// The path of tests/support/replays/NAME.json.
std::filesystem::path replay_fixture(const std::string& name);

class ReplayServer {
 public:
  // Serves the fixture file `name` (see replay_fixture), with the routes of
  // `scenario` tried first when it is not empty (throws when it is unknown).
  explicit ReplayServer(const std::string& name, const std::string& scenario = "");
  // (A string literal would also convert to nlohmann::json: this picks the file.)
  explicit ReplayServer(const char* name, const std::string& scenario = "")
      : ReplayServer(std::string(name), scenario) {}
  // Serves a fixture document given in the test itself (same shape).
  ReplayServer(const nlohmann::json& fixture, const std::string& scenario);
  ~ReplayServer();
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  std::uint16_t port() const;
  // "https://localhost:<port>" + path
  std::string url(std::string_view path = "") const;
  const Certs& certs() const;

  // One request as received: header names lower-cased, query decoded.
  struct Request {
    std::string method;
    std::string path;
    std::multimap<std::string, std::string> query;
    std::multimap<std::string, std::string> headers;
    std::string body;
  };
  // Every request so far, in the order they arrived.
  std::vector<Request> requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace triage::test
