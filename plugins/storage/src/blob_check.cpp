// The blob check: an Azure Blob Storage / ADLS Gen2 container over the Blob
// REST API. One List Blobs request proves the endpoint answers, the
// credential works and the container exists, and times the listing; with
// write_probe a small canary blob is put, read back and always deleted.
//
// The account key, SAS token and bearer token are secrets: they go into
// request headers or the request URL only, never into a summary, finding,
// attribute or log. Reported URLs are the endpoint and container, never a query.
#include <openssl/rand.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "azure_endpoint.hpp"
#include "azure_errors.hpp"
#include "azure_http.hpp"
#include "azure_sas.hpp"
#include "azure_signing.hpp"
#include "checks.hpp"

namespace triage::storage {

const char* const BlobCheck::params_schema = R"({
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
      "type": "string", "enum": ["shared_key", "sas", "bearer", "anonymous"],
      "description": "How to authorize: shared_key (account_key, signed with HMAC-SHA256), sas (sas_token), bearer (bearer_token, Microsoft Entra ID, https only) or anonymous (public container). Default: the one whose secret is given, else anonymous."
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
    "ca_file": {
      "type": "string", "minLength": 1,
      "description": "PEM file of CA certificates to trust instead of the system store (a private endpoint or TLS-inspecting proxy). Certificate verification is always on."
    }
  },
  "required": ["target", "container"],
  "additionalProperties": false
})";

namespace {
// The warning level is the runbook's API p99 target (< 500 ms).
constexpr const char* kSlowStorage =
    "Storage requests are slow: check the network path to the account (same region? private "
    "endpoint?), the account's throttling metrics (Azure Monitor: SuccessE2ELatency against "
    "SuccessServerLatency) and its request rate against the account's limits.";
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
};
}  // namespace

const Metrics BlobCheck::metrics{kMetrics};

namespace {

using azure::Auth;
using SystemClock = std::chrono::system_clock;

// The REST version the check speaks; Azure and Azurite 3.37 both accept it.
constexpr std::string_view kApiVersion = "2021-08-06";
constexpr Thresholds kLatencyDefaults{"500", "2000"};  // ms, per the runbook's API p99

struct Params {
  azure::Endpoint endpoint;
  std::string container;
  Auth auth = Auth::anonymous;
  std::vector<unsigned char> key;  // decoded account key
  std::optional<azure::SasInfo> sas;
  std::string bearer;
  bool write_probe = false;
  int max_results = 5;
  azure::TransportOptions transport;
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
  static const std::set<std::string> known{
      "target",    "container",    "account",     "auth",        "account_key",
      "sas_token", "bearer_token", "write_probe", "max_results", "ca_file"};
  if (!ctx.params().is_object()) throw ParamError("params must be a JSON object");
  for (const auto& item : ctx.params().items())
    if (known.count(item.key()) == 0) throw ParamError("unknown param '" + item.key() + "'");

  Params p;
  p.endpoint = azure::parse_endpoint(ctx.target(), ctx.param<std::string>("account", ""));
  p.container = ctx.required<std::string>("container");
  if (!valid_container(p.container))
    throw ParamError("param 'container': '" + p.container +
                     "' is not a container name (3-63 lowercase letters, digits and single "
                     "hyphens, starting and ending with a letter or digit)");

