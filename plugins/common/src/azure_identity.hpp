// Microsoft Entra ID (Azure AD) access tokens for checks of Azure control
// planes (Resource Manager, Databricks, Storage): the OAuth 2.0 client
// credentials grant (tenant, client id, client secret) and managed identity
// (an App Service/Functions IDENTITY_ENDPOINT with its IDENTITY_HEADER, or
// the VM's Instance Metadata Service). Tokens are cached in the process until
// 5 minutes before they expire (a plugin host lives for one run) and are
// never logged, reported or put in a URL. See
// plugins/cluster/docs/azure_credentials.md for the params.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <triage/plugin.hpp>

#include "rest_http.hpp"

namespace triage::azure_identity {

// The Instance Metadata Service's token endpoint, used for managed identity
// when neither identity_endpoint nor IDENTITY_ENDPOINT says otherwise.
inline constexpr std::string_view kImdsEndpoint =
    "http://169.254.169.254/metadata/identity/oauth2/token";
inline constexpr std::string_view kDefaultAuthority = "https://login.microsoftonline.com";

// Where a token comes from, as the check's params say (see read_credentials).
struct Credentials {
  enum class Kind { none, client_secret, managed_identity };
  // How a managed identity endpoint is asked (the two documented protocols).
  enum class Protocol {
    imds,        // GET ?api-version=2018-02-01&resource=..., header "Metadata: true"
    app_service  // GET ?api-version=2019-08-01&resource=..., header X-IDENTITY-HEADER
  };
  Kind kind = Kind::none;
  // client_secret: POST {authority}/{tenant_id}/oauth2/v2.0/token
  std::string authority = std::string(kDefaultAuthority);
  std::string tenant_id;
  std::string client_id;      // also: a user-assigned managed identity's client id
  std::string client_secret;  // secret
  // managed_identity: GET {identity_endpoint}?resource=...&api-version=...
  std::string identity_endpoint;
  std::string identity_header;  // secret: sent as X-IDENTITY-HEADER (App Service)
  Protocol protocol = Protocol::imds;
  // Where identity_endpoint came from: "param", "IDENTITY_ENDPOINT" or "IMDS default".
  std::string endpoint_source;
  std::string ca_file;  // PEM CA bundle for the token endpoint (identity_ca_file)
};

// The JSON Schema "properties" members of the credential params, for a
// check's params_schema (without braces, no trailing comma; each entry
// documented): tenant_id, client_id, client_secret (x-triage-secret),
// authority, managed_identity, identity_endpoint, identity_header
// (x-triage-secret), identity_ca_file.
extern const char* const kParamsSchemaProperties;

// The credential params of a check, Kind::none when none is given. Throws
// ParamError for an incomplete or contradictory set (client_secret without
// tenant_id, both a secret and managed_identity...), never quoting a secret.
// With managed_identity and no identity_endpoint, reads the environment
// variables IDENTITY_ENDPOINT and IDENTITY_HEADER of the plugin host.
Credentials read_credentials(const Context& ctx);

// What a token request produced: the token, or why there is none, in words
// an operator can act on (the AADSTS code and its meaning, the endpoint that
// did not answer), never quoting a secret.
struct TokenResult {
  std::optional<std::string> access_token;  // secret
  std::chrono::system_clock::time_point expires_on{};
  bool from_cache = false;
  rest::HttpResponse response;  // of the token request (empty when from the cache)
  std::string endpoint;         // the token URL asked, without its query
  bool unreachable = false;     // no HTTP answer (refused, timed out, TLS)
  std::string error_code;       // e.g. "invalid_client" / "AADSTS7000215"
  std::string title;            // a finding title when there is no token
  std::string detail;
  std::string remediation;
};

// An access token for `resource` (e.g. "https://management.azure.com/"; for
// the v2.0 endpoint its scope is resource + ".default"), from the cache or
// fetched within the check's deadline (429/503 with Retry-After honoured).
TokenResult get_token(const Credentials& credentials, std::string_view resource,
                      const Context& ctx);

// get_token, reported on ctx the same way by every Azure check: the
// attributes auth ("service principal CLIENT_ID" or "managed identity
// (SOURCE)"), token_from_cache and token_error; without a token a critical
// finding and status (or, when cancelled, an error). The token, or nullopt
// when the check must stop. Does nothing for Kind::none (returns nullopt).
std::optional<std::string> authenticate(Context& ctx, const Credentials& credentials,
                                        std::string_view resource);

// Forgets every cached token (for tests; a plugin host never needs it).
void clear_token_cache();

}  // namespace triage::azure_identity
