// The blob check: an Azure Blob Storage / ADLS Gen2 container over the Blob
// REST API. One List Blobs request proves the endpoint answers, the
// credential works and the container exists, and times the listing; with
// prefix or max_age the listing under the prefix is walked (bounded pages)
// for its newest blob, whose age is the Data Lake's recovery point; a SAS
// token's expiry is reported as hours left; with write_probe a small canary
// blob is put, read back and always deleted.
//
// The account key, SAS token and bearer token are secrets: they go into
// request headers or the request URL only, never into a summary, finding,
// attribute or log. Reported URLs are the endpoint and container, never a query.
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  "title": "storage/blob params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
      "description": "The account's Blob endpoint, e.g. https://ACCOUNT.blob.core.windows.net (an ADLS Gen2 .dfs. host is replaced by its .blob. twin), or for Azurite http://127.0.0.1:10000/devstoreaccount1. No query string: a SAS goes in sas_token."
    },
    "container": {
      "type": "string", "pattern": "^(\\$root|\\$web|\\$logs|[a-z0-9](-?[a-z0-9])*)$", "minLength": 3, "maxLength": 63,
      "description": "The container (ADLS Gen2: file system) to check: 3-63 lowercase letters, digits and single hyphens."
    },
    "account": {
      "type": "string", "pattern": "^[A-Za-z0-9-]+$",
      "description": "The storage account name. Default: the first path segment of target when it has a path (Azurite style), else the first label of its host."
    },
    "auth": {
      "type": "string", "enum": ["shared_key", "sas", "bearer", "azure_ad", "anonymous"],
      "description": "How to authorize: shared_key (account_key, signed with HMAC-SHA256), sas (sas_token), bearer (bearer_token, Microsoft Entra ID, https only), azure_ad (a token for https://storage.azure.com/ fetched with the Azure AD credentials tenant_id/client_id/client_secret or managed_identity, https only) or anonymous (public container). Default: the one whose secret or credentials are given, else anonymous."
    },
    "account_key": {
      "type": "string", "writeOnly": true, "x-triage-secret": true,
      "description": "The account's access key (base64), for auth shared_key. Secret: never reported."
    },
    "sas_token": {
      "type": "string", "writeOnly": true, "x-triage-secret": true,
      "description": "A service, account or user delegation SAS: the query string of a SAS URL (sv=...&se=...&sig=..., a leading ? is allowed). Listing needs the l permission, write_probe r, w and d. Secret: never reported."
    },
    "bearer_token": {
      "type": "string", "writeOnly": true, "x-triage-secret": true,
      "description": "An OAuth 2.0 access token for https://storage.azure.com/, for auth bearer; sent only over https. Secret: never reported."
    },
    "write_probe": {
      "type": "boolean", "default": false,
      "description": "Also put, read back and delete a small canary blob named triage-canary-<random>, timing put_ms and get_ms. The canary is always deleted."
    },
    "max_results": {
      "type": "integer", "minimum": 1, "maximum": 5000, "default": 5,
      "description": "maxresults of the List Blobs request that is timed as list_ms."
    },
    "prefix": {
      "type": "string", "maxLength": 1024,
      "description": "Find the newest blob (by Last-Modified) whose name starts with this prefix, e.g. \"bronze/events/\", and report its age as newest_blob_age_s. Giving prefix or max_age turns the scan on; \"\" (the default) is the whole container."
    },
    "max_age": {
      "type": "string",
      "description": "How old the newest blob under prefix may be: the recovery point objective, a duration like \"30m\" or \"1h\" (default \"1h\", the runbook's Data Lake RPO). newest_blob_age_s warns past 75 % of max_age and is critical past it. Giving prefix or max_age turns the scan on."
    },
    "page_size": {
      "type": "integer", "minimum": 1, "maximum": 5000, "default": 5000,
      "description": "maxresults of each List Blobs page of the newest-blob scan (5000 is the service's maximum)."
    },
    "max_pages": {
      "type": "integer", "minimum": 1, "maximum": 100, "default": 20,
      "description": "Most List Blobs pages the newest-blob scan follows (NextMarker); past it the scan stops, reports the newest blob it saw and warns that the answer may be incomplete. The default examines at most 20 x 5000 = 100,000 blobs."
    },
    "ca_file": {
      "type": "string", "minLength": 1,
      "description": "PEM file of CA certificates to trust instead of the system store (a private endpoint or TLS-inspecting proxy). Certificate verification is always on."
    },
)") + azure_identity::kParamsSchemaProperties +
                            R"(
  },
  "required": ["target", "container"],
  "additionalProperties": false
})";
}  // namespace

