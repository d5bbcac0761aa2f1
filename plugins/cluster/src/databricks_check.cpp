// The databricks check: a workspace's clusters and job runs judged as the
// runbook's daily review does (`databricks clusters list`), from the
// Clusters API 2.0 and the Jobs API 2.1 (databricks_api.hpp):
//  - clusters in ERROR (critical) or TERMINATED unexpectedly within the
//    window (warning; a termination by a user, by inactivity or at the end of
//    the job, termination_reason.type SUCCESS, is expected), with the
//    termination_reason's code, type and parameters in the finding;
//  - RUNNING clusters at their autoscale maximum ("High latency: cluster
//    undersized -> scale up");
//  - job runs that failed in the window, active runs older than
//    max_job_hours ("Cost spike: runaway jobs -> implement job timeout"),
//    and the streaming jobs named in `streaming_jobs` without a RUNNING run.
// The token is a secret: it goes only into the Authorization header, never
// into a summary, finding, attribute or log (texts from the API are redacted).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "azure_identity.hpp"
#include "checks.hpp"
#include "databricks_api.hpp"
#include "prometheus_api.hpp"

namespace triage::cluster {

namespace {
namespace identity = azure_identity;

// The AzureDatabricks first-party application: the resource (audience) of a
// Microsoft Entra ID token for any Azure Databricks workspace's REST API.
constexpr const char* kAzureDatabricksResource = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d";

const std::string kSchema = std::string(R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "cluster/databricks params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string", "minLength": 9, "maxLength": 2048, "pattern": "^[Hh][Tt][Tt][Pp][Ss]://",
      "examples": ["https://adb-1234567890123456.7.azuredatabricks.net"],
      "description": "The workspace URL (https only), as in the browser's address bar: https://adb-<workspace-id>.<n>.azuredatabricks.net on Azure, https://<name>.cloud.databricks.com on AWS. No path, query or credentials."
    },
    "token": {
      "type": "string", "minLength": 1, "maxLength": 16384, "writeOnly": true, "x-triage-secret": true,
      "description": "Secret: a Databricks personal access token (dapi...) or a Microsoft Entra ID (Azure AD) access token for the AzureDatabricks resource (2ff814a6-3304-4ab8-85cb-cd0e6f879c1d), sent as Authorization: Bearer. Its identity needs to see the clusters (any workspace user sees the list; Can Attach To for details) and the jobs' runs (Can View). Never reported. Instead of a token, an Azure workspace takes Azure AD credentials (tenant_id, client_id and client_secret, or managed_identity: the identity must be a user of the workspace)."
    },
    "token_resource": {
      "type": "string", "minLength": 1, "maxLength": 2048, "default": "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d",
      "description": "With Azure AD credentials: the resource (audience) the token is asked for. Default: the AzureDatabricks application, 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d, which every Azure Databricks workspace accepts."
    },
    "ca_file": {
      "type": "string", "minLength": 1,
      "description": "PEM file of the CA certificate(s) to trust instead of the system store, for a workspace reached through a proxy with a private CA (Private Link with TLS inspection). Certificates and host names are always verified."
    },
    "cluster_ids": {
      "type": "array", "minItems": 1, "maxItems": 50, "uniqueItems": true,
      "items": {"type": "string", "minLength": 1, "maxLength": 100},
      "description": "The clusters to judge, by cluster_id (e.g. 0923-164208-meows279), each read with /api/2.0/clusters/get. Default: every cluster /api/2.0/clusters/list gives (pinned, active, and those terminated in the last 30 days). An id the workspace does not know is a warning."
    },
    "window": {
      "type": "string", "pattern": "^([0-9]+[smhd])+$", "maxLength": 32, "default": "24h",
      "description": "How far back failed job runs (runs that started within it) and unexpected cluster terminations count: a duration such as 24h, 90m, 7d or 1d12h, from 1 minute to 60 days (the Jobs API keeps runs for 60 days)."
    },
    "max_job_hours": {
      "type": "number", "exclusiveMinimum": 0, "maximum": 8760, "default": 24,
      "description": "An active job run older than this many hours (since its start_time) is a runaway (runbook: Cost Spike, runaway jobs -> implement job timeout). Runs of the jobs in streaming_jobs and of continuous jobs (trigger CONTINUOUS) are left out: they are meant to run for ever."
    },
    "streaming_jobs": {
      "type": "array", "minItems": 1, "maxItems": 50, "uniqueItems": true,
      "items": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1, "maxLength": 200}]},
      "description": "The jobs that must always have a run in the RUNNING state (Structured Streaming jobs), each by job_id (a number, or a string of digits) or by job name (matched exactly against the runs' run_name, which is the job's name for a job's runs). Each without one is counted in streaming_jobs_down. Default: none."
    },
)json") + identity::kParamsSchemaProperties +
                            R"json(
  },
  "required": ["target"],
  "additionalProperties": false
})json";
}  // namespace

