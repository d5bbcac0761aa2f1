// Microsoft Entra ID tokens: the client credentials grant on the v2.0 token
// endpoint and the managed identity endpoints (IMDS, App Service), with a
// process-wide cache and errors turned into findings an operator can act on.
//
// Protocols, as Microsoft documents them:
// - client credentials: POST {authority}/{tenant}/oauth2/v2.0/token, form body
//   grant_type=client_credentials&client_id=..&client_secret=..&scope=RESOURCE/.default;
//   answer {"token_type":"Bearer","expires_in":3599,"access_token":"..."}; errors
//   {"error":"invalid_client","error_description":"AADSTS7000215: ...","error_codes":[7000215]}
//   (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
// - IMDS: GET http://169.254.169.254/metadata/identity/oauth2/token
//   ?api-version=2018-02-01&resource=RESOURCE[&client_id=..] with "Metadata: true";
//   answer with expires_in/expires_on as strings of seconds
//   (learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token).
// - App Service/Functions: GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=..
//   [&client_id=..] with "X-IDENTITY-HEADER: $IDENTITY_HEADER"; answer with
//   expires_on in epoch seconds (learn.microsoft.com/azure/app-service/overview-managed-identity).
#include "azure_identity.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include <nlohmann/json.hpp>

namespace triage::azure_identity {

const char* const kParamsSchemaProperties = R"json(
    "tenant_id": {
      "type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[A-Za-z0-9.-]+$",
      "description": "Microsoft Entra ID tenant of the service principal (the Directory (tenant) ID GUID, or a verified domain such as contoso.onmicrosoft.com), for the client credentials grant; needs client_id and client_secret."
    },
    "client_id": {
      "type": "string", "pattern": "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
      "description": "With client_secret: the app registration's Application (client) ID. With managed_identity: the client ID of a user-assigned identity (default: the system-assigned identity)."
    },
    "client_secret": {
      "type": "string", "minLength": 1, "maxLength": 1024, "writeOnly": true, "x-triage-secret": true,
      "description": "The app registration's client secret value (not its Secret ID); needs tenant_id and client_id. Secret: sent only in the body of the token request, never reported; give it as ${env:NAME} or ${file:PATH}."
    },
    "authority": {
      "type": "string", "minLength": 9, "maxLength": 2048, "pattern": "^[Hh][Tt][Tt][Pp][Ss]://", "default": "https://login.microsoftonline.com",
      "description": "The Entra ID authority (https) the token is asked of: POST {authority}/{tenant_id}/oauth2/v2.0/token. Another cloud's login host (e.g. https://login.microsoftonline.us, https://login.chinacloudapi.cn)."
    },
    "managed_identity": {
      "type": "boolean", "default": false,
      "description": "Take the token from the managed identity of the machine or app the plugin host runs on, instead of a client secret: identity_endpoint, else the IDENTITY_ENDPOINT environment variable (App Service, Functions), else the VM's Instance Metadata Service (http://169.254.169.254/metadata/identity/oauth2/token)."
    },
    "identity_endpoint": {
      "type": "string", "minLength": 8, "maxLength": 2048, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
      "description": "With managed_identity: the managed identity token endpoint to ask, instead of IDENTITY_ENDPOINT or IMDS. Asked with App Service's protocol (api-version 2019-08-01, X-IDENTITY-HEADER) when identity_header is given, else with IMDS' (api-version 2018-02-01, Metadata: true)."
    },
    "identity_header": {
      "type": "string", "minLength": 1, "maxLength": 1024, "writeOnly": true, "x-triage-secret": true,
      "description": "With managed_identity and identity_endpoint: the value of the X-IDENTITY-HEADER header (App Service's IDENTITY_HEADER). Secret: never reported. Default: the IDENTITY_HEADER environment variable when the endpoint comes from IDENTITY_ENDPOINT."
    },
    "identity_ca_file": {
      "type": "string", "minLength": 1,
      "description": "PEM file of the CA certificate(s) to trust for an https token endpoint (authority or identity_endpoint), instead of the system store; certificates and host names are always verified."
    })json";

namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;

// A token is used until this long before it expires.
constexpr auto kRefreshMargin = std::chrono::minutes(5);
// Tokens kept at most (one per credentials and resource; a run uses few).
constexpr std::size_t kMaxCached = 32;