  const bool has_key = ctx.has("account_key"), has_sas = ctx.has("sas_token"),
             has_bearer = ctx.has("bearer_token");
  std::string auth = ctx.param<std::string>("auth", "");
  if (auth.empty()) {
    if (has_key + has_sas + has_bearer > 1)
      throw ParamError(
          "more than one of account_key, sas_token and bearer_token is given: set 'auth' to "
          "say which to use");
    auth = has_key ? "shared_key" : has_sas ? "sas" : has_bearer ? "bearer" : "anonymous";
  }
  // Secret values are never quoted in these messages.
  if (auth == "shared_key") {
    p.auth = Auth::shared_key;
    if (!has_key) throw ParamError("auth 'shared_key' needs param 'account_key'");
    auto key = azure::base64_decode(ctx.required<std::string>("account_key"));
    if (!key || key->empty())
      throw ParamError("param 'account_key' is not base64 (copy key1 or key2 of the account)");
    p.key = std::move(*key);
  } else if (auth == "sas") {
    p.auth = Auth::sas;
    if (!has_sas) throw ParamError("auth 'sas' needs param 'sas_token'");
    try {
      p.sas = azure::parse_sas(ctx.required<std::string>("sas_token"));
    } catch (const std::invalid_argument& e) {
      throw ParamError(std::string("param 'sas_token': ") + e.what());
    }
  } else if (auth == "bearer") {
    p.auth = Auth::bearer;
    if (!has_bearer) throw ParamError("auth 'bearer' needs param 'bearer_token'");
    p.bearer = ctx.required<std::string>("bearer_token");
    if (p.bearer.empty() ||
        p.bearer.find_first_of(std::string_view("\r\n\0 ", 4)) != std::string::npos)
      throw ParamError("param 'bearer_token' is empty or contains a space or line break");
    if (!p.endpoint.https)
      throw ParamError("auth 'bearer' sends the token only over https: use an https:// target");
  } else if (auth == "anonymous") {
    p.auth = Auth::anonymous;
  } else {
    throw ParamError("param 'auth' must be one of shared_key, sas, bearer, anonymous");
  }

  p.write_probe = ctx.param<bool>("write_probe", false);
  p.max_results = ctx.param<int>("max_results", 5);
  if (p.max_results < 1 || p.max_results > 5000)
    throw ParamError("param 'max_results' must be between 1 and 5000");
  if (ctx.has("ca_file")) {
    p.transport.ca_file = ctx.required<std::string>("ca_file");
    if (FILE* f = std::fopen(p.transport.ca_file->c_str(), "r")) {
      std::fclose(f);
    } else {
      throw ParamError("param 'ca_file': cannot read " + *p.transport.ca_file);
    }
  }
  return p;
}

// Builds one authorized request for `path` (under the endpoint) and its query.
class Requests {
 public:
  explicit Requests(const Params& p) : p_(p) {}

  azure::HttpRequest make(std::string method, const std::string& path,
                          std::vector<azure::Header> query, std::vector<azure::Header> headers,
                          std::optional<std::string> body = {}) const {
    headers.emplace_back("x-ms-date", azure::rfc1123(SystemClock::now()));
    headers.emplace_back("x-ms-version", std::string(kApiVersion));
    if (body) headers.emplace_back("Content-Length", std::to_string(body->size()));
    azure::HttpRequest r;
    r.method = std::move(method);
    r.url = p_.endpoint.origin + p_.endpoint.base_path + path +
            azure::query_string(query, p_.sas ? std::string_view(p_.sas->token) : "");
    if (p_.auth == Auth::shared_key) {
      const std::string full_path = p_.endpoint.base_path + path;
      const azure::SignedParts parts{r.method, p_.endpoint.account, full_path, query, headers};
      headers.emplace_back("Authorization",
                           azure::shared_key_authorization(p_.endpoint.account, p_.key, parts));
    } else if (p_.auth == Auth::bearer) {
      headers.emplace_back("Authorization", "Bearer " + p_.bearer);
    }
    for (const auto& [n, v] : headers) r.headers.push_back(n + ": " + v);
    r.headers.emplace_back("Expect:");  // no 100-continue round trip for a tiny body
    r.body = std::move(body);
    return r;
  }

 private:
  const Params& p_;
};

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

class Run {
 public:
  Run(Context& ctx, const Params& p) : ctx_(ctx), p_(p), requests_(p) {}

  void operator()() {
    ctx_.attribute("account", p_.endpoint.account);
    ctx_.attribute("container", p_.container);
    ctx_.attribute("auth", std::string(azure::auth_name(p_.auth)));
    ctx_.attribute("endpoint", p_.endpoint.shown());
    ctx_.attribute("api_version", std::string(kApiVersion));
    if (p_.sas && !p_.sas->expiry_text.empty())
      ctx_.attribute("sas_expiry", p_.sas->expiry_text);  // a date, not a secret

    // ---- List Blobs: endpoint, auth, container, latency ----
    auto list = send("List Blobs", requests_.make("GET", container_path(),
                                                  {{"restype", "container"},
                                                   {"comp", "list"},
                                                   {"maxresults", std::to_string(p_.max_results)}},
                                                  {}));
    if (!list) return;
    ctx_.metric("list_ms", list->elapsed_ms, "ms", kLatencyDefaults);
    const int listed = count_blobs(list->body);
    ctx_.attribute("blobs_listed", std::to_string(listed));
    std::string summary =
        "container '" + p_.container + "' of " + p_.endpoint.account + " listed in " +
        format_ms(list->elapsed_ms) + " (" + std::string(azure::auth_name(p_.auth)) + " auth, " +
        std::to_string(listed) + (listed == 1 ? " blob" : " blobs") + " in the first page)";
    if (!p_.write_probe) {
      ctx_.status(Status::ok, summary);
      return;
    }
    if (auto probe = write_probe()) ctx_.status(Status::ok, summary + "; " + *probe);
  }