const char* const DatabricksCheck::params_schema = kSchema.c_str();

namespace {

using Clock = std::chrono::system_clock;
namespace db = databricks;

constexpr const char* kClusterError =
    "A cluster in ERROR cannot run notebooks or jobs (runbook: Service Down). Read its state "
    "message and event log (Compute > the cluster > Event log, or POST "
    "/api/2.0/clusters/events), fix the cause (init scripts, libraries, cloud quota, network), "
    "then restart it (databricks clusters start CLUSTER_ID); the jobs that use it fail until then.";
constexpr const char* kTerminatedClient =
    "The cluster stopped because of its configuration (termination type CLIENT_ERROR): check "
    "the parameters in the finding, its init scripts, libraries, instance profile or managed "
    "identity, and the network (VNet, firewall, NSG rules); see Databricks' 'Unexpected cluster "
    "termination' article for the code. Restart it once fixed.";
constexpr const char* kTerminatedCloud =
    "The cloud could not give the cluster its machines (termination type CLOUD_FAILURE): "
    "check the subscription's quota for the VM family (runbook: Quota limit, 80 % of quota "
    "reached - raise it before it blocks), capacity in the region (try another node type or "
    "zone), and spot evictions; restart the cluster once fixed.";
constexpr const char* kTerminatedService =
    "Databricks itself stopped the cluster (termination type SERVICE_FAULT): check the "
    "Databricks status page for the region, restart the cluster, and open a support case with "
    "the cluster id and termination code if it recurs.";
constexpr const char* kUndersized =
    "High latency: cluster undersized -> scale up (runbook). The cluster runs at its autoscale "
    "maximum, so queued work waits: raise autoscale.max_workers (databricks clusters edit), "
    "use a larger node_type_id, or move jobs to job clusters of their own; check the runbook's "
    "Data Skew row first when one task runs much longer than the rest.";
constexpr const char* kRunsFailedText =
    "Job runs failed (runbook: Error Spike). Open each run (run_page_url) or read its output "
    "(GET /api/2.1/jobs/runs/get-output?run_id=RUN_ID), fix the cause, then repair the run "
    "(POST /api/2.1/jobs/runs/repair) so that only the failed tasks run again; give flaky tasks "
    "retries (max_retries) and failure notifications.";
constexpr const char* kRunawayText =
    "Cost spike: runaway jobs -> implement job timeout (runbook). Cancel the run if it is stuck "
    "(databricks jobs cancel-run RUN_ID), then set timeout_seconds on the job and its tasks so "
    "that a hung run ends on its own; check the Spark UI for a stage that makes no progress "
    "(skew, a huge shuffle, an external call that never returns).";
constexpr const char* kStreamingDownText =
    "A streaming job that must always run has no RUNNING run: its data is not processed and "
    "the pipeline falls behind its RPO (runbook: Service Down, Data Loss). Read the last run's "
    "error (GET /api/2.1/jobs/runs/get-output), start it again (databricks jobs run-now "
    "JOB_ID), and make it restart on its own: a continuous trigger, or max_retries -1 with "
    "unlimited retries.";
constexpr const char* kTokenRefused =
    "Databricks refused the token: a personal access token that expired, was revoked or belongs "
    "to a removed user, or an Entra ID (Azure AD) token that expired (they last about an hour) "
    "or was issued for another resource than AzureDatabricks. Create a new token (User settings "
    "> Developer > Access tokens, or databricks tokens create), store it where the config's "
    "token comes from, and check that the workspace URL is the token's workspace.";
constexpr const char* kForbidden =
    "The token's identity may not read this: give it the permissions the check needs (Can "
    "Attach To or Can View on the clusters, Can View on the jobs), or use an identity that has "
    "them (a service principal added to the workspace); a workspace admin sees everything.";
constexpr const char* kUnreachable =
    "The workspace is not reachable from here (runbook: Connection Timeout: network issues -> "
    "check firewall rules): check the URL, DNS, the proxy and firewall path to it (Private "
    "Link, IP access lists), and for TLS errors the CA (ca_file).";
constexpr const char* kUnavailable =
    "The Databricks control plane answered with a server error: check the Databricks status "
    "page for the region; Databricks advises retrying 5xx answers for up to 10 minutes, 30 s "
    "apart. Clusters and jobs may still be running.";
constexpr const char* kSlow =
    "The API did not answer within the check's time: check the path to the workspace (proxy, "
    "Private Link) and the Databricks status page, or raise the check's timeout.";

constexpr MetricDecl kClusters = metric("clusters", "", "Clusters judged (listed or asked for)");
constexpr MetricDecl kRunning =
    metric("clusters_running", "", "Clusters RUNNING or RESIZING (they cost money and run work)");
constexpr MetricDecl kWorkers =
    metric("workers_total", "",
           "Worker nodes of the running clusters (the executors listed, else num_workers)");
constexpr MetricDecl kErrors = metric("clusters_error", "", "Clusters in the ERROR state")
                                   .critical("0")
                                   .remediation(kClusterError);
constexpr MetricDecl kUnexpected =
    metric("clusters_terminated_unexpectedly", "",
           "Clusters TERMINATED within the window whose termination_reason is not a user's, "
           "inactivity's or a finished job's (type other than SUCCESS)")
        .warning("0")
        .remediation(
            "See the finding for each cluster's termination code and its remedy (CLIENT_ERROR: "
            "its configuration; CLOUD_FAILURE: cloud quota or capacity; SERVICE_FAULT: "
            "Databricks).");
constexpr MetricDecl kAtMax =
    metric("clusters_at_max", "", "RUNNING clusters with as many workers as autoscale.max_workers")
        .warning("0")
        .remediation(kUndersized);
constexpr MetricDecl kClusterWorkers =
    metric("cluster_workers[*]", "",
           "Workers of one running cluster (named by cluster_name; the 50 largest)");
constexpr MetricDecl kRunsActive =
    metric("runs_active", "", "Job runs active now (queued, pending, running or terminating)");
constexpr MetricDecl kRunsCompleted =
    metric("runs_completed", "", "Job runs that started within the window and have ended");
constexpr MetricDecl kRunsFailed =
    metric("runs_failed", "",
           "Runs that started within the window and ended FAILED, TIMEDOUT or INTERNAL_ERROR")
        .warning("0")
        .remediation(kRunsFailedText);
constexpr MetricDecl kRunaway =
    metric("runs_runaway", "", "Active runs older than max_job_hours (streaming jobs left out)")
        .warning("0")
        .remediation(kRunawayText);
constexpr MetricDecl kLongest =
    metric("longest_run_hours", "h",
           "Age of the oldest active run that is not a streaming or continuous job's");
constexpr MetricDecl kStreamingDown =
    metric("streaming_jobs_down", "", "Jobs of streaming_jobs without a RUNNING run")
        .critical("0")
        .remediation(kStreamingDownText);
constexpr MetricDecl kApiMs =
    metric("api_ms", "ms", "Round trip of the slowest of the check's API requests");

constexpr MetricDecl kMetrics[] = {kClusters,      kRunning,    kWorkers,        kErrors,
                                   kUnexpected,    kAtMax,      kClusterWorkers, kRunsActive,
                                   kRunsCompleted, kRunsFailed, kRunaway,        kLongest,
                                   kStreamingDown, kApiMs};

// Bounds on what a result names (docs/databricks.md, "Limits").
constexpr std::size_t kPerClusterMetrics = 50;  // cluster_workers[NAME]
constexpr std::size_t kClusterFindings = 10;    // one finding each, per kind
constexpr std::size_t kNamed = 10;              // items named in one finding

constexpr std::int64_t kHourMs = 3600 * 1000;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

// "24h", "90m", "1d12h" in seconds; 0 when it does not parse.
std::int64_t parse_window(const std::string& text) {
  if (text.empty() || text.size() > 32) return 0;
  std::int64_t total = 0, number = 0;
  bool digits = false;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      if (number > 1'000'000'000) return 0;
      number = number * 10 + (c - '0');
      digits = true;
      continue;
    }
    if (!digits) return 0;
    const std::int64_t unit = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400 : 0;
    if (unit == 0) return 0;
    total += number * unit;
    if (total > 10'000'000'000) return 0;
    number = 0;
    digits = false;
  }
  return digits ? 0 : total;
}

std::string hours_text(double h) {
  char buf[32];
  std::snprintf(buf, sizeof buf, h < 10 ? "%.1f h" : "%.0f h", h);
  return buf;
}

std::string when_text(std::int64_t ms, std::int64_t now) {
  if (ms <= 0) return "at an unknown time";
  const double h = static_cast<double>(now - ms) / static_cast<double>(kHourMs);
  if (h < 0) return "just now";
  if (h < 1) return std::to_string(static_cast<long long>(h * 60)) + " min ago";
  return hours_text(h) + " ago";
}

struct Params {
  std::string base_url;
  HttpAuth auth;
  std::vector<std::string> cluster_ids;
  std::string window_text = "24h";
  std::int64_t window_s = 86400;
  double max_job_hours = 24;
  std::set<std::int64_t> streaming_ids;
  std::set<std::string> streaming_names;
  std::vector<std::string> streaming_order;  // as given, for messages
  identity::Credentials credentials;         // Azure AD, when no token is given
  std::string token_resource = kAzureDatabricksResource;
};

Params read_params(const Context& ctx) {
  static const std::set<std::string> kKnown = {"target",           "token",
                                               "token_resource",   "ca_file",
                                               "cluster_ids",      "window",
                                               "max_job_hours",    "streaming_jobs",
                                               "tenant_id",        "client_id",
                                               "client_secret",    "authority",
                                               "managed_identity", "identity_endpoint",
                                               "identity_header",  "identity_ca_file"};
  if (!ctx.params().is_object()) throw ParamError("params must be an object");
  for (const auto& [key, _] : ctx.params().items())
    if (kKnown.count(key) == 0) throw ParamError("no param '" + key + "' in cluster.databricks");
  Params p;
  const std::string target = ctx.target();
  if (target.rfind("https://", 0) != 0 && target.rfind("HTTPS://", 0) != 0)
    throw ParamError("param 'target' must be the workspace's https:// URL");
  p.base_url = read_base_url(target, "target");
  if (p.base_url.find('/', 8) != std::string::npos)
    throw ParamError("param 'target' must be the workspace URL without a path");
  p.credentials = identity::read_credentials(ctx);
  const bool azure_ad = p.credentials.kind != identity::Credentials::Kind::none;
  if (azure_ad && ctx.has("token"))
    throw ParamError(
        "give 'token' or Azure AD credentials (tenant_id/client_id/client_secret or "
        "managed_identity), not both");
  if (!azure_ad && !ctx.has("token"))
    throw ParamError(
        "missing required param 'token' (or Azure AD credentials: tenant_id, "
        "client_id and client_secret, or managed_identity: true)");
  p.token_resource = ctx.param<std::string>("token_resource", kAzureDatabricksResource);
  if (p.token_resource.empty()) throw ParamError("param 'token_resource' is empty");
  p.auth.bearer_token = azure_ad ? std::string() : ctx.required<std::string>("token");
  if (!azure_ad && p.auth.bearer_token.empty()) throw ParamError("param 'token' is empty");
  for (const char c : p.auth.bearer_token)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw ParamError("param 'token' holds a space or control character");
  p.auth.ca_file = ctx.param<std::string>("ca_file", "");
  if (ctx.has("ca_file") && p.auth.ca_file.empty()) throw ParamError("param 'ca_file' is empty");

  if (ctx.has("cluster_ids")) {
    p.cluster_ids = ctx.required<std::vector<std::string>>("cluster_ids");
    if (p.cluster_ids.empty() || p.cluster_ids.size() > 50)
      throw ParamError("param 'cluster_ids' must list 1 to 50 cluster ids");
    std::set<std::string> seen;
    for (const auto& id : p.cluster_ids) {
      if (id.empty() || id.size() > 100)
        throw ParamError("param 'cluster_ids' holds an empty or over-long id");
      if (!seen.insert(id).second) throw ParamError("param 'cluster_ids' names " + id + " twice");
    }
  }
  p.window_text = ctx.param<std::string>("window", "24h");
  p.window_s = parse_window(p.window_text);
  if (p.window_s < 60 || p.window_s > 60 * 86400)
    throw ParamError("param 'window' must be a duration from 1m to 60d, such as 24h, 90m or 1d12h");
  p.max_job_hours = ctx.param<double>("max_job_hours", 24.0);
  if (!(p.max_job_hours > 0) || p.max_job_hours > 8760)
    throw ParamError("param 'max_job_hours' must be more than 0 and at most 8760");

  if (ctx.has("streaming_jobs")) {
    const auto& list = ctx.params().at("streaming_jobs");
    if (!list.is_array() || list.empty() || list.size() > 50)
      throw ParamError("param 'streaming_jobs' must list 1 to 50 job ids or names");
    for (const auto& item : list) {
      if (item.is_number_integer() && item.get<std::int64_t>() > 0) {
        p.streaming_ids.insert(item.get<std::int64_t>());
        p.streaming_order.push_back(std::to_string(item.get<std::int64_t>()));
      } else if (item.is_string() && !item.get<std::string>().empty() &&
                 item.get<std::string>().size() <= 200) {
        const auto& s = item.get_ref<const std::string&>();
        if (s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos)
          p.streaming_ids.insert(std::stoll(s));
        else
          p.streaming_names.insert(s);
        p.streaming_order.push_back(s);
      } else {
        throw ParamError(
            "param 'streaming_jobs' must hold job ids (numbers) or job names (strings)");
      }
    }
  }
  return p;
}

class Review {
 public:
  Review(Context& ctx, Params p) : ctx_(ctx), p_(std::move(p)), client_(p_.base_url, p_.auth) {}