const char* const BlobCheck::params_schema = kSchema.c_str();

namespace {
// The warning level is the runbook's API p99 target (< 500 ms).
constexpr const char* kSlowStorage =
    "Storage requests are slow: check the network path to the account (same region? private "
    "endpoint?), the account's throttling metrics (Azure Monitor: SuccessE2ELatency against "
    "SuccessServerLatency) and its request rate against the account's limits.";
constexpr const char* kStaleData =
    "Nothing new landed under the prefix within its RPO: the pipeline that writes there "
    "stopped or is late. Check the ingestion jobs (Databricks job runs, Data Factory or "
    "Event Hubs Capture) and their last errors, and that they still write to this container "
    "and prefix. The runbook's Data Lake RPO is 1 hour (continuous replication).";
constexpr MetricDecl kMetrics[] = {
    metric("list_ms", "ms", "Time of the List Blobs request (connect, TLS, request, response)")
        .warning("500")
        .critical("2000")
        .remediation(kSlowStorage),
    metric("put_ms", "ms", "With write_probe: Put Blob of the canary")
        .warning("500")
        .critical("2000")
        .remediation(kSlowStorage),
    metric("get_ms", "ms", "With write_probe: Get Blob of the canary")
        .warning("500")
        .critical("2000")
        .remediation(kSlowStorage),
    metric("delete_ms", "ms", "With write_probe: Delete Blob of the canary")
        .remediation(kSlowStorage),
    // Its ranges come from max_age when emitted: warning past 75 % of it, critical past it.
    metric("newest_blob_age_s", "s",
           "With prefix or max_age: age of the newest blob under prefix (by Last-Modified); "
           "warning past 75 % of max_age (default 1h, the Data Lake RPO), critical past it")
        .remediation(kStaleData),
    metric("sas_expires_in_hours", "h",
           "With auth sas and a token with se: hours until the SAS expires (negative: expired)")
        .warning("168:")
        .critical("24:")
        .remediation(
            "The SAS token expires soon and every request with it will then fail: generate a new "
            "one with a later expiry (se) and roll it out before this one lapses; prefer a user "
            "delegation SAS or a stored access policy that can be extended without "
            "redistributing tokens."),
};
}  // namespace

const Metrics BlobCheck::metrics{kMetrics};

namespace {

using azure::Auth;
using SystemClock = std::chrono::system_clock;

constexpr Thresholds kLatencyDefaults{"500", "2000"};  // ms, per the runbook's API p99
constexpr Thresholds kSasDefaults{"168:", "24:"};      // hours left: a week, a day
// A List Blobs page of 5000 blobs is about 5 MB of XML; keep a whole one.
constexpr std::size_t kMaxListPage = 16 * 1024 * 1024;

struct Scan {
  std::string prefix;
  std::chrono::milliseconds max_age{};
  std::string max_age_text;
  int page_size = 5000;
  int max_pages = 20;
};

struct Params {
  azure::Account account;
  std::string container;
  bool write_probe = false;
  int max_results = 5;
  std::optional<Scan> scan;  // with prefix or max_age
};

bool valid_container(std::string_view c) {
  if (c == "$root" || c == "$web" || c == "$logs") return true;
  if (c.size() < 3 || c.size() > 63 || c.front() == '-' || c.back() == '-') return false;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const char ch = c[i];
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
    if (!ok || (ch == '-' && c[i - 1] == '-')) return false;
  }
  return true;
}

