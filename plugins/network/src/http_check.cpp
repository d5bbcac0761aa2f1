// The http check: requests a URL `samples` times (each on a fresh connection,
// up to `concurrency` at once) with libcurl's multi interface, judges every
// response (status, body text, a JSON value) and reports latency percentiles,
// the error rate and one finding per kind of failure. The multi handle is
// driven here in short slices under the check's deadline; nothing blocks.
//
// Request header values and the request body may be secrets (Authorization,
// tokens): they never appear in attributes, findings, summaries or logs.
#include <curl/curl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checks.hpp"
#include "http_stats.hpp"
#include "net_util.hpp"

namespace triage::network {

const char* const HttpCheck::params_schema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "network/http params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
      "description": "The URL to request (http:// or https://)."
    },
    "method": {
      "type": "string", "pattern": "^[A-Za-z]+$", "default": "GET",
      "description": "HTTP method: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS..."
    },
    "headers": {
      "type": "object", "additionalProperties": {"type": "string"},
      "description": "Request headers, name to value. Values are never reported (they may be secrets)."
    },
    "body": {
      "type": "string",
      "description": "Request body (set a Content-Type header to match). Never reported."
    },
    "expect_status": {
      "oneOf": [
        {"type": "integer", "minimum": 100, "maximum": 599},
        {"type": "array", "items": {"type": "integer", "minimum": 100, "maximum": 599}, "minItems": 1}
      ],
      "description": "Accepted status code(s). Default: any of 200..399."
    },
    "body_contains": {
      "type": "string", "minLength": 1,
      "description": "Text the response body must contain."
    },
    "json_pointer": {
      "type": "string", "pattern": "^(/.*)?$",
      "description": "RFC 6901 pointer into the JSON response body, e.g. /status; the value must exist (and equal `equals`, or one of `one_of`, when given)."
    },
    "equals": {
      "description": "The JSON value expected at `json_pointer` (any JSON type)."
    },
    "one_of": {
      "type": "array", "minItems": 1,
      "description": "The JSON values accepted at `json_pointer`, e.g. [\"RUNNING\", \"RESIZING\"] (any JSON types; instead of `equals`)."
    },
    "json_metrics": {
      "type": "object",
      "propertyNames": {"pattern": "^[A-Za-z0-9_.:-]+$"},
      "additionalProperties": {"type": "string", "pattern": "^(/.*)?$"},
      "description": "Metrics read from the JSON response body: metric name to the RFC 6901 pointer of a number (true/false count as 1/0), e.g. {\"lag_s\": \"/lag/seconds\"}, taken from the last successful response; `thresholds:` apply to them by name. A value that is missing or not a number makes the check unknown with a finding."
    },
    "samples": {
      "type": "integer", "minimum": 1, "maximum": 10000, "default": 1,
      "description": "Number of requests, each on a fresh connection (DNS, TCP and TLS included in its latency)."
    },
    "concurrency": {
      "type": "integer", "minimum": 1, "maximum": 64, "default": 1,
      "description": "How many of the requests run at once."
    },
    "follow_redirects": {
      "type": "boolean", "default": false,
      "description": "Follow Location redirects and judge the final response."
    },
    "max_redirects": {
      "type": "integer", "minimum": 0, "maximum": 50, "default": 5,
      "description": "Most redirects followed per request when follow_redirects is true."
    },
    "ca_file": {
      "type": "string", "minLength": 1,
      "description": "PEM file of CA certificates to trust instead of the system store."
    },
    "insecure": {
      "type": "boolean", "default": false,
      "description": "Skip TLS certificate and hostname verification (never for production checks)."
    },
    "timeout_ms": {
      "type": "integer", "minimum": 1,
      "description": "Timeout of each request in milliseconds. Default: the time left before the check's deadline."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})";

namespace {

// Runbook API targets: p50 < 100 ms, p99 < 500 ms, error rate < 0.1 %; its
// "error spike > 1 %" alert is a warning, so critical is left at 5 %.
constexpr const char* kSlowRemediation =
    "Runbook High Latency (the service is undersized or waits on a slow dependency): check its "
    "load, its logs and its slowest backends; scale it up or out if it is saturated.";
constexpr MetricDecl kMetrics[] = {
    metric("latency_p50_ms", "ms",
           "Median total time of the successful requests (connect, TLS, request, whole response)")
        .warning("100")
        .remediation(kSlowRemediation),
    metric("latency_p95_ms", "ms", "95th percentile of the same").remediation(kSlowRemediation),
    metric("latency_p99_ms", "ms", "99th percentile of the same")
        .warning("500")
        .remediation(kSlowRemediation),
    metric("ttfb_ms", "ms", "Median time to the first response byte of the successful requests")
        .remediation("The server is slow to start answering: check the application's request "
                     "handling (worker pool, slow queries, cold caches) rather than the network."),
    metric("error_rate_pct", "%",
           "Share of finished requests that failed (transport error, unexpected status, body or "
           "JSON mismatch)")
        .warning("0.1")
        .critical("5")
        .remediation("The findings name each kind of failure and how many requests hit it: fix "
                     "the most frequent first (runbook Error Spike: the service's logs, recent "
                     "deployments, its upstreams)."),
    metric("status_code", "", "Status code of the last response"),
    // The names are the keys of params.json_metrics, chosen by the user.
    metric("{json_metrics}", "",
           "A number read from the JSON response: one metric per key of json_metrics, at its "
           "pointer"),
};

}  // namespace

