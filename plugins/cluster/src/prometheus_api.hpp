// A client of Prometheus' HTTP API (https://prometheus.io/docs/prometheus/
// latest/querying/api/) for the prometheus and promql checks: instant queries
// on /api/v1/query, and the targets' last scrape errors from /api/v1/targets.
// Every request goes through http.hpp, so it is bounded by the check's
// deadline and abandoned when the check is cancelled; credentials go in
// libcurl options and every text that leaves here is redacted.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http.hpp"

namespace triage::cluster::prom {

using Labels = std::map<std::string, std::string>;

// One series of an instant query's answer; a scalar is one sample without labels.
struct Sample {
  Labels labels;         // with __name__ when Prometheus gave it
  double value = 0;      // NaN and +-Inf as Prometheus wrote them
  bool numeric = true;   // false for a native histogram sample
  double timestamp = 0;  // seconds since the epoch, as Prometheus evaluated it
};

// Why a request gave no usable answer, from which the checks' status follows.
enum class Failure {
  none,
  cancelled,       // the check was cancelled (or its deadline passed) during the request
  timed_out,       // no answer within the time the request had
  unreachable,     // no HTTP answer: refused, name not resolved, TLS failed...
  unavailable,     // HTTP 503, 502, 504, 429 or another 5xx: Prometheus cannot answer now
  unauthorized,    // HTTP 401 or 403: the credentials were refused
  rejected,        // HTTP 400 or 422 (or another 4xx): the query is wrong
  not_prometheus,  // HTTP 404, or an answer that is not the API's JSON
  too_large,       // the answer exceeds kMaxBody
};

struct QueryResult {
  Failure failure = Failure::none;
  std::string reason;      // in words, for a finding or an error; "" when ok
  std::string error_type;  // Prometheus' errorType ("bad_data", "timeout", ...)
  std::string error;       // Prometheus' error text
  long http_status = 0;
  double elapsed_ms = 0;
  std::string result_type;  // "vector", "scalar", "matrix" or "string"
  std::vector<Sample> series;
  std::vector<std::string> warnings;  // Prometheus' "warnings"
  bool ok() const { return failure == Failure::none; }
};

// An answer of /api/v1/query (its HTTP status and body), parsed; the HTTP
// status is not checked for transport failures (see Client::query).
QueryResult parse_query_response(long http_status, std::string_view body, bool truncated = false);

// Prometheus' lastError of each active target whose last scrape failed, by
// (job, instance), from an answer of /api/v1/targets.
std::map<std::pair<std::string, std::string>, std::string> parse_target_errors(
    std::string_view body);

class Client {
 public:
  Client(std::string base_url, HttpAuth auth)
      : base_url_(std::move(base_url)), auth_(std::move(auth)) {}

  // One instant query. max_ms bounds this request below the check's time
  // left (0: the time left); Prometheus is asked to give up by then too
  // (its `timeout` parameter). `time` is the evaluation time in seconds
  // since the epoch (absent: Prometheus' now). A long query is sent as a
  // POST form, as the API allows.
  QueryResult query(const Context& ctx, const std::string& promql, long max_ms = 0,
                    std::optional<double> time = std::nullopt) const;

  // The last scrape error of each failing target (best effort: empty when
  // the request fails).
  std::map<std::pair<std::string, std::string>, std::string> target_errors(const Context& ctx,
                                                                           long max_ms) const;

  const std::string& base_url() const { return base_url_; }
  const HttpAuth& auth() const { return auth_; }

 private:
  std::string base_url_;
  HttpAuth auth_;
};

// The params every Prometheus check takes: `target` (a base URL) and the
// auth params; also refuses a param that `schema` (the check's params
// schema) does not have. Logs a warning when credentials would go over
// plain http. Throws ParamError.
Client read_client(Context& ctx, std::string_view schema);

// The params JSON Schema of a Prometheus check: target and the auth params,
// then `own_properties` (JSON members, without braces; may be empty), with
// `required` beside "target"; no other params are allowed.
std::string params_schema(std::string_view title, std::string_view own_properties,
                          const std::vector<std::string>& required = {});

// Reports a failed request: a critical finding and status when Prometheus
// is down, slow, unavailable or refuses the credentials; an error (status
// unknown) when the query is wrong, the URL is not Prometheus' or the check
// was cancelled. `what` names the request ("the query", "the up query").
void report_failure(Context& ctx, const Client& client, const QueryResult& r,
                    std::string_view what);

// The label set as PromQL writes it, names sorted: instance="a",job="node"
// (values escaped: \\ \" \n). __name__ is left out unless with_name.
std::string label_text(const Labels& labels, bool with_name = false);

// A series as PromQL writes it: up{instance="a",job="node"}, or {} for none.
std::string series_text(const Labels& labels);

// An item that fits a per-item metric name within the core's 128-byte limit:
// for the declared "base[*]", at most 128 - len("base[]") bytes; a longer
// item is cut (at a UTF-8 boundary) and ends in "~" and 8 hex digits of a
// hash of the whole item, so that different long items stay different.
std::string fit_item(std::string_view declared, std::string item);

// A PromQL duration: one or more NUMBER UNIT, unit ms s m h d w y ("5m", "1h30m").
bool valid_duration(std::string_view text);

// A label matcher list for inside {...}: `job="node",env=~"prod|stage"`.
// Throws ParamError naming `param` when it has braces or parentheses
// outside quotes, an unclosed quote or a line break (one series selector,
// not a whole query).
void check_selector(std::string_view text, const std::string& param);

// "12.3"
std::string one_decimal(double v);
// A value as Prometheus prints it: "1", "0.25", "NaN", "+Inf".
std::string format_value(double v);
// "a, b, c and 4 more"
std::string list_some(const std::vector<std::string>& items, std::size_t max = 5);
// text cut to at most max bytes (at a UTF-8 boundary), with "..." when cut.
std::string abbreviate(std::string_view text, std::size_t max);
// text on one line: each run of whitespace (line breaks too) one space.
std::string one_line(std::string_view text);

}  // namespace triage::cluster::prom