Params read_params(const Context& ctx) {
  azure::reject_unknown_params(ctx, {"target", "container", "account", "auth", "account_key",
                                     "sas_token", "bearer_token", "write_probe", "max_results",
                                     "ca_file", "prefix", "max_age", "page_size", "max_pages"});
  Params p;
  p.account = azure::read_account(ctx);
  p.container = ctx.required<std::string>("container");
  if (!valid_container(p.container))
    throw ParamError("param 'container': '" + p.container +
                     "' is not a container name (3-63 lowercase letters, digits and single "
                     "hyphens, starting and ending with a letter or digit)");
  p.write_probe = ctx.param<bool>("write_probe", false);
  p.max_results = ctx.param<int>("max_results", 5);
  if (p.max_results < 1 || p.max_results > 5000)
    throw ParamError("param 'max_results' must be between 1 and 5000");

  if (ctx.has("prefix") || ctx.has("max_age")) {
    Scan scan;
    scan.prefix = ctx.param<std::string>("prefix", "");
    if (scan.prefix.size() > 1024)
      throw ParamError("param 'prefix' is longer than a blob name can be (1024 characters)");
    scan.max_age = azure::read_objective(ctx, "max_age", azure::kDataLakeRpo);
    scan.max_age_text = ctx.param<std::string>("max_age", std::string(azure::kDataLakeRpo));
    scan.page_size = ctx.param<int>("page_size", 5000);
    if (scan.page_size < 1 || scan.page_size > 5000)
      throw ParamError("param 'page_size' must be between 1 and 5000");
    scan.max_pages = ctx.param<int>("max_pages", 20);
    if (scan.max_pages < 1 || scan.max_pages > 100)
      throw ParamError("param 'max_pages' must be between 1 and 100");
    p.scan = std::move(scan);
  } else {
    for (const char* only_with_scan : {"page_size", "max_pages"})
      if (ctx.has(only_with_scan))
        throw ParamError(std::string("param '") + only_with_scan +
                         "' needs 'prefix' or 'max_age' (it shapes the newest-blob scan)");
  }
  return p;
}

std::string format_ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ms < 10 ? "%.1f ms" : "%.0f ms", ms);
  return buf;
}

std::string canary_name() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("cannot make a random canary blob name (OpenSSL RAND_bytes)");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "triage-canary-";
  for (unsigned char b : bytes) {
    name += kHex[b >> 4];
    name += kHex[b & 0x0f];
  }
  return name;
}

int count_blobs(std::string_view xml) {
  int n = 0;
  for (auto at = xml.find("<Blob>"); at != std::string_view::npos; at = xml.find("<Blob>", at + 1))
    ++n;
  return n;
}

// A name for reports: printable, one line, bounded (blob names are data).
std::string shown_name(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 200))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (name.size() > 200) out += "...";
  return out;
}

// What the newest-blob scan saw.
struct Newest {
  std::int64_t blobs = 0;
  std::int64_t undated = 0;  // blobs without a readable Last-Modified
  int pages = 0;
  bool complete = false;  // the last page had no NextMarker
  std::optional<SystemClock::time_point> when;
  std::string name;
};

class Run {
 public:
  Run(Context& ctx, const Params& p) : ctx_(ctx), p_(p), a_(p.account) {}

  void operator()() {
    ctx_.attribute("account", a_.endpoint.account);
    ctx_.attribute("container", p_.container);
    // With azure_ad, azure::authorize already named the identity.
    if (!a_.azure_ad) ctx_.attribute("auth", std::string(azure::auth_name(a_.auth)));
    ctx_.attribute("endpoint", a_.endpoint.shown());
    ctx_.attribute("api_version", std::string(azure::kApiVersion));
    report_sas_expiry();

    // ---- List Blobs: endpoint, auth, container, latency ----
    auto list = send("List Blobs", request("GET", container_path(),
                                           {{"restype", "container"},
                                            {"comp", "list"},
                                            {"maxresults", std::to_string(p_.max_results)}},
                                           {}));
    if (!list) return;
    ctx_.metric("list_ms", list->elapsed_ms, "ms", kLatencyDefaults);
    const int listed = count_blobs(list->body);
    ctx_.attribute("blobs_listed", std::to_string(listed));
    summary_ = "container '" + p_.container + "' of " + a_.endpoint.account + " listed in " +
               format_ms(list->elapsed_ms) + " (" + std::string(azure::auth_name(a_.auth)) +
               " auth, " + std::to_string(listed) + (listed == 1 ? " blob" : " blobs") +
               " in the first page)";
    if (!sas_note_.empty()) summary_ += "; " + sas_note_;

    if (p_.scan && !newest_blob(*p_.scan)) return;
    if (p_.write_probe) {
      auto probe = write_probe();
      if (!probe) return;
      summary_ += "; " + *probe;
    }
    ctx_.status(status_, summary_);
  }