const Metrics HttpCheck::metrics{kMetrics};

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxBody = 4 * 1024 * 1024;  // bytes of a body kept for judging
constexpr std::size_t kPreview = 200;              // bytes of a body shown in a finding

constexpr Thresholds kP50Defaults{"100", {}};
constexpr Thresholds kP99Defaults{"500", {}};
constexpr Thresholds kErrorRateDefaults{"0.1", "5"};

void ensure_curl() {
  // curl_global_init once per process, thread-safely (a function-local static).
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("libcurl initialization failed: ") +
                             curl_easy_strerror(rc));
}

// ---- params ------------------------------------------------------------------------

struct Params {
  std::string url;        // as given, used for the requests
  std::string url_shown;  // without user:password, for reports
  bool https = false;
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::optional<std::string> body;
  std::vector<long> expect_status;  // empty: 200..399
  std::optional<std::string> body_contains;
  std::optional<nlohmann::json::json_pointer> pointer;
  std::string pointer_text;
  std::optional<nlohmann::json> equals;
  std::optional<nlohmann::json> one_of;  // an array: the value must be one of them
  // json_metrics: name -> pointer, in name order
  std::vector<std::pair<std::string, nlohmann::json::json_pointer>> json_metrics;
  std::vector<std::string> json_metric_pointers;  // as written, for findings
  int samples = 1;
  int concurrency = 1;
  bool follow = false;
  long max_redirects = 5;
  std::optional<std::string> ca_file;
  bool insecure = false;
  std::optional<long> timeout_ms;
};

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// The URL without its user:password part, for reports; nullopt if unparsable.
std::optional<std::string> redact_url(const std::string& url, std::string* scheme = nullptr) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u ||
      curl_url_set(u.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    return std::nullopt;
  curl_url_set(u.get(), CURLUPART_USER, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_PASSWORD, nullptr, 0);
  if (scheme != nullptr) {
    char* s = nullptr;
    if (curl_url_get(u.get(), CURLUPART_SCHEME, &s, 0) == CURLUE_OK && s != nullptr) {
      *scheme = s;
      curl_free(s);
    }
  }
  char* out = nullptr;
  if (curl_url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK || out == nullptr)
    return std::nullopt;
  std::string text(out);
  curl_free(out);
  return text;
}

