// The Kubernetes API server as the kubernetes check reads it: GET on a
// collection (v1 nodes and pods, apps/v1 deployments) page by page with
// `limit` and `continue`, each page handed item by item to the caller so
// that no more than one page is held; 429 waited out per Retry-After; an
// expired continue token (410 Gone, reason Expired) restarts the list once;
// the API server's Status answers (401, 403, ...) read into words.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http.hpp"

namespace triage::cluster::kube {

enum class Failure {
  none,
  cancelled,     // the check was cancelled (or its time ran out between pages)
  timed_out,     // no answer within the time left
  unreachable,   // no connection (refused, no route, DNS)
  tls,           // the TLS handshake failed (untrusted or wrong certificate)
  unauthorized,  // 401: no or bad credentials
  forbidden,     // 403: RBAC does not allow the list
  throttled,     // 429 still after the retries the deadline allowed
  unavailable,   // 5xx
  expired,       // 410 again after the one restart
  not_found,     // 404: no such API under this URL
  malformed,     // 2xx that is not the list asked for
  too_large,     // a page larger than the body limit
  rejected,      // any other 4xx
};

struct ListOutcome {
  Failure failure = Failure::none;
  long http_status = 0;
  std::string reason;   // the Status' reason (Unauthorized, Forbidden, Expired, ...) when given
  std::string message;  // what went wrong, in words, bounded, credentials redacted
  std::size_t items = 0;
  int pages = 0;
  bool capped = false;     // max_pages read and the server had more
  bool restarted = false;  // an expired continue token restarted the list
  int retries = 0;         // throttled answers (429) waited out
  double slowest_ms = 0;   // the slowest page's round trip
  bool ok() const { return failure == Failure::none; }
};

// At most this many characters of a Status message are kept.
inline constexpr std::size_t kMaxMessage = 400;

class Client {
 public:
  Client(std::string base_url, HttpAuth auth)
      : base_url_(std::move(base_url)), auth_(std::move(auth)) {}

  // GETs path (e.g. /api/v1/pods) with limit=page_size, then with each
  // continue token, at most max_pages pages. `kind` is the list kind the
  // answer must have (PodList). Calls each(item) for every item of every
  // page; when an expired continue token restarts the list, calls reset()
  // first so the caller forgets what it had.
  ListOutcome list(const Context& ctx, const std::string& path, std::string_view kind,
                   long page_size, int max_pages,
                   const std::function<void(const nlohmann::json&)>& each,
                   const std::function<void()>& reset) const;

  const std::string& base_url() const { return base_url_; }
  const HttpAuth& auth() const { return auth_; }

 private:
  std::string base_url_;
  HttpAuth auth_;
};

// /api/v1/nodes; /api/v1/pods or /api/v1/namespaces/NS/pods;
// /apis/apps/v1/deployments or /apis/apps/v1/namespaces/NS/deployments.
std::string nodes_path();
std::string pods_path(const std::string& ns);
std::string deployments_path(const std::string& ns);

// Seconds since the epoch of an RFC 3339 time as the API writes it
// ("2024-05-01T12:00:00Z", also with a fraction or an offset).
std::optional<std::int64_t> parse_time(std::string_view text);

}  // namespace triage::cluster::kube
