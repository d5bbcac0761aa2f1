// The geo_replication check: a read-access geo-redundant storage account's
// replication to its secondary region, from Get Blob Service Stats on the
// secondary endpoint (GET https://ACCOUNT-secondary.blob.core.windows.net/
// ?restype=service&comp=stats). Its GeoReplication Status (live, bootstrap,
// unavailable) and the age of its LastSyncTime — every primary write before
// it is readable on the secondary, i.e. the recovery point a failover would
// restore — are judged against the RPO (the runbook's Data Lake: 1 hour).
//
// Authorization is the blob check's (azure_account.hpp): Shared Key, SAS or
// bearer token, secrets never reported.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "azure_account.hpp"
#include "azure_identity.hpp"
#include "azure_rpo.hpp"
#include "azure_xml.hpp"
#include "checks.hpp"
#include "fs_util.hpp"

namespace triage::storage {

namespace {
const std::string kSchema = std::string(R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "storage/geo_replication params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
      "description": "The account's primary Blob endpoint, e.g. https://ACCOUNT.blob.core.windows.net (a .dfs. host is replaced by its .blob. twin), or for Azurite http://127.0.0.1:10000/devstoreaccount1. The secondary endpoint is derived from it unless 'secondary' is given. No query string: a SAS goes in sas_token."
    },
    "secondary": {
      "type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
      "description": "The secondary endpoint to ask, overriding the derived one (https://ACCOUNT-secondary.blob.core.windows.net for ACCOUNT.blob.* hosts, http://HOST:PORT/ACCOUNT-secondary for path-style endpoints). Needed for custom domains and private endpoints (privatelink: ACCOUNT-secondary.privatelink.blob.core.windows.net)."
    },
    "account": {
      "type": "string", "pattern": "^[A-Za-z0-9-]+$",
      "description": "The storage account name, as the Shared Key signature names it (never with -secondary). Default: the first path segment of target when it has a path, else the first label of its host."
    },
    "auth": {
      "type": "string", "enum": ["shared_key", "sas", "bearer", "azure_ad", "anonymous"],
      "description": "How to authorize: shared_key (account_key), sas (sas_token), bearer (bearer_token, https only), azure_ad (a token for https://storage.azure.com/ from the Azure AD credentials tenant_id/client_id/client_secret or managed_identity, https only; the identity needs a Storage Blob Data role) or anonymous. Default: the one whose secret or credentials are given, else anonymous (which Get Blob Service Stats refuses)."
    },
    "account_key": {
      "type": "string", "writeOnly": true, "x-triage-secret": true,
      "description": "The account's access key (base64), for auth shared_key. Secret: never reported."
    },
    "sas_token": {
      "type": "string", "writeOnly": true, "x-triage-secret": true,
      "description": "An account SAS covering the service level: ss including b, srt including s, sp including r (the query string of a SAS URL; a leading ? is allowed). Secret: never reported."
    },
    "bearer_token": {
      "type": "string", "writeOnly": true, "x-triage-secret": true,
      "description": "An OAuth 2.0 access token for https://storage.azure.com/ (a principal with a Storage Blob Data role on the account), for auth bearer; sent only over https. Secret: never reported."
    },
    "rpo": {
      "type": "string", "default": "1h",
      "description": "The recovery point objective the secondary's last sync is judged against: a duration like \"15m\" or \"1h\" (default 1h, the runbook's Data Lake RPO). last_sync_age_s warns past 75 % of it and is critical past it."
    },
    "ca_file": {
      "type": "string", "minLength": 1,
      "description": "PEM file of CA certificates to trust instead of the system store (a private endpoint or TLS-inspecting proxy). Certificate verification is always on."
    },
)") + azure_identity::kParamsSchemaProperties +
                            R"(
  },
  "required": ["target"],
  "additionalProperties": false
})";
}  // namespace

const char* const GeoReplicationCheck::params_schema = kSchema.c_str();

namespace {
constexpr const char* kLagging =
    "The secondary region is behind the primary: a failover now would lose the writes since the "
    "last sync. Check Azure Service Health for the storage account's regions and the account's "
    "Geo-replication blade (Last sync time), and the primary's write rate (a burst of writes or "
    "many small blobs slows replication). Azure gives no SLA on the lag; the runbook's Data "
    "Lake RPO is 1 hour (continuous replication).";

constexpr MetricDecl kMetrics[] = {
    // Its ranges come from rpo when emitted: warning past 75 % of it, critical past it.
    metric("last_sync_age_s", "s",
           "Age of the secondary's LastSyncTime: writes to the primary older than this are "
           "readable on the secondary; warning past 75 % of rpo (default 1h), critical past it")
        .remediation(kLagging),
};
}  // namespace

const Metrics GeoReplicationCheck::metrics{kMetrics};