struct CachedToken {
  std::string token;
  Clock::time_point expires_on;
};

// The process-wide cache: checks run in parallel in one plugin host.
struct Cache {
  std::mutex mutex;
  std::map<std::string, CachedToken> tokens;
};

Cache& cache() {
  static Cache instance;
  return instance;
}

std::string hash_of(const std::string& secret) {
  if (secret.empty()) return "-";
  char buf[24];
  std::snprintf(buf, sizeof buf, "%zx", std::hash<std::string>{}(secret));
  return buf;
}

// The cache key: what makes a token different, with secrets hashed.
std::string cache_key(const Credentials& c, std::string_view resource) {
  std::string key = c.kind == Credentials::Kind::client_secret ? "secret|" : "identity|";
  if (c.kind == Credentials::Kind::client_secret)
    key += c.authority + "|" + c.tenant_id + "|" + c.client_id + "|" + hash_of(c.client_secret);
  else
    key += c.identity_endpoint + "|" + c.client_id + "|" + hash_of(c.identity_header);
  key += "|";
  key += resource;
  return key;
}

bool is_guid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// An endpoint URL: http(s), no credentials, query, fragment or control
// characters; kept as given (App Service's ends in a slash that matters).
std::string read_endpoint(const std::string& url, const std::string& what, bool https_only) {
  rest::read_base_url(url, what);  // validates; throws ParamError naming `what`
  if (https_only && lower(url.substr(0, 8)) != "https://")
    throw ParamError("param '" + what + "' must be an https:// URL");
  return url;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// Text from an untrusted answer, for a finding: one line, at most max bytes,
// every secret of the credentials replaced.
std::string sanitize(std::string text, const Credentials& c, std::size_t max = 300) {
  for (const std::string* s : {&c.client_secret, &c.identity_header}) {
    if (s->size() < 3) continue;
    for (auto at = text.find(*s); at != std::string::npos; at = text.find(*s, at + 3))
      text.replace(at, s->size(), "***");
  }
  const auto eol = text.find_first_of("\r\n");
  if (eol != std::string::npos) text.resize(eol);
  for (char& ch : text)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
  if (text.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

// Seconds as a JSON number or a string of digits (IMDS writes "3599").
std::optional<long long> seconds_field(const json& body, const char* key) {
  const auto it = body.find(key);
  if (it == body.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<long long>();
  if (it->is_number_float()) return static_cast<long long>(it->get<double>());
  if (!it->is_string()) return std::nullopt;
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(s);
}

struct AadError {
  const char* title;
  const char* remediation;
};

// The AADSTS codes a misconfigured service principal meets, in words an
// operator can act on (learn.microsoft.com/entra/identity-platform/reference-error-codes).
const AadError* known_aadsts(long code) {
  static const std::map<long, AadError> kKnown = {
      {7000215,
       {"Azure AD rejected the client secret",
        "client_secret is not a current secret of the app: copy the secret's Value (not its "
        "Secret ID) from Entra ID > App registrations > the app > Certificates & secrets, or "
        "create a new secret there (az ad app credential reset --id CLIENT_ID --append), and "
        "update the secret the config references."}},
      {7000222,
       {"The client secret has expired",
        "Create a new client secret for the app (Entra ID > App registrations > the app > "
        "Certificates & secrets > New client secret, or az ad app credential reset --id "
        "CLIENT_ID --append), put it where the config's client_secret references it, delete "
        "the expired one, and note the new expiry date for the next rotation."}},
      {90002,
       {"Tenant not found",
        "tenant_id names no Entra ID tenant in this cloud: use the Directory (tenant) ID from "
        "Entra ID > Overview (az account show --query tenantId), and the authority of the "
        "tenant's cloud (e.g. https://login.microsoftonline.us for Azure Government)."}},
      {900023,
       {"Invalid tenant identifier",
        "tenant_id is neither a tenant GUID nor a verified domain of a tenant: use the Directory "
        "(tenant) ID from Entra ID > Overview (az account show --query tenantId)."}},
      {700016,
       {"Application not found in the tenant",
        "client_id names no application in the tenant tenant_id names: use the app "
        "registration's Application (client) ID (az ad sp show --id CLIENT_ID), from the same "
        "tenant; an app registered in another tenant needs a service principal (admin "
        "consent) in this one."}},
      {7000112,
       {"The application is disabled",
        "The app's service principal is disabled: enable it (Entra ID > Enterprise "
        "applications > the app > Properties > Enabled for users to sign-in) or use another."}},
      {70011,
       {"The requested scope is not valid",
        "The resource asked for is not a valid scope: check the check's resource URL (e.g. "
        "management_url) names an Azure service of this cloud."}},
      {500011,
       {"The resource is not known in the tenant",
        "The service the token is for has no service principal in this tenant: check the "
        "resource URL (e.g. management_url) and the cloud (authority)."}},
      {53003,
       {"Blocked by a Conditional Access policy",
        "A Conditional Access policy blocks this service principal (e.g. by location): ask the "
        "tenant's administrators to exclude it or to allow this machine's network."}},
  };
  const auto it = kKnown.find(code);
  return it == kKnown.end() ? nullptr : &it->second;
}

// The AADSTS number of an error answer: error_codes[0], else the
// "AADSTS<digits>" that starts error_description.
long aadsts_code(const json& body) {
  if (const auto it = body.find("error_codes");
      it != body.end() && it->is_array() && !it->empty() && it->front().is_number_integer())
    return it->front().get<long>();
  if (const auto it = body.find("error_description"); it != body.end() && it->is_string()) {
    const auto& d = it->get_ref<const std::string&>();
    const auto at = d.find("AADSTS");
    if (at != std::string::npos) return std::strtol(d.c_str() + at + 6, nullptr, 10);
  }
  return 0;
}

std::string text_field(const json& body, const char* key) {
  const auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void explain_unreachable(TokenResult& r, const Credentials& c, const std::string& method) {
  r.unreachable = true;
  const bool aad = c.kind == Credentials::Kind::client_secret;
  const bool timed_out = r.response.curl == CURLE_OPERATION_TIMEDOUT;
  r.error_code = timed_out ? "timeout" : "unreachable";
  r.title = std::string(aad ? "Azure AD token endpoint" : "Managed identity endpoint") +
            (timed_out ? " did not answer in time" : " is unreachable");
  r.detail = method + " " + r.endpoint + ": " + sanitize(rest::describe_failure(r.response), c);
  if (aad)
    r.remediation =
        "This machine cannot reach the Entra ID token endpoint: check DNS, the firewall or "
        "proxy on the way to the authority's host (port 443), that authority names the "
        "tenant's cloud, and for a TLS error its certificate (identity_ca_file behind an "
        "inspecting proxy).";
  else if (c.protocol == Credentials::Protocol::imds)
    r.remediation =
        "The Instance Metadata Service answers only inside an Azure VM or scale set with a "
        "managed identity, and never through a proxy (169.254.169.254 must be in NO_PROXY): "
        "run the check there, give identity_endpoint, or use a service principal (tenant_id, "
        "client_id, client_secret).";
  else
    r.remediation =
        "The managed identity endpoint (App Service/Functions' IDENTITY_ENDPOINT) is local to "
        "the app's sandbox: check that the identity is enabled on the app (Identity blade) and "
        "that IDENTITY_ENDPOINT reaches the plugin host's environment (see "
        "azure_credentials.md).";
}

void explain_refusal(TokenResult& r, const Credentials& c) {
  const long status = r.response.status;
  json body;
  try {
    body = json::parse(r.response.body);
  } catch (const json::exception&) {
    body = json();
  }
  if (!body.is_object()) body = json::object();
  const std::string error = text_field(body, "error");
  std::string description = text_field(body, "error_description");
  if (description.empty()) description = text_field(body, "message");  // App Service
  if (description.empty() && body.contains("error") && body["error"].is_object())
    description = text_field(body["error"], "message");
  const std::string said = description.empty() ? std::string() : ": " + sanitize(description, c);
  const std::string http = "HTTP " + std::to_string(status);

  if (c.kind == Credentials::Kind::client_secret) {
    const long code = aadsts_code(body);
    r.error_code = code != 0 ? "AADSTS" + std::to_string(code) : error;
    r.detail = "POST " + r.endpoint + " answered " + http +
               (error.empty() ? std::string() : " " + error) + said;
    if (const AadError* known = known_aadsts(code)) {
      r.title = std::string(known->title) + " (AADSTS" + std::to_string(code) + ")";
      r.remediation = known->remediation;
    } else if (status == 429 || status >= 500) {
      r.title = "Azure AD token endpoint unavailable (" + http + ")";
      r.remediation =
          "Entra ID could not issue a token now (throttled or a service incident): check "
          "https://status.azure.com and retry later.";
    } else {
      r.title = "Azure AD refused the token request (" +
                (r.error_code.empty() ? http : r.error_code) + ")";
      r.remediation =
          "Check tenant_id, client_id and client_secret against the app registration (Entra "
          "ID > App registrations); look the AADSTS code up at "
          "https://login.microsoftonline.com/error.";
    }
    return;
  }

  r.error_code = error.empty() ? http : error;
  r.detail = "GET " + r.endpoint + " answered " + http +
             (error.empty() ? std::string() : " " + error) + said;
  const std::string challenge = lower(std::string(r.response.header("www-authenticate")));
  if (status == 401 && challenge.find("basic realm") != std::string::npos) {
    r.title = "Managed identity endpoint asks for Azure Arc's key-file challenge";
    r.remediation =
        "Azure Arc's managed identity (a challenge answered from a key file readable by the "
        "himds group) is not supported: use a service principal (tenant_id, client_id, "
        "client_secret) on Arc-enabled servers.";
  } else if (status == 401 || status == 403) {
    r.title = "Managed identity endpoint refused the request (" + http + ")";
    r.remediation =
        c.protocol == Credentials::Protocol::app_service
            ? "The X-IDENTITY-HEADER value is wrong or stale: give identity_header the app's "
              "current IDENTITY_HEADER (it changes when the app restarts), or leave both "
              "identity params out so the environment's are used."
            : "The endpoint wants another protocol: give identity_header for an App "
              "Service/Functions endpoint, or check identity_endpoint.";
  } else if (lower(description).find("identity not found") != std::string::npos ||
             (status == 400 && !c.client_id.empty())) {
    r.title = "Managed identity not found (" + http + ")";
    r.remediation =
        "The machine or app has no such managed identity: enable the system-assigned "
        "identity (az vm identity assign -g RG -n VM), or assign the user-assigned identity "
        "whose client ID client_id gives (az vm identity assign --identities ID), or fix "
        "client_id.";
  } else if (status == 429 || status == 404 || status == 410 || status >= 500) {
    r.title = "Managed identity endpoint unavailable (" + http + ")";
    r.remediation =
        "The endpoint is throttling or updating (IMDS answers 404/410 while it updates, "
        "429 when throttled): it recovers within about 70 s; retry later.";
  } else {
    r.title = "Managed identity endpoint refused the token request (" + http + ")";
    r.remediation =
        "Check managed_identity's settings (client_id of a user-assigned identity, "
        "identity_endpoint) and that the identity is enabled on this machine or app.";
  }
}

void explain_malformed(TokenResult& r, const Credentials& c, const std::string& why) {
  r.error_code = "malformed";
  r.title = c.kind == Credentials::Kind::client_secret
                ? "Azure AD token endpoint answered without a token"
                : "Managed identity endpoint answered without a token";
  r.detail = r.endpoint + " answered HTTP " + std::to_string(r.response.status) + " but " + why;
  r.remediation =
      "Something other than the token endpoint answered (a proxy's or captive portal's page, "
      "a wrong authority or identity_endpoint): check the URL and the proxy settings.";
}

// Reads a 2xx answer: the token and when it expires.
void read_token(TokenResult& r, const Credentials& c) {
  json body;
  try {
    body = json::parse(r.response.body);
  } catch (const json::exception&) {
    return explain_malformed(r, c, "its body is not JSON");
  }
  if (!body.is_object()) return explain_malformed(r, c, "its body is not a JSON object");
  const auto token = body.find("access_token");
  if (token == body.end() || !token->is_string() || token->get_ref<const std::string&>().empty())
    return explain_malformed(r, c, "it holds no access_token");
  const auto now = Clock::now();
  if (const auto in = seconds_field(body, "expires_in"))
    r.expires_on = now + std::chrono::seconds(*in);
  else if (const auto on = seconds_field(body, "expires_on"))
    r.expires_on = Clock::time_point(std::chrono::seconds(*on));
  else
    r.expires_on = now;  // unknown: used for this request only, never cached
  r.access_token = token->get<std::string>();
}

rest::HttpRequest token_request(const Credentials& c, std::string_view resource,
                                std::string& endpoint) {
  rest::HttpRequest request;
  if (c.kind == Credentials::Kind::client_secret) {
    endpoint = c.authority + "/" + rest::url_encode(c.tenant_id) + "/oauth2/v2.0/token";
    std::string scope(resource);
    if (scope.empty() || scope.back() != '/') scope += '/';
    scope += ".default";
    request.method = "POST";
    request.url = endpoint;
    request.headers = {"Content-Type: application/x-www-form-urlencoded",
                       "Accept: application/json"};
    request.body = "grant_type=client_credentials&client_id=" + rest::url_encode(c.client_id) +
                   "&client_secret=" + rest::url_encode(c.client_secret) +
                   "&scope=" + rest::url_encode(scope);
    return request;
  }
  endpoint = c.identity_endpoint;
  const bool app_service = c.protocol == Credentials::Protocol::app_service;
  request.url = endpoint + "?api-version=" + (app_service ? "2019-08-01" : "2018-02-01") +
                "&resource=" + rest::url_encode(resource);
  if (!c.client_id.empty()) request.url += "&client_id=" + rest::url_encode(c.client_id);
  request.headers = {"Accept: application/json"};
  request.headers.push_back(app_service ? "X-IDENTITY-HEADER: " + c.identity_header
                                        : std::string("Metadata: true"));
  return request;
}

}  // namespace

Credentials read_credentials(const Context& ctx) {
  Credentials c;
  const bool managed = ctx.param<bool>("managed_identity", false);
  c.tenant_id = ctx.param<std::string>("tenant_id", "");
  c.client_id = ctx.param<std::string>("client_id", "");
  c.client_secret = ctx.param<std::string>("client_secret", "");
  c.ca_file = ctx.param<std::string>("identity_ca_file", "");
  const std::string endpoint = ctx.param<std::string>("identity_endpoint", "");
  const std::string header = ctx.param<std::string>("identity_header", "");
  const std::string authority = ctx.param<std::string>("authority", "");

  if (!c.client_id.empty() && !is_guid(c.client_id))
    throw ParamError("param 'client_id' must be a GUID (the Application (client) ID)");
  if (managed) {
    if (!c.client_secret.empty() || !c.tenant_id.empty() || !authority.empty())
      throw ParamError(
          "give managed_identity or a service principal (tenant_id, client_id, client_secret, "
          "authority), not both");
    c.kind = Credentials::Kind::managed_identity;
    if (!endpoint.empty()) {
      c.identity_endpoint = read_endpoint(endpoint, "identity_endpoint", false);
      c.identity_header = header;
      c.endpoint_source = "param";
    } else if (!header.empty()) {
      throw ParamError("param 'identity_header' goes with 'identity_endpoint'");
    } else if (const std::string from_env = env("IDENTITY_ENDPOINT"); !from_env.empty()) {
      try {
        c.identity_endpoint = read_endpoint(from_env, "IDENTITY_ENDPOINT", false);
      } catch (const ParamError&) {
        throw ParamError(
            "the environment variable IDENTITY_ENDPOINT is not an http(s) URL without a query");
      }
      c.identity_header = env("IDENTITY_HEADER");
      c.endpoint_source = "IDENTITY_ENDPOINT";
    } else {
      c.identity_endpoint = std::string(kImdsEndpoint);
      c.endpoint_source = "IMDS default";
    }
    c.protocol = c.identity_header.empty() ? Credentials::Protocol::imds
                                           : Credentials::Protocol::app_service;
    return c;
  }
  if (!endpoint.empty() || !header.empty())
    throw ParamError(
        "params 'identity_endpoint' and 'identity_header' need managed_identity: true");
  if (c.client_secret.empty()) {
    if (!c.tenant_id.empty() || !c.client_id.empty() || !authority.empty())
      throw ParamError(
          "a service principal needs tenant_id, client_id and client_secret (or give "
          "managed_identity: true)");
    return c;  // no Azure AD credentials
  }
  if (c.tenant_id.empty() || c.client_id.empty())
    throw ParamError("param 'client_secret' needs 'tenant_id' and 'client_id'");
  for (const char ch : c.tenant_id)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-')
      throw ParamError("param 'tenant_id' must be a tenant GUID or domain name");
  const std::string t = lower(c.tenant_id);
  if (t == "common" || t == "organizations" || t == "consumers")
    throw ParamError(
        "param 'tenant_id' must name one tenant: the client credentials grant does not work "
        "with common, organizations or consumers");
  c.kind = Credentials::Kind::client_secret;
  if (!authority.empty()) {
    c.authority = read_endpoint(authority, "authority", true);
    while (!c.authority.empty() && c.authority.back() == '/') c.authority.pop_back();
  }
  return c;
}

TokenResult get_token(const Credentials& credentials, std::string_view resource,
                      const Context& ctx) {
  TokenResult r;
  if (credentials.kind == Credentials::Kind::none) {
    r.error_code = "no_credentials";
    r.title = "No Azure AD credentials";
    r.detail = "neither a service principal nor managed_identity is configured";
    r.remediation = "Give tenant_id, client_id and client_secret, or managed_identity: true.";
    return r;
  }
  const std::string key = cache_key(credentials, resource);
  {
    std::lock_guard lock(cache().mutex);
    const auto it = cache().tokens.find(key);
    if (it != cache().tokens.end() && Clock::now() + kRefreshMargin < it->second.expires_on) {
      r.access_token = it->second.token;
      r.expires_on = it->second.expires_on;
      r.from_cache = true;
      return r;
    }
  }
  // Fetched without the lock: two checks that miss together both ask, and
  // the later answer replaces the earlier (both are valid tokens).
  const rest::HttpRequest request = token_request(credentials, resource, r.endpoint);
  rest::HttpAuth auth;
  auth.ca_file = credentials.ca_file;
  r.response = rest::perform_with_retry(request, auth, ctx);
  if (r.response.cancelled && r.response.curl != CURLE_OPERATION_TIMEDOUT) {
    r.error_code = "cancelled";
    r.title = "Token request cancelled";
    r.detail = request.method + " " + r.endpoint + ": the check was cancelled or its time ran out";
    return r;
  }
  if (r.response.curl != CURLE_OK) {
    explain_unreachable(r, credentials, request.method);
    return r;
  }
  if (!r.response.ok()) {
    explain_refusal(r, credentials);
    return r;
  }
  read_token(r, credentials);
  if (!r.access_token || Clock::now() + kRefreshMargin >= r.expires_on) return r;

  std::lock_guard lock(cache().mutex);
  auto& tokens = cache().tokens;
  if (tokens.size() >= kMaxCached && tokens.count(key) == 0) {
    for (auto it = tokens.begin(); it != tokens.end();)
      it = it->second.expires_on <= Clock::now() + kRefreshMargin ? tokens.erase(it) : ++it;
    if (tokens.size() >= kMaxCached) {
      auto soonest = tokens.begin();
      for (auto it = tokens.begin(); it != tokens.end(); ++it)
        if (it->second.expires_on < soonest->second.expires_on) soonest = it;
      tokens.erase(soonest);
    }
  }
  tokens[key] = CachedToken{*r.access_token, r.expires_on};
  return r;
}

void clear_token_cache() {
  std::lock_guard lock(cache().mutex);
  cache().tokens.clear();
}

std::optional<std::string> authenticate(Context& ctx, const Credentials& credentials,
                                        std::string_view resource) {
  using Kind = Credentials::Kind;
  if (credentials.kind == Kind::none) return std::nullopt;
  const auto t = get_token(credentials, resource, ctx);
  ctx.attribute("auth", credentials.kind == Kind::client_secret
                            ? "service principal " + credentials.client_id
                            : "managed identity (" + credentials.endpoint_source + ")");
  if (!t.access_token) {
    if (t.error_code == "cancelled") {
      ctx.error("cancelled while asking for a token");
      return std::nullopt;
    }
    if (!t.error_code.empty()) ctx.attribute("token_error", t.error_code);
    ctx.finding(Severity::critical, t.title, t.detail, t.remediation);
    ctx.status(Status::critical, "no Azure AD token: " + t.title);
    return std::nullopt;
  }
  ctx.attribute("token_from_cache", t.from_cache ? "yes" : "no");
  return t.access_token;
}

}  // namespace triage::azure_identity