 private:
  std::string container_path() const { return "/" + p_.container; }

  azure::HttpRequest request(std::string method, const std::string& path,
                             std::vector<azure::Header> query, std::vector<azure::Header> headers,
                             std::optional<std::string> body = {},
                             std::size_t max_body = 1024 * 1024) const {
    return azure::make_request(a_, a_.endpoint, std::move(method), path, std::move(query),
                               std::move(headers), std::move(body), max_body);
  }

  std::optional<azure::HttpResponse> send(std::string_view operation,
                                          const azure::HttpRequest& request,
                                          std::string_view where_suffix = {}) {
    const std::string where = a_.endpoint.shown() + container_path() + std::string(where_suffix);
    return azure::send(ctx_, a_, operation, request, where);
  }

  void raise(Status s) {
    if (static_cast<int>(s) > static_cast<int>(status_)) status_ = s;
  }

  // sas_expires_in_hours, before any request: an expiring token is worth
  // knowing about even when the request then fails for another reason.
  void report_sas_expiry() {
    if (a_.auth != Auth::sas || !a_.sas) return;
    if (a_.sas->expiry_text.empty()) {
      ctx_.log(LogLevel::info,
               "the SAS token has no se (its expiry comes from a stored access policy): "
               "sas_expires_in_hours is not reported");
      return;
    }
    ctx_.attribute("sas_expiry", a_.sas->expiry_text);  // a date, not a secret
    if (!a_.sas->expiry) {
      ctx_.log(LogLevel::warning, "the SAS token's se '" + a_.sas->expiry_text +
                                      "' is not an ISO 8601 UTC time: its expiry is not checked");
      return;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::seconds>(*a_.sas->expiry - SystemClock::now());
    const double hours = static_cast<double>(left.count()) / 3600.0;
    ctx_.metric("sas_expires_in_hours", hours, "h", kSasDefaults);
    sas_note_ = left.count() < 0
                    ? "SAS expired " + a_.sas->expiry_text
                    : "SAS expires in " + human_duration(std::chrono::milliseconds(left)) + " (" +
                          a_.sas->expiry_text + ")";
  }

  // Walks the listing under the prefix for its newest blob; false when a
  // request failed (already reported).
  bool newest_blob(const Scan& scan) {
    Newest n;
    std::string marker;
    const std::string where = "under prefix '" + shown_name(scan.prefix) + "' of " + p_.container;
    while (n.pages < scan.max_pages) {
      std::vector<azure::Header> query{{"restype", "container"}, {"comp", "list"}};
      if (!scan.prefix.empty()) query.emplace_back("prefix", scan.prefix);
      if (!marker.empty()) query.emplace_back("marker", marker);
      query.emplace_back("maxresults", std::to_string(scan.page_size));
      auto page = send("List Blobs",
                       request("GET", container_path(), std::move(query), {}, {}, kMaxListPage));
      if (!page) return false;
      ++n.pages;
      const std::string_view body = page->body;
      if (page->body_truncated || body.find("<EnumerationResults") == std::string_view::npos ||
          body.find("</EnumerationResults>") == std::string_view::npos) {
        ctx_.finding(Severity::critical, "Unreadable List Blobs response",
                     "page " + std::to_string(n.pages) + " of the listing " + where + " (" +
                         std::to_string(page->body.size()) + " bytes" +
                         (page->body_truncated ? ", cut at the size limit" : "") +
                         ") is not an EnumerationResults document",
                     "The endpoint may not be Azure Blob Storage, or a proxy rewrote the "
                     "response: check the target URL and any proxy in between.");
        ctx_.error("could not read the List Blobs response " + where);
        return false;
      }
      for (auto blob = azure::xml_find(body, "Blob"); blob;
           blob = azure::xml_find(body, "Blob", blob->end)) {
        ++n.blobs;
        const auto when = azure::parse_rfc1123(azure::xml_text(blob->text, "Last-Modified"));
        if (!when) {
          ++n.undated;
          continue;
        }
        if (!n.when || *when > *n.when) {
          n.when = when;
          n.name = azure::xml_text(blob->text, "Name");
        }
      }
      marker = azure::xml_text(body, "NextMarker");
      if (marker.empty()) {
        n.complete = true;
        break;
      }
    }
    report_newest(scan, n);
    return true;
  }

  void report_newest(const Scan& scan, const Newest& n) {
    const std::string prefix_shown = "'" + shown_name(scan.prefix) + "'";
    ctx_.attribute("prefix", shown_name(scan.prefix));
    ctx_.attribute("max_age", scan.max_age_text);
    ctx_.attribute("blobs_scanned", std::to_string(n.blobs));
    ctx_.attribute("scan_pages", std::to_string(n.pages));
    const std::string rpo = human_duration(scan.max_age);
    if (!n.complete) {
      ctx_.finding(Severity::warning, "Too many blobs to examine under the prefix",
                   "the scan stopped after max_pages=" + std::to_string(scan.max_pages) +
                       " pages (" + std::to_string(n.blobs) + " blobs) under " + prefix_shown +
                       " of " + p_.container + "; a newer blob may exist beyond them",
                   "Narrow the prefix to the folder the pipeline writes now (e.g. today's "
                   "partition), or raise max_pages (and the check's timeout).");
      raise(Status::warning);
    }
    if (n.undated > 0)
      ctx_.log(LogLevel::warning,
               std::to_string(n.undated) + " blobs had no readable Last-Modified and were skipped");
    if (!n.when) {
      ctx_.finding(Severity::critical, "No blob under the prefix",
                   "no blob in container " + p_.container + " of " + a_.endpoint.account +
                       " has a name starting with " + prefix_shown +
                       (n.complete ? "" : " in the pages examined"),
                   "The pipeline that should write under this prefix has not run, writes "
                   "elsewhere, or its output was deleted: check the ingestion jobs and the "
                   "prefix. The runbook's Data Lake RPO of " +
                       rpo + " is not met until data lands.");
      raise(Status::critical);
      summary_ += "; no blob under " + prefix_shown;
      return;
    }
    const auto age =
        std::chrono::duration_cast<std::chrono::milliseconds>(SystemClock::now() - *n.when);
    const auto ranges = azure::age_ranges(scan.max_age);
    ctx_.metric("newest_blob_age_s", static_cast<double>(age.count()) / 1000.0, "s",
                Thresholds{ranges.warning, ranges.critical});
    ctx_.attribute("newest_blob", shown_name(n.name));
    ctx_.attribute("newest_blob_time", azure::iso8601_utc(*n.when));
    const auto shown_age = human_duration(std::max(age, std::chrono::milliseconds(0)));
    summary_ +=
        "; newest blob under " + prefix_shown + " is " + shown_age + " old (max " + rpo + ")";
    const auto lag = azure::judge_age(age, scan.max_age);
    if (lag == azure::Lag::within) return;
    const bool missed = lag == azure::Lag::missed;
    const Severity severity = missed ? Severity::critical : Severity::warning;
    ctx_.finding(severity,
                 missed ? "Data Lake RPO missed: newest blob older than max_age"
                        : "Data Lake RPO at risk: newest blob older than 75 % of max_age",
                 "the newest blob under " + prefix_shown + " of " + p_.container + " is " +
                     shown_name(n.name) + ", last modified " + azure::iso8601_utc(*n.when) + ", " +
                     shown_age + " ago; max_age is " + rpo,
                 std::string(kStaleData) + " Data written since " + azure::iso8601_utc(*n.when) +
                     " is missing.");
    raise(severity == Severity::critical ? Status::critical : Status::warning);
  }

  // Put, get and delete a canary blob; the summary text, or nullopt when a
  // step failed (already reported).
  std::optional<std::string> write_probe() {
    const std::string name = canary_name();
    const std::string path = container_path() + "/" + name;
    const std::string content =
        "triage write probe " + name + " " + azure::rfc1123(SystemClock::now()) + "\n";
    ctx_.attribute("canary_blob", name);

    auto put = send(
        "Put Blob",
        request("PUT", path, {},
                {{"x-ms-blob-type", "BlockBlob"}, {"Content-Type", "application/octet-stream"}},
                content),
        "/" + name);
    if (!put) {
      // A put that failed late may still have been stored: try to remove it.
      if (ctx_.remaining().count() > 0) {
        remove(name, path, /*after_failure=*/true);
      } else {
        ctx_.finding(Severity::warning, "The canary blob may be left behind",
                     "The check's deadline passed during Put Blob of " + p_.container + "/" + name +
                         ", so it was not deleted.",
                     "Delete it by hand if it exists (az storage blob delete); raise the "
                     "check's timeout.");
      }
      return std::nullopt;
    }
    ctx_.metric("put_ms", put->elapsed_ms, "ms", kLatencyDefaults);

    auto get = send("Get Blob", request("GET", path, {}, {}), "/" + name);
    bool ok = get.has_value();
    if (get) {
      ctx_.metric("get_ms", get->elapsed_ms, "ms", kLatencyDefaults);
      if (get->body != content) {
        ok = false;
        ctx_.finding(Severity::critical, "The canary blob read back differs from what was written",
                     "Get Blob of " + name + " returned " + std::to_string(get->body.size()) +
                         " bytes that differ from the " + std::to_string(content.size()) +
                         " bytes put.",
                     "A proxy or cache in the path rewrites responses, or the storage returned "
                     "stale data: check proxies between this host and the account.");
        ctx_.status(Status::critical, "write probe: the canary blob read back differs");
      }
    }
    const auto deleted = remove(name, path, /*after_failure=*/!ok);
    if (!ok || !deleted) return std::nullopt;
    return "write probe put " + format_ms(put->elapsed_ms) + ", get " + format_ms(get->elapsed_ms) +
           ", delete " + format_ms(*deleted);
  }

  // Deletes the canary; its duration, or nullopt. After an earlier failure
  // (already reported) a failed delete is a warning, and a 404 after a failed
  // put only means nothing was stored.
  std::optional<double> remove(const std::string& name, const std::string& path,
                               bool after_failure) {
    auto r = azure::perform_with_retry(request("DELETE", path, {}, {}), a_.transport, ctx_);
    if (r.curl == CURLE_OK && r.status >= 200 && r.status < 300) {
      ctx_.metric("delete_ms", r.elapsed_ms, "ms");
      return r.elapsed_ms;
    }
    if (after_failure && r.curl == CURLE_OK && r.status == 404) return std::nullopt;
    const std::string outcome =
        r.curl != CURLE_OK ? r.curl_error : "HTTP " + std::to_string(r.status);
    ctx_.finding(after_failure ? Severity::warning : Severity::critical,
                 "The canary blob could not be deleted",
                 "Delete Blob of " + p_.container + "/" + name + " failed: " + outcome + ".",
                 "Delete it by hand (az storage blob delete), and give the credential the d "
                 "(delete) permission or the Storage Blob Data Contributor role.");
    if (!after_failure) {
      if (!r.request_id.empty()) ctx_.attribute("request_id", r.request_id);
      ctx_.status(Status::critical, "write probe: Delete Blob failed");
    }
    return std::nullopt;
  }

  Context& ctx_;
  const Params& p_;
  const azure::Account& a_;
  Status status_ = Status::ok;
  std::string summary_;
  std::string sas_note_;
};

}  // namespace

void BlobCheck::run(Context& ctx) {
  Params p = read_params(ctx);
  if (!azure::authorize(ctx, p.account)) return;
  if (p.account.endpoint.rewritten_from_dfs)
    ctx.log(LogLevel::info, "target is a .dfs. (ADLS Gen2) host: using its .blob. endpoint");
  Run(ctx, p)();
}

}  // namespace triage::storage