namespace {

using azure::Auth;
using SystemClock = std::chrono::system_clock;

constexpr std::string_view kOperation = "Get Blob Service Stats";

struct Params {
  azure::Account account;
  azure::Endpoint secondary;
  bool secondary_given = false;
  std::chrono::milliseconds rpo{};
  std::string rpo_text;
};

Params read_params(const Context& ctx) {
  azure::reject_unknown_params(ctx, {"target", "secondary", "account", "auth", "account_key",
                                     "sas_token", "bearer_token", "rpo", "ca_file"});
  Params p;
  p.account = azure::read_account(ctx);
  if (ctx.has("secondary")) {
    const auto text = ctx.required<std::string>("secondary");
    try {
      p.secondary = azure::parse_endpoint(text, p.account.endpoint.account);
    } catch (const ParamError& e) {
      std::string why = e.what();
      if (const auto at = why.find("param 'target'"); at != std::string::npos)
        why.replace(at, 14, "param 'secondary'");
      throw ParamError(why);
    }
    p.secondary_given = true;
    if (p.account.auth == Auth::bearer && !p.secondary.https)
      throw ParamError("auth 'bearer' sends the token only over https: use an https:// secondary");
  } else {
    p.secondary = azure::secondary_endpoint(p.account.endpoint);
  }
  p.rpo = azure::read_objective(ctx, "rpo", azure::kDataLakeRpo);
  p.rpo_text = ctx.param<std::string>("rpo", std::string(azure::kDataLakeRpo));
  return p;
}

// Printable, one line, bounded: the body is untrusted.
std::string clean(std::string_view s, std::size_t max = 64) {
  std::string out;
  for (char c : s.substr(0, max))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

class Run {
 public:
  Run(Context& ctx, const Params& p) : ctx_(ctx), p_(p), a_(p.account) {}

  void operator()() {
    ctx_.attribute("account", a_.endpoint.account);
    // With azure_ad, azure::authorize already named the identity.
    if (!a_.azure_ad) ctx_.attribute("auth", std::string(azure::auth_name(a_.auth)));
    ctx_.attribute("secondary_endpoint", p_.secondary.shown());
    ctx_.attribute("api_version", std::string(azure::kApiVersion));
    ctx_.attribute("rpo", p_.rpo_text);
    const std::string where = p_.secondary.shown() + "/";

    const auto request = azure::make_request(a_, p_.secondary, "GET", "/",
                                             {{"restype", "service"}, {"comp", "stats"}}, {});
    auto r = azure::perform_with_retry(request, a_.transport, ctx_);
    if (r.cancelled || r.curl != CURLE_OK) {
      if (!r.cancelled && r.curl == CURLE_COULDNT_RESOLVE_HOST && !p_.secondary_given) {
        ctx_.finding(Severity::critical, "The secondary endpoint does not resolve",
                     where + ": " + r.curl_error,
                     "Only read-access geo-redundant accounts (RA-GRS, RA-GZRS) have a readable "
                     "secondary endpoint ACCOUNT-secondary: check the account's redundancy "
                     "(az storage account show --query sku.name) and the account name; behind a "
                     "private endpoint the secondary needs its own private endpoint and DNS "
                     "record (give it in 'secondary').");
        ctx_.status(Status::critical, std::string(kOperation) +
                                          " failed: the secondary endpoint "
                                          "does not resolve");
        return;
      }
      azure::report_no_answer(ctx_, kOperation, where, r);
      return;
    }
    if (r.status < 200 || r.status >= 300) {
      azure::report_http_failure(ctx_, a_, kOperation, where, r);
      return;
    }
    if (!r.request_id.empty()) ctx_.attribute("request_id", r.request_id);
    judge(r.body);
  }

 private:
  void raise(Status s) {
    if (static_cast<int>(s) > static_cast<int>(status_)) status_ = s;
  }

  void unreadable(std::string_view why, std::string_view body) {
    ctx_.finding(Severity::warning, "Unreadable Get Blob Service Stats response",
                 "the secondary " + p_.secondary.shown() + " answered 200 but " + std::string(why) +
                     " (" + std::to_string(body.size()) + " bytes)",
                 "The endpoint may not be the account's secondary Blob endpoint, or a proxy "
                 "rewrote the answer: check 'secondary' / 'target', and read the account's "
                 "Geo-replication blade in the portal meanwhile.");
    ctx_.error("could not read the replication status: " + std::string(why));
  }

  void judge(std::string_view body) {
    const auto stats = azure::xml_find(body, "StorageServiceStats");
    const auto geo = stats ? azure::xml_find(stats->text, "GeoReplication") : std::nullopt;
    if (!geo) return unreadable("it holds no StorageServiceStats/GeoReplication element", body);
    const std::string status = trim(azure::xml_text(geo->text, "Status"));
    if (status.empty()) return unreadable("its GeoReplication has no Status", body);
    const std::string sync_text = trim(azure::xml_text(geo->text, "LastSyncTime"));
    std::optional<SystemClock::time_point> sync;
    if (!sync_text.empty()) {
      sync = azure::parse_rfc1123(sync_text);
      if (!sync)
        return unreadable("its LastSyncTime '" + clean(sync_text) + "' is not an RFC 1123 date",
                          body);
    }
    ctx_.attribute("replication_status", clean(status));
    const std::string rpo = human_duration(p_.rpo);
    std::string summary = "geo-replication of " + a_.endpoint.account + " is " + clean(status);

    std::optional<std::chrono::milliseconds> age;
    if (sync) {
      age = std::chrono::duration_cast<std::chrono::milliseconds>(SystemClock::now() - *sync);
      const auto ranges = azure::age_ranges(p_.rpo);
      ctx_.metric("last_sync_age_s", static_cast<double>(age->count()) / 1000.0, "s",
                  Thresholds{ranges.warning, ranges.critical});
      ctx_.attribute("last_sync_time", azure::iso8601_utc(*sync));
      summary += ", last sync " + human_duration(std::max(*age, std::chrono::milliseconds(0))) +
                 " ago (RPO " + rpo + ")";
      if (age->count() < -5 * 60 * 1000)
        ctx_.log(LogLevel::warning, "LastSyncTime " + azure::iso8601_utc(*sync) +
                                        " is ahead of this host's clock: check NTP here");
    } else {
      summary += ", no LastSyncTime";
    }

    if (status == "live") {
      if (!sync) {
        ctx_.finding(Severity::warning, "Replication is live but reports no LastSyncTime",
                     "Get Blob Service Stats on " + p_.secondary.shown() +
                         " says live with an empty LastSyncTime, so the recovery point is unknown",
                     "Read the account's Last sync time in the portal (Geo-replication) or with "
                     "az storage account show --expand geoReplicationStats; if it stays empty, "
                     "open a support case.");
        raise(Status::warning);
      } else {
        judge_lag(*age, *sync, rpo);
      }
    } else if (status == "bootstrap") {
      ctx_.finding(Severity::warning, "Geo-replication is bootstrapping: initial sync in progress",
                   "the secondary of " + a_.endpoint.account +
                       " is still receiving its initial copy (status bootstrap" +
                       (sync ? ", last sync " + azure::iso8601_utc(*sync) : std::string()) + ")",
                   "The initial synchronization to the secondary region runs after geo-"
                   "redundancy is enabled or the account converted; until it completes the "
                   "secondary holds no complete recovery point and the Data Lake's RPO of " +
                       rpo +
                       " is not covered by it. Wait for it to finish (large accounts take "
                       "hours to days); avoid a failover meanwhile.");
      raise(Status::warning);
      if (sync) judge_lag(*age, *sync, rpo);
    } else if (status == "unavailable") {
      ctx_.finding(Severity::critical, "Secondary region unavailable",
                   "Get Blob Service Stats on " + p_.secondary.shown() +
                       " reports the secondary location unavailable" +
                       (sync ? " (last sync " + azure::iso8601_utc(*sync) + ")" : std::string()),
                   "Secondary region unavailable: check Azure Service Health for the "
                   "account's secondary region; the Data Lake's RPO of " +
                       rpo +
                       " is at risk until replication is live again, so avoid relying on a "
                       "failover and keep other backups current.");
      raise(Status::critical);
    } else {
      ctx_.finding(Severity::warning, "Unknown geo-replication status",
                   "Get Blob Service Stats reports status '" + clean(status) +
                       "' (documented: live, bootstrap, unavailable)",
                   "Read the account's Geo-replication blade in the portal; the check may need "
                   "updating for a newer service version.");
      raise(Status::warning);
      if (sync) judge_lag(*age, *sync, rpo);
    }
    ctx_.status(status_, summary);
  }

  void judge_lag(std::chrono::milliseconds age, SystemClock::time_point sync,
                 const std::string& rpo) {
    const auto lag = azure::judge_age(age, p_.rpo);
    if (lag == azure::Lag::within) return;
    const bool missed = lag == azure::Lag::missed;
    const Severity severity = missed ? Severity::critical : Severity::warning;
    ctx_.finding(severity,
                 missed ? "Data Lake RPO missed: last sync to the secondary older than the RPO"
                        : "Data Lake RPO at risk: last sync to the secondary older than 75 % of "
                          "the RPO",
                 "the secondary of " + a_.endpoint.account + " last synced at " +
                     azure::iso8601_utc(sync) + ", " + human_duration(age) + " ago; the RPO is " +
                     rpo,
                 kLagging);
    raise(severity == Severity::critical ? Status::critical : Status::warning);
  }

  Context& ctx_;
  const Params& p_;
  const azure::Account& a_;
  Status status_ = Status::ok;
};

}  // namespace

void GeoReplicationCheck::run(Context& ctx) {
  Params p = read_params(ctx);
  if (!azure::authorize(ctx, p.account)) return;
  Run(ctx, p)();
}

}  // namespace triage::storage
