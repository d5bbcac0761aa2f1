// The azure_quota check: an Azure subscription's quotas in one region, read
// from Azure Resource Manager's usage lists of each resource provider asked
// (GET /subscriptions/{sub}/providers/{provider}/locations/{location}/usages:
// Microsoft.Compute api-version 2023-07-01, Microsoft.Network 2023-09-01,
// Microsoft.Storage 2023-01-01), each page followed through nextLink. Every
// item (name.value, e.g. cores, standardDSv3Family, PublicIPAddresses) is
// judged as currentValue / limit; the items near their limit are named
// (runbook: "Quota limit: 80 % of quota reached"). The token comes from
// bearer_token or from Azure AD (plugins/common's azure_identity); it is sent
// only to management_url's host and never reported.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "azure_identity.hpp"
#include "checks.hpp"
#include "http.hpp"

namespace triage::cluster {

namespace {

using nlohmann::json;
namespace identity = azure_identity;

const std::string kSchema = std::string(R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "cluster/azure_quota params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string", "minLength": 1, "maxLength": 256,
      "description": "A label for the report (e.g. prod-westeurope); it is not contacted. Default: none (the attributes name the subscription and location)."
    },
    "subscription": {
      "type": "string", "pattern": "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
      "description": "The subscription ID (a GUID) whose quotas are read."
    },
    "location": {
      "type": "string", "minLength": 2, "maxLength": 64, "pattern": "^[A-Za-z0-9]+$",
      "examples": ["westeurope", "eastus2"],
      "description": "The Azure region, by its programmatic name (az account list-locations --query [].name): quotas are per subscription and region."
    },
    "provider": {
      "oneOf": [
        {"type": "string", "enum": ["Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage"]},
        {"type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": true,
         "items": {"type": "string", "enum": ["Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage"]}}
      ],
      "default": ["Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage"],
      "description": "The resource provider(s) whose usage list is read: Microsoft.Compute (vCPUs in total and per VM family, VMs, scale sets, disks...), Microsoft.Network (public IPs, virtual networks, load balancers, NSGs...), Microsoft.Storage (storage accounts). Default: all three."
    },
    "items": {
      "type": "array", "minItems": 1, "maxItems": 100,
      "items": {"type": "string", "minLength": 1, "maxLength": 128},
      "description": "Only these quota items are judged (their name.value, e.g. cores, standardDSv3Family, PublicIPAddresses, StorageAccounts; case-insensitive), each with a usage_pct metric even when unused. Default: every item."
    },
    "per_item": {
      "type": "integer", "minimum": 0, "maximum": 200, "default": 50,
      "description": "How many items get a usage_pct[ITEM] metric of their own: the N most used (items named in items always get one). usage_pct_max always covers every item."
    },
    "near_pct": {
      "type": "number", "minimum": 1, "maximum": 100, "default": 80,
      "description": "Items at or above this share of their limit are named in findings (the runbook's 80 %). The status comes from the usage_pct thresholds."
    },
    "management_url": {
      "type": "string", "minLength": 9, "maxLength": 2048, "pattern": "^[Hh][Tt][Tt][Pp][Ss]://", "default": "https://management.azure.com",
      "description": "Azure Resource Manager's base URL (https): another cloud's (e.g. https://management.usgovcloudapi.net, https://management.chinacloudapi.cn). The token is sent only to this host; a nextLink elsewhere is not followed."
    },
    "token_resource": {
      "type": "string", "minLength": 9, "maxLength": 2048, "pattern": "^[Hh][Tt][Tt][Pp][Ss]://",
      "description": "The resource (audience) the Azure AD token is asked for (scope: RESOURCE/.default). Default: management_url with a trailing slash (https://management.azure.com/)."
    },
    "ca_file": {
      "type": "string", "minLength": 1,
      "description": "PEM file of the CA certificate(s) to trust for management_url (a TLS-inspecting proxy), instead of the system store. Certificates and host names are always verified."
    },
    "bearer_token": {
      "type": "string", "minLength": 1, "writeOnly": true, "x-triage-secret": true,
      "description": "An Azure Resource Manager access token to use as is (e.g. from az account get-access-token), instead of the Azure AD credentials below. Secret: never reported; it expires (about an hour), so prefer a service principal or managed identity for a schedule."
    },
)json") + identity::kParamsSchemaProperties +
                            R"json(
  },
  "required": ["subscription", "location"],
  "additionalProperties": false
})json";