  void operator()() {
    ctx_.attribute("workspace", p_.base_url);
    ctx_.attribute("window", p_.window_text);
    char hours[32];
    std::snprintf(hours, sizeof hours, "%g", p_.max_job_hours);
    ctx_.attribute("max_job_hours", hours);
    now_ = now_ms();

    if (read_clusters()) read_runs();
    ctx_.metric(kApiMs, slowest_ms_);
    if (!error_.empty()) return ctx_.error(error_ + (summary_.empty() ? "" : " (" + join() + ")"));
    ctx_.status(status_, join());
  }

 private:
  // ---- failures --------------------------------------------------------

  // Reports a failed call; returns false when nothing more should be asked
  // (the workspace is down, slow, refuses the token, or the check must end).
  bool failed(const db::Outcome& o, const std::string& what) {
    const std::string where = what + " (" + o.endpoint + ")";
    if (o.http_status != 0) ctx_.attribute("http_status", std::to_string(o.http_status));
    if (!o.error_code.empty()) ctx_.attribute("error_code", o.error_code);
    auto critical = [&](const std::string& title, const char* remediation) {
      ctx_.finding(Severity::critical, title, where + ": " + o.reason, remediation);
      raise(Status::critical);
      summary_.push_back(title);
    };
    switch (o.failure) {
      case db::Failure::none:
        return true;
      case db::Failure::cancelled:
        if (ctx_.remaining().count() > 0 || ctx_.cancelled()) {
          error_ = "cancelled while reading " + what;
          return false;
        }
        [[fallthrough]];
      case db::Failure::timed_out:
        critical("Databricks did not answer in time", kSlow);
        return false;
      case db::Failure::unreachable:
        critical("Databricks workspace unreachable", kUnreachable);
        return false;
      case db::Failure::unavailable:
        critical("Databricks API unavailable (HTTP " + std::to_string(o.http_status) + ")",
                 kUnavailable);
        return false;
      case db::Failure::unauthenticated:
        critical("Databricks refused the token (HTTP " + std::to_string(o.http_status) + ")",
                 kTokenRefused);
        return false;
      case db::Failure::forbidden:
        // Another API may still answer (the identity may see clusters, not jobs).
        critical("The token's identity may not read " + what + " (HTTP 403)", kForbidden);
        return true;
      case db::Failure::throttled:
        error_ = "Databricks throttled the requests for " + where + ": " + o.reason +
                 ", longer than the check's time allows";
        return false;
      case db::Failure::not_found:
        error_ = where + " was not found: " + o.reason +
                 " (is target the workspace URL, without a path?)";
        return false;
      case db::Failure::rejected:
        error_ = "Databricks rejected the request for " + where + ": " + o.reason;
        return false;
      case db::Failure::malformed:
      case db::Failure::too_large:
        error_ = "the answer for " + where + " is not the API's: " + o.reason;
        return false;
    }
    return false;
  }