 private:
  std::string container_path() const { return "/" + p_.container; }

  // Sends a request; on any failure reports it (finding, status, attributes)
  // and returns nullopt.
  std::optional<azure::HttpResponse> send(std::string_view operation,
                                          const azure::HttpRequest& request,
                                          std::string_view where_suffix = {}) {
    auto r = azure::perform(request, p_.transport, ctx_);
    const std::string where = p_.endpoint.shown() + container_path() + std::string(where_suffix);
    if (r.cancelled) {
      timed_out(operation, where);
      return std::nullopt;
    }
    if (r.curl != CURLE_OK) {
      const auto d = azure::diagnose_transport(r.curl, r.curl_error, where);
      ctx_.finding(d.severity, d.title, d.detail, d.remediation);
      ctx_.status(Status::critical, std::string(operation) + " failed: " + d.title);
      return std::nullopt;
    }
    if (r.status >= 200 && r.status < 300) return r;
    const auto body = azure::parse_error_xml(r.body);
    const std::string code = !r.error_code.empty() ? r.error_code : body.code;
    azure::HttpFailure f;
    f.operation = operation;
    f.where = where;
    f.status = r.status;
    f.code = code;
    f.message = body.message;
    f.auth = p_.auth;
    if (p_.sas) {
      f.sas_expiry_text = p_.sas->expiry_text;
      f.sas_expiry = p_.sas->expiry;
    }
    f.now = SystemClock::now();
    const auto d = azure::diagnose_http(f);
    ctx_.finding(d.severity, d.title, d.detail, d.remediation);
    ctx_.attribute("http_status", std::to_string(r.status));
    if (!code.empty()) ctx_.attribute("error_code", code);
    // Azure support finds the failed request by this id.
    if (!r.request_id.empty()) ctx_.attribute("request_id", r.request_id);
    ctx_.status(d.severity == Severity::critical ? Status::critical : Status::warning,
                std::string(operation) + " failed: " + d.title);
    return std::nullopt;
  }

  void timed_out(std::string_view operation, const std::string& where) {
    if (ctx_.remaining().count() > 0) {
      ctx_.error("cancelled during " + std::string(operation));
      return;
    }
    ctx_.finding(
        Severity::critical, "The storage endpoint did not answer in time",
        std::string(operation) + " on " + where + " was still running at the check's deadline.",
        "The endpoint is unreachable or very slow: check routing and firewalls, "
        "proxies and Azure Service Health, or raise the check's timeout.");
    ctx_.status(Status::critical, std::string(operation) + " timed out");
  }

  // Put, get and delete a canary blob; the summary text, or nullopt when a
  // step failed (already reported).
  std::optional<std::string> write_probe() {
    const std::string name = canary_name();
    const std::string path = container_path() + "/" + name;
    const std::string content =
        "triage write probe " + name + " " + azure::rfc1123(SystemClock::now()) + "\n";
    ctx_.attribute("canary_blob", name);

    auto put = send("Put Blob",
                    requests_.make("PUT", path, {},
                                   {{"x-ms-blob-type", "BlockBlob"},
                                    {"Content-Type", "application/octet-stream"}},
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

    auto get = send("Get Blob", requests_.make("GET", path, {}, {}), "/" + name);
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
    auto r = azure::perform(requests_.make("DELETE", path, {}, {}), p_.transport, ctx_);
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
  Requests requests_;
};

}  // namespace

void BlobCheck::run(Context& ctx) {
  const Params p = read_params(ctx);
  if (p.endpoint.rewritten_from_dfs)
    ctx.log(LogLevel::info, "target is a .dfs. (ADLS Gen2) host: using its .blob. endpoint");
  Run(ctx, p)();
}

}  // namespace triage::storage