constexpr const char* kQuotaLimit =
    "Quota limit (runbook: 80 % of quota reached): deployments and scale-outs in this region "
    "fail once the limit is reached. Request an increase now (Azure portal > Quotas > the "
    "provider, or a support request for the item named), or free capacity (deallocate or "
    "delete unused VMs, release unused public IPs, remove unused accounts); for vCPUs, both "
    "the family's and the regional total must have room.";

constexpr MetricDecl kUsagePct =
    metric("usage_pct[*]", "%", "One quota item's currentValue as a share of its limit")
        .warning("80")
        .critical("95")
        .remediation(kQuotaLimit);
constexpr MetricDecl kUsagePctMax =
    metric("usage_pct_max", "%", "The highest usage_pct of any item judged")
        .warning("80")
        .critical("95")
        .remediation(kQuotaLimit);
constexpr MetricDecl kItems = metric(
    "items", "", "Quota items judged (those with a limit above 0, of the items param if given)");
constexpr MetricDecl kNear =
    metric("items_near_limit", "", "Items at or above near_pct of their limit");
constexpr MetricDecl kApiMs =
    metric("api_ms", "ms", "Round trip of the slowest Resource Manager request");

constexpr MetricDecl kMetrics[] = {kUsagePct, kUsagePctMax, kItems, kNear, kApiMs};

// Pages followed per provider (a real list has one or two), items kept in
// all (Compute lists about 150 in a region), findings naming items.
constexpr int kMaxPages = 10;
constexpr std::size_t kMaxItems = 2000;
constexpr std::size_t kMaxNamed = 20;

struct Provider {
  std::string_view name;
  std::string_view api_version;
  std::string_view short_name;  // prefix of an item name used by two providers
};

constexpr Provider kProviders[] = {
    {"Microsoft.Compute", "2023-07-01", "Compute"},
    {"Microsoft.Network", "2023-09-01", "Network"},
    {"Microsoft.Storage", "2023-01-01", "Storage"},
};

struct Item {
  const Provider* provider = nullptr;
  std::string name;       // name.value
  std::string localized;  // name.localizedValue
  std::string unit;
  double current = 0, limit = 0, pct = 0;
};

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Text from an answer, for a report: one line, at most max bytes.
std::string clip(std::string s, std::size_t max = 300) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (s.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "...";
  }
  return s;
}

std::string number(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", v);
  return buf;
}

// scheme://host[:port] of a URL, lower-cased.
std::string origin(std::string_view url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  return lower(std::string(url.substr(0, slash)));
}

struct ArmError {
  std::string code, message;
};

ArmError arm_error(const HttpResponse& r) {
  ArmError e;
  try {
    const json body = json::parse(r.body);
    if (body.is_object() && body.contains("error") && body["error"].is_object()) {
      const json& err = body["error"];
      if (err.contains("code") && err["code"].is_string())
        e.code = clip(err["code"].get<std::string>(), 100);
      if (err.contains("message") && err["message"].is_string())
        e.message = clip(err["message"].get<std::string>(), 600);
    }
  } catch (const json::exception&) {
  }
  return e;
}

class Run {
 public:
  explicit Run(Context& ctx) : ctx_(ctx) {}

  void operator()() {
    read_params();
    if (!authenticate()) return;
    for (const Provider* p : providers_) {
      if (!read_usages(*p)) break;
      if (ctx_.cancelled()) return ctx_.error("cancelled");
    }
    if (stopped_) return;
    judge();
  }

 private:
  void read_params() {
    subscription_ = ctx_.required<std::string>("subscription");
    bool guid = subscription_.size() == 36;
    for (std::size_t i = 0; guid && i < subscription_.size(); ++i) {
      const char c = subscription_[i];
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      guid = dash ? c == '-' : std::isxdigit(static_cast<unsigned char>(c)) != 0;
    }
    if (!guid) throw ParamError("param 'subscription' must be a subscription ID (a GUID)");
    location_ = ctx_.required<std::string>("location");
    if (location_.size() < 2 || location_.size() > 64 ||
        !std::all_of(location_.begin(), location_.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }))
      throw ParamError("param 'location' must be a region's programmatic name such as westeurope");