  void account(const db::Outcome& o) {
    slowest_ms_ = std::max(slowest_ms_, o.slowest_ms);
    requests_ += o.requests;
    retries_ += o.retries;
    ctx_.attribute("requests", std::to_string(requests_));
    if (retries_ > 0) ctx_.attribute("throttled_retries", std::to_string(retries_));
  }

  void raise(Status s) {
    auto rank = [](Status x) {
      return x == Status::critical ? 3 : x == Status::warning ? 2 : x == Status::unknown ? 1 : 0;
    };
    if (rank(s) > rank(status_)) status_ = s;
  }

  std::string join() const {
    std::string out;
    for (std::size_t i = 0; i < summary_.size(); ++i) out += (i ? "; " : "") + summary_[i];
    return out;
  }

  // ---- clusters --------------------------------------------------------

  bool read_clusters() {
    std::vector<db::Cluster> clusters;
    std::vector<std::string> missing;
    if (p_.cluster_ids.empty()) {
      auto list = client_.list_clusters(ctx_);
      account(list.outcome);
      if (!list.outcome.ok()) return failed(list.outcome, "the cluster list");
      if (list.truncated) {
        ctx_.attribute("clusters_truncated", "yes: at most " + std::to_string(db::kMaxClusters) +
                                                 " clusters in " +
                                                 std::to_string(db::kMaxClusterPages) + " pages");
        ctx_.log(LogLevel::warning, "the cluster list was cut at the check's bound");
      }
      clusters = std::move(list.clusters);
    } else {
      for (const auto& id : p_.cluster_ids) {
        auto got = client_.get_cluster(ctx_, id);
        account(got.outcome);
        // Only the API's own "no such cluster" answer; a bare 404 means a
        // target that is not a workspace and is reported as such.
        if (got.outcome.failure == db::Failure::not_found &&
            (got.outcome.error_code == "INVALID_PARAMETER_VALUE" ||
             got.outcome.error_code == "RESOURCE_DOES_NOT_EXIST")) {
          missing.push_back(id);
          continue;
        }
        if (!got.outcome.ok()) return failed(got.outcome, "cluster " + id);
        clusters.push_back(std::move(*got.cluster));
      }
    }
    judge_clusters(clusters);
    if (!missing.empty()) {
      raise(Status::warning);
      ctx_.finding(Severity::warning,
                   std::to_string(missing.size()) + " cluster(s) of cluster_ids not found",
                   "The workspace has no cluster " + prom::list_some(missing, kNamed) +
                       " (clusters/get: does not exist); a cluster deleted, or terminated more "
                       "than 30 days ago and not pinned, is gone.",
                   "Correct cluster_ids (databricks clusters list shows the ids), or pin the "
                   "clusters that must be kept (databricks clusters pin CLUSTER_ID).");
      summary_.push_back(std::to_string(missing.size()) + " not found");
    }
    return true;
  }