bool is_token_char(unsigned char c) {
  return std::isalnum(c) != 0 || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

Params read_params(const Context& ctx) {
  static const std::set<std::string> known{
      "target",        "method",       "headers",          "body",          "expect_status",
      "body_contains", "json_pointer", "equals",           "one_of",        "json_metrics",
      "samples",       "concurrency",  "follow_redirects", "max_redirects", "ca_file",
      "insecure",      "timeout_ms"};
  if (!ctx.params().is_object()) throw ParamError("params must be a JSON object");
  for (const auto& item : ctx.params().items())
    if (known.count(item.key()) == 0) throw ParamError("unknown param '" + item.key() + "'");

  Params p;
  p.url = ctx.target();
  std::string scheme;
  auto shown = redact_url(p.url, &scheme);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!shown || (scheme != "http" && scheme != "https"))
    throw ParamError("param 'target' must be an http:// or https:// URL");
  p.url_shown = *shown;
  p.https = scheme == "https";

  p.method = ctx.param<std::string>("method", "GET");
  if (p.method.empty() || !std::all_of(p.method.begin(), p.method.end(),
                                       [](unsigned char c) { return std::isalpha(c) != 0; }))
    throw ParamError("param 'method' must be an HTTP method name such as GET or POST");
  for (auto& c : p.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  if (ctx.has("headers")) {
    const auto& h = ctx.params().at("headers");
    if (!h.is_object()) throw ParamError("param 'headers' must be an object of name to value");
    for (const auto& item : h.items()) {
      const std::string& name = item.key();
      if (name.empty() ||
          !std::all_of(name.begin(), name.end(), [](unsigned char c) { return is_token_char(c); }))
        throw ParamError("param 'headers': '" + name + "' is not a valid header name");
      if (!item.value().is_string())
        throw ParamError("param 'headers': the value of '" + name + "' must be a string");
      const auto value = item.value().get<std::string>();
      // The value itself is never echoed: it may be a secret.
      if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
        throw ParamError("param 'headers': the value of '" + name +
                         "' contains a line break or NUL");
      p.headers.push_back(name + ": " + value);
    }
  }
  if (ctx.has("body")) p.body = ctx.required<std::string>("body");

  if (ctx.has("expect_status")) {
    const auto& e = ctx.params().at("expect_status");
    std::vector<long> codes;
    if (e.is_number_integer()) {
      codes.push_back(e.get<long>());
    } else if (e.is_array() && !e.empty()) {
      for (const auto& v : e) {
        if (!v.is_number_integer()) throw ParamError("param 'expect_status' must hold integers");
        codes.push_back(v.get<long>());
      }
    } else {
      throw ParamError("param 'expect_status' must be a status code or an array of them");
    }
    for (long c : codes)
      if (c < 100 || c > 599)
        throw ParamError("param 'expect_status': " + std::to_string(c) +
                         " is not an HTTP status code");
    p.expect_status = codes;
  }
  if (ctx.has("body_contains")) {
    p.body_contains = ctx.required<std::string>("body_contains");
    if (p.body_contains->empty()) throw ParamError("param 'body_contains' must not be empty");
  }
  if (ctx.has("json_pointer")) {
    p.pointer_text = ctx.required<std::string>("json_pointer");
    try {
      p.pointer.emplace(p.pointer_text);
    } catch (const nlohmann::json::exception& e) {
      throw ParamError("param 'json_pointer' is not an RFC 6901 pointer: " + std::string(e.what()));
    }
  }
  if (ctx.params().contains("equals")) {
    if (!p.pointer) throw ParamError("param 'equals' needs 'json_pointer'");
    p.equals = ctx.params().at("equals");
  }
  if (ctx.has("one_of")) {
    if (!p.pointer) throw ParamError("param 'one_of' needs 'json_pointer'");
    if (p.equals) throw ParamError("give either 'equals' or 'one_of', not both");
    const auto& values = ctx.params().at("one_of");
    if (!values.is_array() || values.empty())
      throw ParamError("param 'one_of' must be a non-empty array of JSON values");
    p.one_of = values;
  }
  if (ctx.has("json_metrics")) {
    const auto& m = ctx.params().at("json_metrics");
    if (!m.is_object())
      throw ParamError("param 'json_metrics' must be an object of metric name to JSON pointer");
    for (const auto& item : m.items()) {
      const std::string& name = item.key();
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) {
            return std::isalnum(c) != 0 || std::strchr("_.:-", c) != nullptr;
          }))
        throw ParamError("param 'json_metrics': '" + name +
                         "' is not a metric name (letters, digits, '_', '.', ':', '-')");
      if (std::any_of(std::begin(kMetrics), std::end(kMetrics),
                      [&](const MetricDecl& d) { return d.name() == name; }))
        throw ParamError("param 'json_metrics': '" + name +
                         "' is already a metric of the http check; choose another name");
      if (!item.value().is_string())
        throw ParamError("param 'json_metrics': the pointer of '" + name + "' must be a string");
      const auto text = item.value().get<std::string>();
      try {
        p.json_metrics.emplace_back(name, nlohmann::json::json_pointer(text));
      } catch (const nlohmann::json::exception& e) {
        throw ParamError("param 'json_metrics': '" + text + "' (for '" + name +
                         "') is not an RFC 6901 pointer: " + e.what());
      }
      p.json_metric_pointers.push_back(text);
    }
  }

  p.samples = ctx.param<int>("samples", 1);
  if (p.samples < 1 || p.samples > 10000)
    throw ParamError("param 'samples' must be between 1 and 10000");
  p.concurrency = ctx.param<int>("concurrency", 1);
  if (p.concurrency < 1 || p.concurrency > 64)
    throw ParamError("param 'concurrency' must be between 1 and 64");
  p.follow = ctx.param<bool>("follow_redirects", false);
  p.max_redirects = ctx.param<long>("max_redirects", 5);
  if (p.max_redirects < 0 || p.max_redirects > 50)
    throw ParamError("param 'max_redirects' must be between 0 and 50");
  if (ctx.has("ca_file")) {
    p.ca_file = ctx.required<std::string>("ca_file");
    if (!std::ifstream(*p.ca_file).good())
      throw ParamError("param 'ca_file': cannot read " + *p.ca_file);
  }
  p.insecure = ctx.param<bool>("insecure", false);
  if (ctx.has("timeout_ms")) {
    p.timeout_ms = ctx.required<long>("timeout_ms");
    if (*p.timeout_ms < 1) throw ParamError("param 'timeout_ms' must be at least 1");
  }
  return p;
}

std::string expected_status_text(const std::vector<long>& codes) {
  if (codes.empty()) return "200..399";
  std::string out;
  for (long c : codes) out += (out.empty() ? "" : ", ") + std::to_string(c);
  return out;
}

// ---- one request -------------------------------------------------------------------

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Transfer {
  CURL* easy = nullptr;
  std::string body;
  bool truncated = false;
  std::string reason;  // reason phrase of the last status line
  // The last socket curl closed had completed its TCP handshake (it had a
  // peer). libcurl 7.88 leaves CURLINFO_CONNECT_TIME_T at 0 on https://
  // until TLS is done too, so only this tells a TLS handshake that never
  // finished from a TCP connect that never finished.
  bool tcp_connected = false;
  char errbuf[CURL_ERROR_SIZE] = {};

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  const size_t room = kMaxBody - std::min(kMaxBody, t->body.size());
  t->body.append(data, std::min(n, room));
  if (n > room) t->truncated = true;
  return n;  // keep reading: the latency covers the whole response
}

// Keeps only the reason phrase of status lines; header values are not stored.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.size() > 5 && line.substr(0, 5) == "HTTP/") {
    t->reason.clear();
    t->body.clear();  // a new response (after a redirect or 100 Continue)
    t->truncated = false;
    const auto code_at = line.find(' ');
    if (code_at != std::string_view::npos) {
      const auto reason_at = line.find(' ', code_at + 1);
      if (reason_at != std::string_view::npos) {
        std::string_view reason = line.substr(reason_at + 1);
        while (!reason.empty() && (reason.back() == '\r' || reason.back() == '\n'))
          reason.remove_suffix(1);
        t->reason = escape_printable(reason, 64);
      }
    }
  }
  return n;
}

