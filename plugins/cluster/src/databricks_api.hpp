// A small client of a Databricks workspace's REST API for the databricks
// check: clusters from the Clusters API 2.0 (GET /api/2.0/clusters/list and
// /api/2.0/clusters/get) and job runs from the Jobs API 2.1 (GET
// /api/2.1/jobs/runs/list). References:
//   https://docs.databricks.com/api/workspace/clusters/list
//   https://docs.databricks.com/api/workspace/clusters/get
//   https://docs.databricks.com/api/workspace/jobs/listruns
//   https://learn.microsoft.com/en-us/azure/databricks/dev-tools/api/latest/clusters
// Every request goes through rest_http (http.hpp): bounded by the check's
// deadline, abandoned on cancel, a 429 waited out as Retry-After asks when
// that fits before the deadline. The token travels only in the
// Authorization header; every text that leaves here is redacted. Answers
// are untrusted: parsed inside try/catch, every list kept is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http.hpp"

namespace triage::cluster::databricks {

// Bounds on what one check run reads (docs/databricks.md, "Limits").
inline constexpr int kMaxClusterPages = 20;        // clusters/list pages followed
inline constexpr std::size_t kMaxClusters = 2000;  // clusters kept over all pages
inline constexpr int kMaxRunPages = 40;            // runs/list pages per listing
inline constexpr int kRunsPerPage = 25;            // runs/list `limit` (the API's maximum)
inline constexpr std::size_t kMaxRuns = 1000;      // runs kept per listing
inline constexpr std::size_t kMaxTextField = 500;  // bytes kept of a message or parameter
inline constexpr std::size_t kMaxTerminationParams = 10;

struct TerminationReason {
  std::string code;  // USER_REQUEST, INACTIVITY, CLOUD_PROVIDER_LAUNCH_FAILURE, ...
  std::string type;  // SUCCESS, CLIENT_ERROR, SERVICE_FAULT, CLOUD_FAILURE
  std::vector<std::pair<std::string, std::string>> parameters;  // at most kMaxTerminationParams
  bool empty() const { return code.empty() && type.empty(); }
};

struct Cluster {
  std::string id;
  std::string name;
  std::string state;  // PENDING RUNNING RESTARTING RESIZING TERMINATING TERMINATED ERROR UNKNOWN
  std::string state_message;
  std::string source;                       // cluster_source: UI, JOB, API, ...
  std::optional<std::int64_t> num_workers;  // the desired size (fixed or autoscale's target)
  std::optional<std::int64_t> executors;    // how many executor nodes the answer lists
  std::optional<std::int64_t> min_workers, max_workers;  // autoscale
  std::int64_t start_time_ms = 0;
  std::int64_t terminated_time_ms = 0;  // 0 when not given
  TerminationReason termination;

  // Workers it has now: the executors listed, else num_workers (which the
  // reference says is the desired size; it is all a fixed cluster gives).
  std::int64_t workers() const { return executors ? *executors : num_workers.value_or(0); }
  bool autoscaling() const { return max_workers.has_value(); }
};

struct Run {
  std::int64_t job_id = 0;
  std::int64_t run_id = 0;
  std::string run_name;  // for a run of a job, the job's name
  std::string
      life_cycle_state;  // QUEUED PENDING RUNNING TERMINATING TERMINATED SKIPPED INTERNAL_ERROR ...
  std::string result_state;  // SUCCESS FAILED TIMEDOUT CANCELED ... ("" while active)
  std::string state_message;
  std::string trigger;  // PERIODIC ONE_TIME RETRY CONTINUOUS ...
  std::string run_page_url;
  std::int64_t start_time_ms = 0;
  std::int64_t end_time_ms = 0;  // 0 while the run is active
};

// Why a request gave no usable answer.
enum class Failure {
  none,
  cancelled,        // the check was cancelled (or no time was left to ask)
  timed_out,        // no answer within the time the request had
  unreachable,      // no HTTP answer: refused, name not resolved, TLS failed...
  throttled,        // HTTP 429 still, after waiting out what Retry-After allowed
  unavailable,      // HTTP 5xx
  unauthenticated,  // HTTP 401, or 403 "Invalid access token": the token itself was refused
  forbidden,        // HTTP 403 otherwise: the identity lacks a permission
  not_found,        // HTTP 404, or a cluster that does not exist (clusters/get)
  rejected,         // another 4xx
  malformed,        // an answer that is not the API's JSON
  too_large,        // an answer over rest::kMaxBody
};

// The outcome of one call (which may be several pages).
struct Outcome {
  Failure failure = Failure::none;
  long http_status = 0;
  std::string error_code;  // the API's error_code ("PERMISSION_DENIED", "403", ...)
  std::string message;     // the API's message, redacted and cut
  std::string reason;      // all of it in words, for a finding; "" when ok
  std::string endpoint;    // the path asked, e.g. /api/2.0/clusters/list
  int requests = 0;
  int retries = 0;  // throttled answers waited out
  double slowest_ms = 0;
  bool ok() const { return failure == Failure::none; }
};

struct ClusterList {
  Outcome outcome;
  std::vector<Cluster> clusters;
  int pages = 0;
  bool truncated = false;  // a bound stopped the listing early
};

struct ClusterGet {
  Outcome outcome;
  std::optional<Cluster> cluster;
};

struct RunQuery {
  bool active_only = false;
  bool completed_only = false;
  std::optional<std::int64_t> start_time_from_ms;
};

struct RunList {
  Outcome outcome;
  std::vector<Run> runs;
  int pages = 0;
  bool truncated = false;
};

// One page of an answer, parsed (exposed for tests of hostile bodies).
struct ClusterPage {
  std::vector<Cluster> clusters;
  std::string next_page_token;  // "" when there is no next page
};
struct RunPage {
  std::vector<Run> runs;
  bool has_more = false;
  std::string next_page_token;
};
// Throw std::runtime_error naming what is wrong when the body is not the
// API's JSON; fields of the wrong type are left at their defaults.
ClusterPage parse_cluster_page(std::string_view body);
Cluster parse_cluster(std::string_view body);  // clusters/get
RunPage parse_run_page(std::string_view body);

class Client {
 public:
  Client(std::string base_url, HttpAuth auth)
      : base_url_(std::move(base_url)), auth_(std::move(auth)) {}

  // Every cluster clusters/list gives, following next_page_token (newer
  // versions of the API page it) within the bounds above.
  ClusterList list_clusters(const Context& ctx) const;
  // One cluster by id; not_found when the workspace has no such cluster.
  ClusterGet get_cluster(const Context& ctx, const std::string& cluster_id) const;
  // Runs of every job, newest first, following has_more/next_page_token
  // within the bounds above.
  RunList list_runs(const Context& ctx, const RunQuery& query) const;

  const std::string& base_url() const { return base_url_; }
  const HttpAuth& auth() const { return auth_; }

 private:
  // One GET; on failure the outcome says why, else the body is returned.
  std::optional<std::string> get(const Context& ctx, const std::string& path_and_query,
                                 Outcome& outcome) const;

  std::string base_url_;
  HttpAuth auth_;
};

}  // namespace triage::cluster::databricks