  static std::string label(const db::Cluster& c) {
    if (c.name.empty()) return c.id;
    return c.name + " (" + c.id + ")";
  }

  static std::string termination_text(const db::Cluster& c) {
    std::string out;
    if (!c.termination.code.empty()) out += "code " + c.termination.code;
    if (!c.termination.type.empty())
      out += (out.empty() ? "type " : ", type ") + c.termination.type;
    if (!c.termination.parameters.empty()) {
      out += out.empty() ? "parameters: " : "; parameters: ";
      for (std::size_t i = 0; i < c.termination.parameters.size(); ++i)
        out += (i ? ", " : "") + c.termination.parameters[i].first + "=" +
               c.termination.parameters[i].second;
    }
    return out;
  }

  // A termination is expected when a user or inactivity ended the cluster,
  // or its job finished: type SUCCESS, or without a type, one of those codes.
  static bool expected_termination(const db::TerminationReason& t) {
    if (!t.type.empty()) return t.type == "SUCCESS";
    return t.code == "USER_REQUEST" || t.code == "INACTIVITY" || t.code == "JOB_FINISHED";
  }

  void judge_clusters(const std::vector<db::Cluster>& clusters) {
    int running = 0, errors = 0, unexpected = 0, at_max = 0, old_unexpected = 0;
    std::int64_t workers = 0;
    std::vector<const db::Cluster*> sized, maxed;
    std::map<std::string, int> names;
    for (const auto& c : clusters) ++names[c.name];
    const std::int64_t since = now_ - p_.window_s * 1000;
    for (const auto& c : clusters) {
      if (c.state == "RUNNING" || c.state == "RESIZING") {
        ++running;
        workers += std::max<std::int64_t>(0, c.workers());
        sized.push_back(&c);
      }
      if (c.state == "RUNNING" && c.autoscaling() && *c.max_workers > c.min_workers.value_or(0) &&
          c.workers() >= *c.max_workers) {
        ++at_max;
        maxed.push_back(&c);
      }
      if (c.state == "ERROR") {
        if (++errors <= static_cast<int>(kClusterFindings)) {
          std::string detail = "Cluster " + label(c) + " is in ERROR";
          if (!c.state_message.empty()) detail += ": " + redact(c.state_message, p_.auth);
          if (!c.termination.empty()) detail += " (" + termination_text(c) + ")";
          ctx_.finding(Severity::critical, "Cluster " + display(c, names) + " is in ERROR", detail,
                       kClusterError);
        }
      }
      if (c.state == "TERMINATED" && !c.termination.empty() &&
          !expected_termination(c.termination)) {
        if (c.terminated_time_ms > 0 && c.terminated_time_ms < since) {
          ++old_unexpected;
          continue;
        }
        if (++unexpected <= static_cast<int>(kClusterFindings)) {
          std::string detail = "Cluster " + label(c) + " terminated " +
                               when_text(c.terminated_time_ms, now_) + ": " + termination_text(c);
          if (!c.state_message.empty())
            detail += ". State message: " + redact(c.state_message, p_.auth);
          const char* remediation = c.termination.type == "CLOUD_FAILURE"   ? kTerminatedCloud
                                    : c.termination.type == "SERVICE_FAULT" ? kTerminatedService
                                                                            : kTerminatedClient;
          ctx_.finding(Severity::warning,
                       "Cluster " + display(c, names) + " terminated unexpectedly: " +
                           (c.termination.code.empty() ? c.termination.type : c.termination.code),
                       redact(detail, p_.auth), remediation);
        }
      }
    }
    if (errors > static_cast<int>(kClusterFindings))
      ctx_.finding(Severity::critical,
                   std::to_string(errors - kClusterFindings) + " more cluster(s) in ERROR",
                   "Only the first " + std::to_string(kClusterFindings) + " are named.",
                   kClusterError);
    if (unexpected > static_cast<int>(kClusterFindings))
      ctx_.finding(Severity::warning,
                   std::to_string(unexpected - kClusterFindings) +
                       " more cluster(s) terminated unexpectedly",
                   "Only the first " + std::to_string(kClusterFindings) + " are named.",
                   kUnexpected.c_decl().remediation);
    if (old_unexpected > 0)
      ctx_.attribute("terminated_unexpectedly_before_window", std::to_string(old_unexpected));

    ctx_.metric(kClusters, static_cast<double>(clusters.size()));
    ctx_.metric(kRunning, running);
    ctx_.metric(kWorkers, static_cast<double>(workers));
    ctx_.metric(kErrors, errors);
    ctx_.metric(kUnexpected, unexpected);
    ctx_.metric(kAtMax, at_max);
    ctx_.attribute("clusters", std::to_string(clusters.size()));

    std::stable_sort(sized.begin(), sized.end(), [](const db::Cluster* a, const db::Cluster* b) {
      return a->workers() > b->workers();
    });
    for (std::size_t i = 0; i < sized.size() && i < kPerClusterMetrics; ++i)
      ctx_.metric(kClusterWorkers,
                  prom::fit_item(kClusterWorkers.name(), display(*sized[i], names)),
                  static_cast<double>(std::max<std::int64_t>(0, sized[i]->workers())));

    if (!maxed.empty()) {
      std::vector<std::string> named;
      for (const auto* c : maxed)
        named.push_back(label(*c) + ": " + std::to_string(c->workers()) + " of max " +
                        std::to_string(*c->max_workers) + " workers");
      ctx_.finding(Severity::warning,
                   "High latency risk: " + std::to_string(maxed.size()) +
                       " cluster(s) at their autoscale maximum (cluster undersized)",
                   prom::list_some(named, kNamed), kUndersized);
    }
    if (errors > 0) raise(Status::critical);
    if (unexpected > 0 || at_max > 0) raise(Status::warning);

    std::string s = std::to_string(clusters.size()) + " cluster(s), " + std::to_string(running) +
                    " running with " + std::to_string(workers) + " worker(s)";
    if (errors > 0) s += ", " + std::to_string(errors) + " in ERROR";
    if (unexpected > 0) s += ", " + std::to_string(unexpected) + " terminated unexpectedly";
    if (at_max > 0) s += ", " + std::to_string(at_max) + " at autoscale max";
    summary_.push_back(s);
  }