// curl opens each socket of the transfer through this: a new connection has
// not completed its TCP handshake yet (after a redirect, the last one had).
curl_socket_t on_open_socket(void* user, curlsocktype /*purpose*/, curl_sockaddr* address) {
  static_cast<Transfer*>(user)->tcp_connected = false;
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// curl closes each socket of the transfer through this: note whether the
// socket was connected (getpeername() answers only once the TCP handshake is
// done; a connect still in progress gives ENOTCONN), then close it.
int on_close_socket(void* user, curl_socket_t fd) {
  auto* t = static_cast<Transfer*>(user);
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  t->tcp_connected = ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
  return ::close(fd);
}

// ---- failures --------------------------------------------------------------------

struct Failure {
  std::string title;
  std::string detail;  // of the first occurrence
  std::string remediation;
  int count = 0;
};

class Failures {
 public:
  void add(std::string title, std::string detail, std::string remediation) {
    for (auto& f : list_)
      if (f.title == title) {
        ++f.count;
        return;
      }
    list_.push_back({std::move(title), std::move(detail), std::move(remediation), 1});
  }
  const std::vector<Failure>& list() const { return list_; }
  // The kind seen most often (the first of equals).
  const Failure* top() const {
    const Failure* best = nullptr;
    for (const auto& f : list_)
      if (best == nullptr || f.count > best->count) best = &f;
    return best;
  }

 private:
  std::vector<Failure> list_;
};

std::string errbuf_or(const Transfer& t, CURLcode rc) {
  return t.errbuf[0] != '\0' ? std::string(t.errbuf) : std::string(curl_easy_strerror(rc));
}

long info_long(CURL* easy, CURLINFO what) {
  long v = 0;
  curl_easy_getinfo(easy, what, &v);
  return v;
}

curl_off_t info_off(CURL* easy, CURLINFO what) {
  curl_off_t v = 0;
  curl_easy_getinfo(easy, what, &v);
  return v;
}

// A transport-level failure (no usable response) as a failure kind.
void classify_transport(const Params& p, const Transfer& t, CURLcode rc, long timeout_ms,
                        Failures& failures) {
  const std::string error = errbuf_or(t, rc);
  const std::string where = p.url_shown;
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      failures.add("DNS resolution failed", "Could not resolve the host of " + where + ": " + error,
                   "Check the host name in the URL and the resolver (run the dns check with this "
                   "name; check /etc/resolv.conf and /etc/hosts).");
      return;
    case CURLE_COULDNT_CONNECT: {
      const long os_errno = info_long(t.easy, CURLINFO_OS_ERRNO);
      if (os_errno == ECONNREFUSED) {
        failures.add("Connection refused", where + ": " + error,
                     "Nothing listens on that address and port: start the service or fix the "
                     "port in the URL; check it listens on this interface (ss -ltnp) and for a "
                     "firewall REJECT rule.");
      } else {
        failures.add("Connection failed", where + ": " + error,
                     "Check that the host is up and routable from here (ip route, ping) and that "
                     "firewalls allow the port.");
      }
      return;
    }
    case CURLE_OPERATION_TIMEDOUT: {
      const std::string after = " within " + std::to_string(timeout_ms) + " ms";
      const bool tcp_done = t.tcp_connected || info_off(t.easy, CURLINFO_CONNECT_TIME_T) > 0;
      const bool tls_done = info_off(t.easy, CURLINFO_APPCONNECT_TIME_T) > 0;
      if (!tcp_done) {
        failures.add("Connection timed out", "No TCP connection to " + where + after + ": " + error,
                     "Check that the host is up and that firewalls or security groups allow the "
                     "port (a DROP rule looks exactly like this); check routing to the host.");
      } else if (p.https && !tls_done) {
        failures.add("TLS handshake timed out",
                     "Connected to " + where + ", but the TLS handshake did not finish" + after +
                         ": " + error,
                     "Check that the port speaks TLS (a plain-text service waits for the client "
                     "to talk first) and that the server (or a TLS-terminating proxy) is not "
                     "overloaded; the tls check on the same host:port, or openssl s_client "
                     "-connect HOST:PORT -servername HOST, shows the handshake alone.");
      } else {
        failures.add(
            "Response timed out",
            "Connected to " + where + " but no complete response arrived" + after + ": " + error,
            "The server accepts connections but does not answer in time: check the "
            "application is not hung or overloaded (worker pool, slow backends, GC "
            "pauses), its logs, and the upstreams behind any proxy.");
      }
      return;
    }
    case CURLE_PEER_FAILED_VERIFICATION: {
      const long verify = info_long(t.easy, CURLINFO_SSL_VERIFYRESULT);
      const std::string reason =
          verify != X509_V_OK && verify != X509_V_ERR_UNSPECIFIED
              ? std::string(X509_verify_cert_error_string(verify)) + " (" + error + ")"
              : error;
      if (verify == X509_V_ERR_CERT_HAS_EXPIRED || verify == X509_V_ERR_CERT_NOT_YET_VALID) {
        failures.add(verify == X509_V_ERR_CERT_HAS_EXPIRED ? "TLS certificate expired"
                                                           : "TLS certificate not yet valid",
                     "The certificate of " + where + " is outside its validity period: " + reason,
                     "Renew the certificate (or fix the server's clock for 'not yet valid') and "
                     "reload the server; automate renewal and watch expiry with the tls check.");
      } else if (verify == X509_V_ERR_HOSTNAME_MISMATCH ||
                 verify == X509_V_ERR_IP_ADDRESS_MISMATCH ||
                 // curl checks the name itself after the handshake and then
                 // leaves "unspecified" (or OK) as the verify result.
                 ((verify == X509_V_OK || verify == X509_V_ERR_UNSPECIFIED) &&
                  error.find("host name") != std::string::npos)) {
        failures.add("TLS certificate hostname mismatch",
                     "The certificate of " + where + " is not issued for this host name: " + reason,
                     "Use the host name the certificate is issued for, or reissue the certificate "
                     "with this name in its subjectAltName; check that the right virtual host/SNI "
                     "certificate is served.");
      } else if (verify != X509_V_OK && verify != X509_V_ERR_UNSPECIFIED) {
        failures.add("TLS certificate not trusted",
                     "The certificate chain of " + where + " does not verify: " + reason,
                     "Serve the full chain (leaf and intermediates) on the server, or trust the "
                     "issuing CA with ca_file (a private or self-signed CA needs it).");
      } else {
        failures.add("TLS certificate verification failed", where + ": " + error,
                     "Check the certificate chain and name with the tls check (openssl s_client "
                     "-connect HOST:PORT -servername HOST).");
      }
      return;
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
      failures.add("TLS handshake failed", where + ": " + error,
                   "Check that the port speaks TLS (not plain HTTP), that client and server share "
                   "a protocol version and cipher, and the server's TLS logs.");
      return;
    case CURLE_TOO_MANY_REDIRECTS:
      failures.add(
          "Too many redirects",
          where + " redirected more than " + std::to_string(p.max_redirects) + " times: " + error,
          "Fix the redirect loop (e.g. http to https and back behind a TLS-terminating "
          "proxy, or a login redirect), or raise max_redirects.");
      return;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      failures.add("Connection closed by server", where + ": " + error,
                   "The server (or a proxy, load balancer) dropped the connection: check its logs "
                   "for crashes and restarts, idle/keepalive timeouts, and connection limits.");
      return;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
      failures.add("Not an HTTP response", where + ": " + error,
                   "The port speaks another protocol: check the port and the scheme "
                   "(http:// vs https://).");
      return;
    default:
      failures.add(
          "Request failed",
          where + ": " + error + " (curl error " + std::to_string(static_cast<int>(rc)) + ")",
          "Retry with curl -v against the URL to see where it fails.");
      return;
  }
}

std::string status_remediation(long code) {
  if (code >= 500)
    return "A server-side failure: check the application's logs and health; 502/503/504 from a "
           "proxy mean the upstream behind it is down, overloaded or too slow.";
  if (code == 401 || code == 403)
    return "Check the credentials or token sent in the headers and the permissions of that "
           "identity.";
  if (code == 404) return "Check the URL path and that the route is deployed on this server.";
  if (code == 429) return "The client is rate-limited: lower the request rate or raise the quota.";
  if (code >= 400) return "Check the URL, method, headers and body of the request.";
  if (code >= 300)
    return "Set follow_redirects to judge the final response, or point target at the Location.";
  return "Check that expect_status lists the codes this endpoint returns.";
}

// ---- the multi handle ------------------------------------------------------------

// Owns a CURLM and the transfers in it; removes and frees them on destruction.
class Multi {
 public:
  Multi() : multi_(curl_multi_init()) {
    if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
  }
  ~Multi() {
    for (auto& t : active_) curl_multi_remove_handle(multi_, t->easy);
    active_.clear();
    curl_multi_cleanup(multi_);
  }
  Multi(const Multi&) = delete;
  Multi& operator=(const Multi&) = delete;

  CURLM* get() const { return multi_; }
  std::size_t active() const { return active_.size(); }

  void add(std::unique_ptr<Transfer> t) {
    if (curl_multi_add_handle(multi_, t->easy) != CURLM_OK)
      throw std::runtime_error("curl_multi_add_handle failed");
    active_.push_back(std::move(t));
  }

  std::unique_ptr<Transfer> remove(CURL* easy) {
    for (auto it = active_.begin(); it != active_.end(); ++it) {
      if ((*it)->easy != easy) continue;
      curl_multi_remove_handle(multi_, easy);
      auto t = std::move(*it);
      active_.erase(it);
      return t;
    }
    return nullptr;
  }

 private:
  CURLM* multi_;
  std::vector<std::unique_ptr<Transfer>> active_;
};

template <class T>
void set(CURL* easy, CURLoption option, T value) {
  if (const CURLcode rc = curl_easy_setopt(easy, option, value); rc != CURLE_OK)
    throw std::runtime_error(std::string("curl_easy_setopt failed: ") + curl_easy_strerror(rc));
}

std::unique_ptr<Transfer> make_transfer(const Params& p, curl_slist* headers, long timeout_ms) {
  auto t = std::make_unique<Transfer>();
  t->easy = curl_easy_init();
  if (t->easy == nullptr) throw std::runtime_error("curl_easy_init failed");
  CURL* e = t->easy;
  set(e, CURLOPT_URL, p.url.c_str());
  set(e, CURLOPT_PROTOCOLS_STR, "http,https");
  set(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(e, CURLOPT_NOSIGNAL, 1L);
  set(e, CURLOPT_FRESH_CONNECT, 1L);
  set(e, CURLOPT_FORBID_REUSE, 1L);
  set(e, CURLOPT_TIMEOUT_MS, timeout_ms);
  set(e, CURLOPT_FOLLOWLOCATION, p.follow ? 1L : 0L);
  set(e, CURLOPT_MAXREDIRS, p.max_redirects);
  set(e, CURLOPT_SSL_VERIFYPEER, p.insecure ? 0L : 1L);
  set(e, CURLOPT_SSL_VERIFYHOST, p.insecure ? 0L : 2L);
  if (p.ca_file) set(e, CURLOPT_CAINFO, p.ca_file->c_str());
  set(e, CURLOPT_USERAGENT, "triage-network-http/1.0");
  if (headers != nullptr) set(e, CURLOPT_HTTPHEADER, headers);
  if (p.method == "HEAD") {
    set(e, CURLOPT_NOBODY, 1L);
  } else if (p.body || p.method == "POST") {
    const std::string& body = p.body ? *p.body : std::string();
    set(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    set(e, CURLOPT_COPYPOSTFIELDS, body.c_str());
    if (p.method != "POST") set(e, CURLOPT_CUSTOMREQUEST, p.method.c_str());
  } else if (p.method != "GET") {
    set(e, CURLOPT_CUSTOMREQUEST, p.method.c_str());
  }
  set(e, CURLOPT_WRITEFUNCTION, &on_body);
  set(e, CURLOPT_WRITEDATA, static_cast<void*>(t.get()));
  set(e, CURLOPT_HEADERFUNCTION, &on_header);
  set(e, CURLOPT_HEADERDATA, static_cast<void*>(t.get()));
  set(e, CURLOPT_ERRORBUFFER, t->errbuf);
  set(e, CURLOPT_OPENSOCKETFUNCTION, &on_open_socket);
  set(e, CURLOPT_OPENSOCKETDATA, static_cast<void*>(t.get()));
  set(e, CURLOPT_CLOSESOCKETFUNCTION, &on_close_socket);
  set(e, CURLOPT_CLOSESOCKETDATA, static_cast<void*>(t.get()));
  return t;
}

std::string http_version_text(long v) {
  switch (v) {
    case CURL_HTTP_VERSION_1_0:
      return "1.0";
    case CURL_HTTP_VERSION_1_1:
      return "1.1";
    case CURL_HTTP_VERSION_2_0:
      return "2";
    case CURL_HTTP_VERSION_3:
      return "3";
    default:
      return "";
  }
}

// What the last response said, for attributes and the summary.
struct LastResponse {
  long code = 0;
  std::string reason;
  std::string http_version;
  std::string remote_ip;
  std::string redirect_url;
  std::string effective_url;
  long redirects = 0;
};

}  // namespace

void HttpCheck::run(Context& ctx) {
  const Params p = read_params(ctx);
  ensure_curl();

  ctx.attribute("url", p.url_shown);
  ctx.attribute("method", p.method);
  if (p.insecure) ctx.attribute("tls_verify", "off");

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& h : p.headers) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (next == nullptr) throw std::runtime_error("out of memory building headers");
    headers.release();
    headers.reset(next);
  }

  Multi multi;
  Failures failures;
  std::vector<double> latencies;  // total time of successful requests, ms
  std::vector<double> ttfbs;      // time to first byte of successful requests, ms
  std::optional<LastResponse> last;
  std::string ok_status_text;  // "200 OK" of the last successful request
  std::string json_body;       // body of the last successful request, for json_metrics
  bool json_body_truncated = false;
  int started = 0;
  int finished = 0;
  int failed = 0;
  bool cancelled = false;
  const auto begin = Clock::now();

  // Judges one finished request.
  auto judge = [&](Transfer& t, CURLcode rc, long timeout_ms) {
    CURL* e = t.easy;
    const long code = info_long(e, CURLINFO_RESPONSE_CODE);
    if (code != 0) {
      LastResponse r;
      r.code = code;
      r.reason = t.reason;
      r.http_version = http_version_text(info_long(e, CURLINFO_HTTP_VERSION));
      r.redirects = info_long(e, CURLINFO_REDIRECT_COUNT);
      char* s = nullptr;
      if (curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &s) == CURLE_OK && s != nullptr)
        r.remote_ip = s;
      s = nullptr;
      if (curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &s) == CURLE_OK && s != nullptr)
        r.redirect_url = redact_url(s).value_or("(unparsable Location)");
      s = nullptr;
      if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s != nullptr)
        r.effective_url = redact_url(s).value_or("");
      last = r;
    }
    if (rc != CURLE_OK) {
      if (rc == CURLE_SSL_CACERT_BADFILE) {
        throw std::runtime_error(
            (p.ca_file ? "param 'ca_file': " + *p.ca_file : std::string("the system CA store")) +
            " holds no usable PEM certificate (" + errbuf_or(t, rc) + ")");
      }
      classify_transport(p, t, rc, timeout_ms, failures);
      return false;
    }
    const std::string status_text = std::to_string(code) + (t.reason.empty() ? "" : " " + t.reason);
    const std::string preview =
        t.body.empty() ? "(empty body)" : "body: \"" + escape_printable(t.body, kPreview) + "\"";
    if (!http::status_accepted(p.expect_status, code)) {
      failures.add("Unexpected HTTP status",
                   p.url_shown + ": expected " + expected_status_text(p.expect_status) + ", got " +
                       status_text + "; " + preview,
                   status_remediation(code));
      return false;
    }
    if (p.body_contains && t.body.find(*p.body_contains) == std::string::npos) {
      failures.add("Body does not contain expected text",
                   p.url_shown + " answered " + status_text + " with " +
                       std::to_string(t.body.size()) + (t.truncated ? "+" : "") +
                       " bytes without \"" + escape_printable(*p.body_contains, kPreview) + "\"; " +
                       preview,
                   "The server answers with other content: check that it serves the expected "
                   "application and version, and that the answer is not a default page or an "
                   "error page from a proxy.");
      return false;
    }
    if (p.pointer) {
      auto doc = nlohmann::json::parse(t.body, nullptr, false);
      if (doc.is_discarded()) {
        failures.add("Response is not JSON",
                     p.url_shown + " answered " + status_text + " with a body that is not " +
                         (t.truncated ? "JSON (cut at 4 MiB)" : "JSON") + "; " + preview,
                     "Check that the URL is the JSON API (not an HTML error or login page from "
                     "a proxy) and the response's Content-Type.");
        return false;
      }
      if (!doc.contains(*p.pointer)) {
        failures.add("JSON value mismatch at " + p.pointer_text,
                     p.url_shown + ": expected " +
                         (p.equals   ? p.equals->dump()
                          : p.one_of ? "one of " + p.one_of->dump()
                                     : std::string("a value")) +
                         " at " + p.pointer_text + ", got nothing (no such member); " + preview,
                     "The service no longer reports this field: check its version and API, or "
                     "update json_pointer.");
        return false;
      }
      const auto& value = doc.at(*p.pointer);
      if (p.one_of && std::find(p.one_of->begin(), p.one_of->end(), value) == p.one_of->end()) {
        failures.add("JSON value mismatch at " + p.pointer_text,
                     p.url_shown + ": expected one of " + p.one_of->dump() + " at " +
                         p.pointer_text + ", got " + escape_printable(value.dump(), kPreview),
                     "The service reports another state at " + p.pointer_text +
                         ": investigate the component it describes (its own health, its "
                         "dependencies); update `one_of` if the accepted values changed on "
                         "purpose.");
        return false;
      }
      if (p.equals && value != *p.equals) {
        failures.add("JSON value mismatch at " + p.pointer_text,
                     p.url_shown + ": expected " + p.equals->dump() + " at " + p.pointer_text +
                         ", got " + escape_printable(value.dump(), kPreview),
                     "The service reports another state at " + p.pointer_text +
                         ": investigate the component it describes (its own health, its "
                         "dependencies); update `equals` if the value changed on purpose.");
        return false;
      }
    }
    ok_status_text = status_text;
    if (!p.json_metrics.empty()) {
      json_body = std::move(t.body);
      json_body_truncated = t.truncated;
    }
    latencies.push_back(static_cast<double>(info_off(e, CURLINFO_TOTAL_TIME_T)) / 1000.0);
    ttfbs.push_back(static_cast<double>(info_off(e, CURLINFO_STARTTRANSFER_TIME_T)) / 1000.0);
    return true;
  };

  std::vector<std::pair<CURL*, long>> timeouts;  // per-request timeout, for the findings
  auto timeout_of = [&](CURL* e) {
    for (const auto& [easy, ms] : timeouts)
      if (easy == e) return ms;
    return 0L;
  };

  while (finished < p.samples) {
    if (ctx.cancelled()) {
      cancelled = true;
      break;
    }
    // Start requests up to the concurrency limit.
    while (started < p.samples && multi.active() < static_cast<std::size_t>(p.concurrency)) {
      // Leave curl a little less than the time left, so that its own timeout
      // (which tells connect from response) fires before the check's deadline.
      const long left = static_cast<long>(ctx.remaining().count());
      long timeout_ms = std::max(1L, left - std::min(left / 20, 100L));
      if (p.timeout_ms) timeout_ms = std::min(timeout_ms, *p.timeout_ms);
      auto t = make_transfer(p, headers.get(), timeout_ms);
      timeouts.emplace_back(t->easy, timeout_ms);
      multi.add(std::move(t));
      ++started;
    }
    int running = 0;
    if (const CURLMcode mc = curl_multi_perform(multi.get(), &running); mc != CURLM_OK)
      throw std::runtime_error(std::string("curl_multi_perform: ") + curl_multi_strerror(mc));
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode rc = msg->data.result;
      auto t = multi.remove(easy);
      if (!t) continue;
      const long timeout_ms = timeout_of(easy);
      timeouts.erase(std::remove_if(timeouts.begin(), timeouts.end(),
                                    [&](const auto& x) { return x.first == easy; }),
                     timeouts.end());
      ++finished;
      if (!judge(*t, rc, timeout_ms)) ++failed;
    }
    if (finished >= p.samples) break;
    const auto wait = std::min<std::chrono::milliseconds>(kSlice, ctx.remaining());
    curl_multi_poll(multi.get(), nullptr, 0, static_cast<int>(wait.count()), nullptr);
  }
  const double elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - begin).count();

  if (cancelled && ctx.remaining().count() > 0) {
    ctx.error("cancelled after " + std::to_string(finished) + " of " + std::to_string(p.samples) +
              " requests");
    return;
  }

  // ---- metrics ----
  const std::size_t ok_count = latencies.size();
  if (ok_count > 0) {
    ctx.metric("latency_p50_ms", http::percentile(latencies, 50), "ms", kP50Defaults);
    ctx.metric("latency_p95_ms", http::percentile(latencies, 95), "ms");
    ctx.metric("latency_p99_ms", http::percentile(latencies, 99), "ms", kP99Defaults);
    ctx.metric("ttfb_ms", http::percentile(ttfbs, 50), "ms");
  }
  if (finished > 0) {
    ctx.metric("error_rate_pct", 100.0 * failed / finished, "%", kErrorRateDefaults);
  }
  if (last) {
    ctx.metric("status_code", static_cast<double>(last->code), "");
    ctx.attribute("status_code", std::to_string(last->code));
    if (!last->http_version.empty()) ctx.attribute("http_version", last->http_version);
    if (!last->remote_ip.empty()) ctx.attribute("remote_ip", last->remote_ip);
    if (!last->redirect_url.empty()) ctx.attribute("redirect_url", last->redirect_url);
    if (last->redirects > 0) {
      ctx.attribute("redirect_count", std::to_string(last->redirects));
      if (!last->effective_url.empty()) ctx.attribute("effective_url", last->effective_url);
    }
  }
  ctx.attribute("requests", std::to_string(finished) + " of " + std::to_string(p.samples));

  // ---- json_metrics, from the last successful response ----
  std::vector<std::string> unread;  // json_metrics that gave no number
  if (!p.json_metrics.empty() && ok_count > 0) {
    const auto doc = nlohmann::json::parse(json_body, nullptr, false);
    for (std::size_t i = 0; i < p.json_metrics.size(); ++i) {
      const auto& [name, pointer] = p.json_metrics[i];
      const std::string& where = p.json_metric_pointers[i];
      std::string why;
      if (doc.is_discarded())
        why = json_body_truncated ? "the body is not JSON (cut at 4 MiB)" : "the body is not JSON";
      else if (!doc.contains(pointer))
        why = "nothing at " + where + " (no such member)";
      else if (const auto& v = doc.at(pointer); v.is_number())
        ctx.metric(name, v.get<double>());
      else if (v.is_boolean())
        ctx.metric(name, v.get<bool>() ? 1.0 : 0.0);
      else
        why = "at " + where + " is " + escape_printable(v.dump(), kPreview) + ", not a number";
      if (why.empty()) continue;
      unread.push_back(name);
      ctx.finding(
          Severity::info, "JSON metric " + name + " not read",
          p.url_shown + ": " + why + "; " +
              (json_body.empty() ? std::string("(empty body)")
                                 : "body: \"" + escape_printable(json_body, kPreview) + "\""),
          "The service no longer reports this field as a number: check what the URL "
          "returns (curl it) and the service's version and API, or update the pointer "
          "in json_metrics.");
    }
  }

  // ---- findings ----
  // Every request failed: critical. Some failed: the finding explains, the
  // error_rate_pct thresholds decide the status.
  const bool all_failed = finished > 0 && failed == finished;
  const Severity severity = all_failed ? Severity::critical : Severity::info;
  for (const auto& f : failures.list()) {
    const std::string count =
        finished == 1 ? std::string()
                      : std::to_string(f.count) + " of " + std::to_string(finished) + " requests: ";
    ctx.finding(severity, f.title, count + f.detail, f.remediation);
  }
  if (cancelled) {
    const int unfinished = p.samples - finished;
    ctx.finding(Severity::critical, "Requests timed out at the check's deadline",
                "The check ran out of time after " + format_ms(elapsed_ms) + " with " +
                    std::to_string(unfinished) + " of " + std::to_string(p.samples) +
                    " requests to " + p.url_shown + " unfinished.",
                "The server is too slow for the check's timeout: look at why it answers slowly, "
                "or raise the check's timeout (or lower samples / raise concurrency).");
  }

  // ---- summary ----
  const std::string n_text = std::to_string(finished) + (finished == 1 ? " request" : " requests");
  std::string status_text;
  if (last)
    status_text = std::to_string(last->code) + (last->reason.empty() ? "" : " " + last->reason);
  if (cancelled) {
    ctx.status(Status::critical, "timed out after " + format_ms(elapsed_ms) + ": " +
                                     std::to_string(finished) + " of " + std::to_string(p.samples) +
                                     " requests finished");
    return;
  }
  if (all_failed) {
    const Failure* top = failures.top();
    std::string text = (finished == 1 ? "request failed: " : "all " + n_text + " failed: ") +
                       (top != nullptr ? top->title : std::string("error"));
    if (last && top != nullptr && top->title == "Unexpected HTTP status")
      text += " " + status_text + " (expected " + expected_status_text(p.expect_status) + ")";
    ctx.status(Status::critical, text);
    return;
  }
  std::string summary = ok_status_text + ", p50 " + format_ms(http::percentile(latencies, 50)) +
                        ", p99 " + format_ms(http::percentile(latencies, 99)) + " over " + n_text +
                        ", " + std::to_string(failed) + (failed == 1 ? " error" : " errors");
  if (failed > 0 && failures.top() != nullptr) summary += " (" + failures.top()->title + ")";
  if (!unread.empty()) {
    // The check could not measure what it was asked to: unknown, unless the
    // thresholds or findings make it worse.
    std::string names;
    for (const auto& n : unread) names += (names.empty() ? "" : ", ") + n;
    ctx.status(Status::unknown, summary + "; json_metrics not read: " + names);
    return;
  }
  ctx.status(Status::ok, summary);
}

}  // namespace triage::network
