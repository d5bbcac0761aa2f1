// One HTTP(S) request with libcurl for the plugins' REST checks (etcd's JSON
// gateway, Prometheus, Databricks, Kubernetes, Azure), bounded by the check's
// deadline and abandoned when the check is cancelled. Credentials go in
// libcurl options, never in the URL, and are never returned or logged.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <triage/plugin.hpp>

namespace triage::rest {

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
  // In-memory PEM instead of files (kubeconfig's *-data fields): used when
  // not empty, in place of ca_file, cert_file and key_file.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;  // secret
};

struct HttpResponse {
  CURLcode curl = CURLE_OK;  // CURLE_OK when an HTTP response arrived
  std::string curl_error;    // libcurl's message when curl != CURLE_OK
  int os_errno = 0;          // the system's errno behind it (ECONNREFUSED...), 0 if none
  bool cancelled = false;    // the check was cancelled or ran out of time
  long status = 0;
  std::string body;  // at most kMaxBody kept
  bool body_truncated = false;
  // Response headers, names lower-cased, of the last response (after a
  // redirect or 100-continue only the final one): at most kMaxHeaders, each
  // line cut at 8 KiB.
  std::vector<std::pair<std::string, std::string>> headers;
  double elapsed_ms = 0;
  int retries = 0;  // perform_with_retry: how many throttled answers were waited out
  bool ok() const { return curl == CURLE_OK && status >= 200 && status < 300; }
  // The value of a response header (name in lower case), "" when absent.
  std::string_view header(std::string_view lower_name) const;
};

inline constexpr std::size_t kMaxBody = 8 * 1024 * 1024;
inline constexpr std::size_t kMaxHeaders = 100;

// Performs the request; the time it may take is the check's time left (less
// a reserve), or `max_ms` when smaller and positive. Throws std::runtime_error
// only when libcurl cannot be used at all.
HttpResponse perform(const HttpRequest& request, const HttpAuth& auth, const Context& ctx,
                     long max_ms = 0);

// Seconds a Retry-After header asks to wait (delta-seconds or an HTTP-date),
// nullopt when absent or unreadable; never negative.
std::optional<double> retry_after_seconds(const HttpResponse& response);

// Waits `wait` before a retry: only when the retry still fits before the
// check's deadline (with 200 ms to spare), returning early on a cancel.
// False when the caller should give up and report what it has instead.
bool wait_for_retry(const Context& ctx, std::chrono::milliseconds wait);

// perform(), and when the answer is 429 Too Many Requests (or 503 with a
// Retry-After), waits what Retry-After asks (1 s when it says nothing) and
// tries again, at most max_retries times, as long as the wait ends before
// the check's deadline; otherwise returns the throttled answer (retries says
// how many were waited out). The wait ends early when the check is cancelled.
HttpResponse perform_with_retry(const HttpRequest& request, const HttpAuth& auth,
                                const Context& ctx, int max_retries = 3);

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

// RFC 3986 percent-encoding of all but the unreserved characters
// (A-Z a-z 0-9 - _ . ~): a query parameter's or a form field's value.
std::string url_encode(std::string_view text);

// text with every secret of auth (password, bearer token, key PEM) replaced by "***".
std::string redact(std::string text, const HttpAuth& auth);

}  // namespace triage::rest