  // The cluster's name, with its id when the name is empty or not unique.
  static std::string display(const db::Cluster& c, const std::map<std::string, int>& names) {
    if (c.name.empty()) return c.id;
    const auto it = names.find(c.name);
    return it != names.end() && it->second > 1 ? c.name + " (" + c.id + ")" : c.name;
  }

  // ---- runs ------------------------------------------------------------

  bool streaming(const db::Run& r) const {
    return p_.streaming_ids.count(r.job_id) > 0 ||
           (!r.run_name.empty() && p_.streaming_names.count(r.run_name) > 0);
  }

  static std::string run_label(const db::Run& r) {
    std::string out = "run " + std::to_string(r.run_id);
    if (!r.run_name.empty())
      out += " of " + r.run_name;
    else if (r.job_id != 0)
      out += " of job " + std::to_string(r.job_id);
    return out;
  }

  void read_runs() {
    db::RunQuery active;
    active.active_only = true;
    auto now_active = client_.list_runs(ctx_, active);
    account(now_active.outcome);
    if (!now_active.outcome.ok()) {
      failed(now_active.outcome, "the active job runs");
      return;
    }
    db::RunQuery done;
    done.completed_only = true;
    done.start_time_from_ms = now_ - p_.window_s * 1000;
    auto completed = client_.list_runs(ctx_, done);
    account(completed.outcome);
    if (!completed.outcome.ok()) {
      judge_active(now_active);
      failed(completed.outcome, "the completed job runs");
      return;
    }
    judge_active(now_active);
    judge_completed(completed);
  }

