// One HTTP(S) request with libcurl for the cluster plugin's REST checks
// (etcd's JSON gateway, Prometheus' HTTP API), bounded by the check's
// deadline and abandoned when the check is cancelled. Credentials go in
// libcurl options, never in the URL, and are never returned or logged.
#pragma once

#include <curl/curl.h>

#include <optional>
#include <string>
#include <vector>

#include <triage/plugin.hpp>

namespace triage::cluster {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::optional<std::string> body;   // sent with Content-Length when given
};

// How to reach a server: TLS trust and client identity, and credentials.
struct HttpAuth {
  std::string ca_file;       // PEM CA bundle instead of the system store
  std::string cert_file;     // client certificate (mutual TLS)
  std::string key_file;      // its key
  std::string username;      // HTTP basic
  std::string password;      // secret
  std::string bearer_token;  // secret: "Authorization: Bearer ..."
};

struct HttpResponse {
  CURLcode curl = CURLE_OK;  // CURLE_OK when an HTTP response arrived
  std::string curl_error;    // libcurl's message when curl != CURLE_OK
  int os_errno = 0;          // the system's errno behind it (ECONNREFUSED...), 0 if none
  bool cancelled = false;    // the check was cancelled or ran out of time
  long status = 0;
  std::string body;  // at most kMaxBody kept
  bool body_truncated = false;
  double elapsed_ms = 0;
  bool ok() const { return curl == CURLE_OK && status >= 200 && status < 300; }
};

inline constexpr std::size_t kMaxBody = 8 * 1024 * 1024;

// Performs the request; the time it may take is the check's time left (less
// a reserve), or `max_ms` when smaller and positive. Throws std::runtime_error
// only when libcurl cannot be used at all.
HttpResponse perform(const HttpRequest& request, const HttpAuth& auth, const Context& ctx,
                     long max_ms = 0);

// "Connection refused (Failed to connect to 127.0.0.1 port 2379 ...)",
// "HTTP 503", "no answer within 2.0 s":
// what went wrong, in words for a finding, never quoting credentials.
std::string describe_failure(const HttpResponse& response);

// Reads the auth params every REST check takes: ca_file, cert_file,
// key_file, username, password, bearer_token (any may be absent). Throws
// ParamError on a half-given pair (cert without key, user without password).
HttpAuth read_auth(const Context& ctx);

// A base URL from a param: http or https only, no userinfo, no query or
// fragment, trailing slashes removed. Throws ParamError naming `param`.
std::string read_base_url(const std::string& url, const std::string& param);

// text with every non-empty secret of auth replaced by "***".
std::string redact(std::string text, const HttpAuth& auth);

}  // namespace triage::cluster
