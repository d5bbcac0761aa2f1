// One HTTPS request to Azure Storage with libcurl, bounded by the check's
// deadline and abandoned when the check is cancelled. Only the response
// headers the check needs are kept; request headers (which carry secrets)
// are never logged or returned.
#pragma once

#include <curl/curl.h>

#include <optional>
#include <string>
#include <vector>

#include <triage/plugin.hpp>

namespace triage::storage::azure {

struct HttpRequest {
  std::string method = "GET";
  std::string url;                     // may carry a SAS: never report it
  std::vector<std::string> headers;    // "Name: value"
  std::optional<std::string> body;     // sent with Content-Length when given
  std::size_t max_body = 1024 * 1024;  // response bytes kept; the rest is dropped
};

struct HttpResponse {
  CURLcode curl = CURLE_OK;  // CURLE_OK when an HTTP response arrived
  std::string curl_error;    // libcurl's message when curl != CURLE_OK
  bool cancelled = false;    // the check was cancelled or ran out of time
  long status = 0;
  std::string body;  // at most the request's max_body kept
  bool body_truncated = false;
  std::string request_id;   // x-ms-request-id
  std::string error_code;   // x-ms-error-code (also sent on HEAD responses)
  std::string retry_after;  // Retry-After, as sent
  int retries = 0;          // perform_with_retry: throttled answers waited out
  double elapsed_ms = 0;
};

struct TransportOptions {
  std::optional<std::string> ca_file;  // PEM CA bundle instead of the system store
};

// Initializes libcurl once per process (thread-safe); throws when it cannot.
void ensure_curl();

HttpResponse perform(const HttpRequest& request, const TransportOptions& options,
                     const Context& ctx);

// perform(), and when the service throttles — 503 (Azure Storage's ServerBusy)
// or 429 — waits what Retry-After asks (1 s when it says nothing) and tries
// again, at most max_retries times and only while the wait ends before the
// check's deadline; otherwise returns the throttled answer. The wait ends
// early when the check is cancelled. Every Blob REST request the checks make
// is idempotent (GET, a PUT of the same canary, DELETE), so a retry is safe.
HttpResponse perform_with_retry(const HttpRequest& request, const TransportOptions& options,
                                const Context& ctx, int max_retries = 2);

}  // namespace triage::storage::azure