  void judge_active(const db::RunList& list) {
    if (list.truncated) {
      ctx_.attribute("active_runs_truncated",
                     "yes: at most " + std::to_string(db::kMaxRuns) + " runs read");
      ctx_.log(LogLevel::warning,
               "the active runs were cut at the check's bound: streaming jobs beyond it may be "
               "reported down");
    }
    const double limit_ms = p_.max_job_hours * static_cast<double>(kHourMs);
    std::vector<std::string> runaway;
    double longest_h = 0;
    std::set<std::int64_t> up_ids;
    std::set<std::string> up_names;
    std::map<std::string, std::string> seen_state;  // streaming job -> state of a non-running run
    for (const auto& r : list.runs) {
      if (streaming(r)) {
        const std::string key_id = std::to_string(r.job_id);
        if (r.life_cycle_state == "RUNNING") {
          up_ids.insert(r.job_id);
          up_names.insert(r.run_name);
        } else {
          seen_state[key_id] = r.life_cycle_state;
          seen_state[r.run_name] = r.life_cycle_state;
        }
        continue;
      }
      if (r.trigger == "CONTINUOUS" || r.start_time_ms <= 0) continue;
      const double age_ms = static_cast<double>(now_ - r.start_time_ms);
      longest_h = std::max(longest_h, age_ms / static_cast<double>(kHourMs));
      if (age_ms > limit_ms)
        runaway.push_back(run_label(r) + " (" + r.life_cycle_state + ", started " +
                          when_text(r.start_time_ms, now_) +
                          (r.run_page_url.empty() ? "" : ", " + r.run_page_url) + ")");
    }
    ctx_.metric(kRunsActive, static_cast<double>(list.runs.size()));
    ctx_.metric(kRunaway, static_cast<double>(runaway.size()));
    ctx_.metric(kLongest, longest_h);
    std::string s = std::to_string(list.runs.size()) + " active run(s)";
    if (!runaway.empty()) {
      raise(Status::warning);
      char limit[32];
      std::snprintf(limit, sizeof limit, "%g h", p_.max_job_hours);
      ctx_.finding(Severity::warning,
                   "Cost spike: " + std::to_string(runaway.size()) +
                       " runaway job run(s) active longer than " + limit,
                   redact(prom::list_some(runaway, kNamed), p_.auth), kRunawayText);
      s += ", " + std::to_string(runaway.size()) + " runaway";
    }
    if (!p_.streaming_order.empty()) {
      std::vector<std::string> down;
      for (const auto& job : p_.streaming_order) {
        const bool digits = job.find_first_not_of("0123456789") == std::string::npos;
        const bool up = digits ? up_ids.count(std::stoll(job)) > 0 : up_names.count(job) > 0;
        if (up) continue;
        const auto st = seen_state.find(job);
        down.push_back(job + (st != seen_state.end() && !st->second.empty()
                                  ? " (its run is " + st->second + ")"
                                  : " (no active run)"));
      }
      ctx_.metric(kStreamingDown, static_cast<double>(down.size()));
      ctx_.attribute("streaming_jobs", std::to_string(p_.streaming_order.size() - down.size()) +
                                           " of " + std::to_string(p_.streaming_order.size()) +
                                           " running");
      if (!down.empty()) {
        raise(Status::critical);
        ctx_.finding(Severity::critical,
                     std::to_string(down.size()) + " streaming job(s) not running",
                     "Without a RUNNING run: " + prom::list_some(down, kNamed), kStreamingDownText);
        s += ", " + std::to_string(down.size()) + " streaming job(s) down";
      }
    }
    summary_.push_back(s);
  }