    std::vector<std::string> names;
    if (!ctx_.has("provider")) {
      for (const auto& p : kProviders) names.emplace_back(p.name);
    } else if (ctx_.params().at("provider").is_string()) {
      names.push_back(ctx_.params().at("provider").get<std::string>());
    } else {
      names = ctx_.param<std::vector<std::string>>("provider", {});
      if (names.empty() || names.size() > 3)
        throw ParamError("param 'provider' lists 1 to 3 providers");
    }
    for (const auto& n : names) {
      const auto it = std::find_if(std::begin(kProviders), std::end(kProviders),
                                   [&](const Provider& p) { return p.name == n; });
      if (it == std::end(kProviders))
        throw ParamError("param 'provider': unknown provider '" + clip(n, 64) +
                         "' (Microsoft.Compute, Microsoft.Network or Microsoft.Storage)");
      if (std::find(providers_.begin(), providers_.end(), &*it) == providers_.end())
        providers_.push_back(&*it);
    }

    for (const auto& i : ctx_.param<std::vector<std::string>>("items", {})) {
      if (i.empty() || i.size() > 128)
        throw ParamError("param 'items' holds names of 1 to 128 characters");
      wanted_.insert(lower(i));
    }
    if (wanted_.size() > 100) throw ParamError("param 'items' lists at most 100 names");
    const auto per_item = ctx_.param<std::int64_t>("per_item", 50);
    if (per_item < 0 || per_item > 200) throw ParamError("param 'per_item' must be 0 to 200");
    per_item_ = static_cast<std::size_t>(per_item);
    near_ = ctx_.param<double>("near_pct", 80);
    if (!(near_ >= 1 && near_ <= 100)) throw ParamError("param 'near_pct' must be 1 to 100");

    base_ = read_base_url(ctx_.param<std::string>("management_url", "https://management.azure.com"),
                          "management_url");
    if (lower(base_.substr(0, 8)) != "https://")
      throw ParamError("param 'management_url' must be an https:// URL");
    resource_ = ctx_.param<std::string>("token_resource", base_ + "/");
    if (lower(resource_.substr(0, 8)) != "https://")
      throw ParamError("param 'token_resource' must be an https:// URL");

    auth_.ca_file = ctx_.param<std::string>("ca_file", "");
    auth_.bearer_token = ctx_.param<std::string>("bearer_token", "");
    credentials_ = identity::read_credentials(ctx_);
    const bool has_credentials = credentials_.kind != identity::Credentials::Kind::none;
    if (!auth_.bearer_token.empty() && has_credentials)
      throw ParamError("give bearer_token or Azure AD credentials, not both");
    if (auth_.bearer_token.empty() && !has_credentials)
      throw ParamError(
          "no credentials: give a service principal (tenant_id, client_id, client_secret), "
          "managed_identity: true, or bearer_token");