  static bool failed_run(const db::Run& r) {
    return r.result_state == "FAILED" || r.result_state == "TIMEDOUT" ||
           r.life_cycle_state == "INTERNAL_ERROR";
  }

  void judge_completed(const db::RunList& list) {
    if (list.truncated)
      ctx_.attribute("completed_runs_truncated",
                     "yes: at most " + std::to_string(db::kMaxRuns) + " runs read (newest first)");
    std::vector<std::string> failures;
    // start_time_from asked the API for these; a run outside the window
    // (a server that ignores the filter) is not counted.
    const std::int64_t since = now_ - p_.window_s * 1000;
    std::size_t in_window = 0;
    for (const auto& r : list.runs) {
      if (r.start_time_ms > 0 && r.start_time_ms < since) continue;
      ++in_window;
      if (!failed_run(r)) continue;
      std::string what = run_label(r) + ": " +
                         (r.result_state.empty() ? r.life_cycle_state : r.result_state) + " " +
                         when_text(r.end_time_ms > 0 ? r.end_time_ms : r.start_time_ms, now_);
      if (!r.state_message.empty()) what += " - " + prom::abbreviate(r.state_message, 200);
      failures.push_back(std::move(what));
    }
    ctx_.metric(kRunsCompleted, static_cast<double>(in_window));
    ctx_.metric(kRunsFailed, static_cast<double>(failures.size()));
    std::string s = std::to_string(in_window) + " run(s) ended in " + p_.window_text;
    if (!failures.empty()) {
      raise(Status::warning);
      ctx_.finding(
          Severity::warning,
          std::to_string(failures.size()) + " job run(s) failed in the last " + p_.window_text,
          redact(prom::list_some(failures, kNamed), p_.auth), kRunsFailedText);
      s += ", " + std::to_string(failures.size()) + " failed";
    }
    summary_.push_back(s);
  }

  Context& ctx_;
  Params p_;
  db::Client client_;
  std::int64_t now_ = 0;
  Status status_ = Status::ok;
  std::vector<std::string> summary_;
  std::string error_;
  double slowest_ms_ = 0;
  int requests_ = 0, retries_ = 0;
};

}  // namespace

const Metrics DatabricksCheck::metrics{kMetrics};

void DatabricksCheck::run(Context& ctx) {
  Params p = read_params(ctx);
  if (p.credentials.kind != identity::Credentials::Kind::none) {
    auto token = identity::authenticate(ctx, p.credentials, p.token_resource);
    if (!token) return;
    p.auth.bearer_token = std::move(*token);
  }
  Review(ctx, std::move(p))();
}

}  // namespace triage::cluster