    if (ctx_.has("target")) ctx_.attribute("label", clip(ctx_.target(), 256));
    ctx_.attribute("subscription", subscription_);
    ctx_.attribute("location", location_);
    std::string list;
    for (const Provider* p : providers_) list += (list.empty() ? "" : ", ") + std::string(p->name);
    ctx_.attribute("providers", list);
    ctx_.attribute("management_url", base_);
  }

  bool authenticate() {
    using Kind = identity::Credentials::Kind;
    if (credentials_.kind == Kind::none) {
      ctx_.attribute("auth", "bearer_token");
      return true;
    }
    auto token = identity::authenticate(ctx_, credentials_, resource_);
    if (!token) return false;
    auth_.bearer_token = std::move(*token);
    return true;
  }

  // Reports a failed request; false when the check must stop.
  bool failed(const Provider& p, const HttpResponse& r, const std::string& url) {
    const std::string where = "GET " + url.substr(0, url.find('?'));
    if (r.cancelled && r.curl != CURLE_OPERATION_TIMEDOUT) {
      stop();
      ctx_.error("cancelled while reading " + std::string(p.name) + " usages");
      return false;
    }
    if (r.curl != CURLE_OK) {
      const bool timed_out = r.curl == CURLE_OPERATION_TIMEDOUT;
      critical(timed_out ? "Azure Resource Manager did not answer in time"
                         : "Azure Resource Manager is unreachable",
               where + ": " + redact(describe_failure(r), auth_),
               "This machine cannot reach Resource Manager (runbook: Service Down, Connection "
               "Timeout): check DNS, the firewall or proxy on the way to management_url's host "
               "(port 443), and for a TLS error the certificate (ca_file behind an inspecting "
               "proxy); or raise the check's timeout.");
      return false;
    }
    ctx_.attribute("http_status", std::to_string(r.status));
    const ArmError e = arm_error(r);
    if (!e.code.empty()) ctx_.attribute("arm_error", e.code);
    const std::string detail = where + " answered HTTP " + std::to_string(r.status) +
                               (e.code.empty() ? "" : " " + e.code) +
                               (e.message.empty() ? "" : ": " + redact(e.message, auth_));
    const std::string read_action = std::string(p.name) + "/locations/usages/read";
    switch (r.status) {
      case 401:
        critical("Azure Resource Manager rejected the token (" +
                     (e.code.empty() ? std::string("HTTP 401") : e.code) + ")",
                 detail,
                 e.code == "ExpiredAuthenticationToken"
                     ? "The access token has expired: a bearer_token lasts about an hour; give a "
                       "service principal or managed_identity instead, which the check renews."
                     : "The token is not valid for Resource Manager: check that it was issued for "
                       "token_resource (https://management.azure.com/ in the public cloud) by the "
                       "subscription's tenant, and the clock of this machine.");
        return false;
      case 403:
        ctx_.finding(Severity::critical,
                     "Not authorized to read " + std::string(p.name) + " quotas (" +
                         (e.code.empty() ? std::string("HTTP 403") : e.code) + ")",
                     detail,
                     "Give the identity a role with " + read_action +
                         " on the subscription, e.g. Reader: az role assignment create "
                         "--assignee CLIENT_ID --role Reader --scope /subscriptions/" +
                         subscription_ + " (role assignments take up to 10 minutes to apply).");
        status_ = Status::critical;
        failed_.push_back(std::string(p.name) + " (not authorized)");
        return true;  // another provider may be allowed
      case 404:
        critical("Subscription or region not found (" +
                     (e.code.empty() ? std::string("HTTP 404") : e.code) + ")",
                 detail,
                 "Check subscription (az account list -o table) and that the identity's tenant "
                 "holds it, that the subscription is enabled, and location (az account "
                 "list-locations -o table).");
        return false;
      case 409:
        if (e.code == "MissingSubscriptionRegistration") {
          ctx_.finding(Severity::warning,
                       std::string(p.name) + " is not registered in the subscription", detail,
                       "The subscription has no resources of this provider, so no quota is "
                       "used; to read its quotas anyway register it: az provider register "
                       "--namespace " +
                           std::string(p.name) + ", or leave it out of provider.");
          status_ = std::max(status_, Status::warning);
          failed_.push_back(std::string(p.name) + " (not registered)");
          return true;
        }
        break;
      case 429:
        stop();
        ctx_.error("Resource Manager throttled the request (" + where + ", HTTP 429" +
                   (r.header("retry-after").empty()
                        ? std::string()
                        : ", Retry-After " + std::string(r.header("retry-after")) + " s") +
                   ") longer than the check's time allows: see the x-ms-ratelimit-remaining "
                   "headers, run the check less often or raise its timeout");
        return false;
      default:
        break;
    }
    if (r.status >= 500) {
      critical("Azure Resource Manager unavailable (HTTP " + std::to_string(r.status) + ")", detail,
               "Resource Manager could not answer now: check https://status.azure.com and the "
               "subscription's Service Health, and retry later.");
      return false;
    }
    stop();
    ctx_.error(detail);
    return false;
  }

  void critical(const std::string& title, const std::string& detail, const std::string& fix) {
    stop();
    ctx_.finding(Severity::critical, title, detail, fix);
    ctx_.status(Status::critical, title);
  }

  void stop() { stopped_ = true; }

  // Reads one provider's usage list, every page; false when the check must stop.
  bool read_usages(const Provider& p) {
    std::string url = base_ + "/subscriptions/" + subscription_ + "/providers/" +
                      std::string(p.name) + "/locations/" + location_ +
                      "/usages?api-version=" + std::string(p.api_version);
    const std::string allowed = origin(base_);
    for (int page = 0;; ++page) {
      HttpRequest request;
      request.url = url;
      request.headers = {"Accept: application/json"};
      const HttpResponse r = perform_with_retry(request, auth_, ctx_);
      slowest_ms_ = std::max(slowest_ms_, r.elapsed_ms);
      retries_ += r.retries;
      if (!r.header("x-ms-ratelimit-remaining-subscription-reads").empty())
        ctx_.attribute(
            "ratelimit_remaining_reads",
            clip(std::string(r.header("x-ms-ratelimit-remaining-subscription-reads")), 32));
      if (!r.ok()) return failed(p, r, url);
      json body;
      try {
        body = json::parse(r.body);
      } catch (const json::exception&) {
        body = json();
      }
      if (!body.is_object() || !body.contains("value") || !body["value"].is_array()) {
        stop();
        ctx_.error("GET " + url.substr(0, url.find('?')) +
                   " answered HTTP 200 without a usage list (no JSON object with a value array" +
                   std::string(r.body_truncated ? ", body too large" : "") + ")");
        return false;
      }
      for (const json& u : body["value"]) take(p, u);
      const auto next = body.find("nextLink");
      if (next == body.end() || !next->is_string() || next->get_ref<const std::string&>().empty())
        return true;
      const std::string link = next->get<std::string>();
      if (origin(link) != allowed || link.size() <= allowed.size() || link[allowed.size()] != '/') {
        ctx_.finding(Severity::warning, std::string(p.name) + " usages: nextLink not followed",
                     "nextLink points outside management_url (" + clip(origin(link), 200) +
                         "): the token is sent to management_url's host only, so the items "
                         "after page " +
                         std::to_string(page + 1) + " are not judged",
                     "Check management_url (the cloud's Resource Manager URL).");
        status_ = std::max(status_, Status::warning);
        return true;
      }
      if (page + 1 >= kMaxPages) {
        ctx_.finding(
            Severity::warning,
            std::string(p.name) + " usages: more than " + std::to_string(kMaxPages) + " pages",
            "The usage list went on past " + std::to_string(kMaxPages) +
                " pages; the items after them are not judged",
            "A usage list has one or two pages: check management_url (a proxy "
            "answering for Resource Manager?).");
        status_ = std::max(status_, Status::warning);
        return true;
      }
      url = link;
    }
  }

  // One usage of a list, when it is well formed and has a limit.
  void take(const Provider& p, const json& u) {
    ++listed_;
    if (items_.size() >= kMaxItems || !u.is_object()) return;
    const auto name = u.find("name");
    if (name == u.end() || !name->is_object()) return;
    const auto value = name->find("value");
    if (value == name->end() || !value->is_string() || value->get_ref<const std::string&>().empty())
      return;
    const auto current = u.find("currentValue");
    const auto limit = u.find("limit");
    if (current == u.end() || !current->is_number() || limit == u.end() || !limit->is_number())
      return;
    Item item;
    item.provider = &p;
    item.name = clip(value->get<std::string>(), 100);
    const auto localized = name->find("localizedValue");
    item.localized = localized != name->end() && localized->is_string()
                         ? clip(localized->get<std::string>(), 200)
                         : item.name;
    if (const auto unit = u.find("unit"); unit != u.end() && unit->is_string())
      item.unit = clip(unit->get<std::string>(), 32);
    item.current = current->get<double>();
    item.limit = limit->get<double>();
    if (!std::isfinite(item.current) || !std::isfinite(item.limit)) return;
    if (!wanted_.empty() && wanted_.count(lower(item.name)) == 0 &&
        wanted_.count(lower(item.localized)) == 0)
      return;
    // A limit of 0: the item cannot be used here (a VM family not offered in
    // the region or not enabled for the subscription); below 0: unlimited.
    if (item.limit <= 0) {
      ++skipped_;
      return;
    }
    item.pct = item.current / item.limit * 100.0;
    items_.push_back(std::move(item));
  }

  void judge() {
    std::stable_sort(items_.begin(), items_.end(),
                     [](const Item& a, const Item& b) { return a.pct > b.pct; });
    ctx_.metric(kItems, static_cast<double>(items_.size()));
    ctx_.metric(kApiMs, slowest_ms_);
    if (retries_ > 0) ctx_.attribute("throttled_retries", std::to_string(retries_));
    if (skipped_ > 0) ctx_.attribute("items_without_limit", std::to_string(skipped_));

    // Per-item metrics: the most used, and every item the params name.
    std::set<std::string> emitted;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      const Item& item = items_[i];
      const bool named = !wanted_.empty();
      if (!named && i >= per_item_) break;
      std::string key = item.name;
      if (emitted.count(key) != 0) key = std::string(item.provider->short_name) + "/" + key;
      if (emitted.count(key) != 0) continue;
      emitted.insert(key);
      ctx_.metric(kUsagePct, key, item.pct);
    }

    std::vector<const Item*> near;
    for (const Item& item : items_)
      if (item.pct >= near_) near.push_back(&item);
    ctx_.metric(kNear, static_cast<double>(near.size()));
    for (std::size_t i = 0; i < near.size() && i < kMaxNamed; ++i) {
      const Item& item = *near[i];
      ctx_.finding(Severity::info,
                   "Quota limit: " + item.localized + " at " + pct(item.pct) + " (" +
                       number(item.current) + " of " + number(item.limit) + ") in " + location_,
                   std::string(item.provider->name) + " usage " + item.name + " (" +
                       item.localized + "): " + number(item.current) + " of " + number(item.limit) +
                       (item.unit.empty() ? "" : " " + item.unit) + ", " + pct(item.pct) +
                       " of the limit",
                   kQuotaLimit);
    }
    if (near.size() > kMaxNamed) {
      std::string rest;
      for (std::size_t i = kMaxNamed; i < near.size() && i < kMaxNamed + 50; ++i)
        rest += (rest.empty() ? "" : ", ") + near[i]->name + " " + pct(near[i]->pct);
      ctx_.finding(Severity::info,
                   std::to_string(near.size() - kMaxNamed) + " more item(s) near their limit", rest,
                   kQuotaLimit);
    }

    std::string summary = location_ + ": " + std::to_string(items_.size()) + " quota item(s)";
    if (!items_.empty()) {
      ctx_.metric(kUsagePctMax, items_.front().pct);
      summary += ", highest " + items_.front().localized + " " + pct(items_.front().pct) + " (" +
                 number(items_.front().current) + " of " + number(items_.front().limit) + ")";
      summary += near.empty() ? ", none at or above " + pct(near_)
                              : "; " + std::to_string(near.size()) + " at or above " + pct(near_);
    } else if (listed_ > 0 && !wanted_.empty()) {
      status_ = std::max(status_, Status::warning);
      ctx_.finding(Severity::warning, "None of the items asked for is listed",
                   "The usage lists hold " + std::to_string(listed_) +
                       " item(s), none named in items with a limit above 0",
                   "Check the names in items against the usage list's name.value (az vm "
                   "list-usage -l LOCATION -o json, az network list-usages -l LOCATION -o "
                   "json).");
    }
    if (!failed_.empty()) {
      summary += "; not read: ";
      for (std::size_t i = 0; i < failed_.size(); ++i) summary += (i ? ", " : "") + failed_[i];
    }
    ctx_.status(status_, summary);
  }

  Context& ctx_;
  std::string subscription_, location_, base_, resource_;
  std::vector<const Provider*> providers_;
  std::set<std::string> wanted_;
  std::size_t per_item_ = 50;
  double near_ = 80;
  HttpAuth auth_;
  identity::Credentials credentials_;
  std::vector<Item> items_;
  std::size_t listed_ = 0, skipped_ = 0;
  std::vector<std::string> failed_;
  Status status_ = Status::ok;
  bool stopped_ = false;
  double slowest_ms_ = 0;
  int retries_ = 0;
};

}  // namespace

const char* const AzureQuotaCheck::params_schema = kSchema.c_str();
const Metrics AzureQuotaCheck::metrics{kMetrics};

void AzureQuotaCheck::run(Context& ctx) {
  Run{ctx}();
}

}  // namespace triage::cluster
