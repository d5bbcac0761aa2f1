// A storage account as the Azure checks (blob, geo_replication) reach it:
// its endpoint, the credential that authorizes requests (Shared Key, SAS,
// bearer token or none) and TLS trust, read from the params both checks
// share; authorized Blob REST requests built from it; and the report of a
// request that failed (finding, status, attributes) in the same words for
// both checks. Secrets stay in headers or the request URL, never in reports.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <triage/plugin.hpp>

#include "azure_endpoint.hpp"
#include "azure_errors.hpp"
#include "azure_http.hpp"
#include "azure_identity.hpp"
#include "azure_sas.hpp"
#include "azure_signing.hpp"

namespace triage::storage::azure {

// The REST version the checks speak; Azure and Azurite 3.37 both accept it.
inline constexpr std::string_view kApiVersion = "2021-08-06";

struct Account {
  Endpoint endpoint;  // the primary endpoint (from target)
  Auth auth = Auth::anonymous;
  std::vector<unsigned char> key;  // decoded account key (shared_key)
  std::optional<SasInfo> sas;      // sas
  std::string bearer;              // bearer (with azure_ad: the token, once authorized)
  TransportOptions transport;
  bool azure_ad = false;                    // auth azure_ad: sent as a bearer token
  azure_identity::Credentials credentials;  // azure_ad
};

// The resource (audience) of an Azure AD token for Azure Storage.
inline constexpr std::string_view kStorageResource = "https://storage.azure.com/";

// Throws ParamError naming the first param that is not in `known` (the Azure
// AD credential params are always known), or when the params are not an object.
void reject_unknown_params(const Context& ctx, std::initializer_list<std::string_view> known);

// Reads target, account, auth, account_key, sas_token, bearer_token, the
// Azure AD credential params and ca_file (see docs/blob.md). Throws
// ParamError, never quoting a secret.
Account read_account(const Context& ctx);

// With auth azure_ad: gets the token (azure_identity::authenticate, which
// reports a failure on ctx) and makes the account send it as a bearer token.
// False when the check must stop. Does nothing for other kinds of auth.
bool authorize(Context& ctx, Account& account);

// An authorized request for `path` under `to` (the account's endpoint or its
// secondary) with x-ms-date and x-ms-version, signed or with the SAS or
// bearer token per the account's auth. `max_body` bounds the response kept.
HttpRequest make_request(const Account& account, const Endpoint& to, std::string method,
                         const std::string& path, std::vector<Header> query,
                         std::vector<Header> headers, std::optional<std::string> body = {},
                         std::size_t max_body = 1024 * 1024);

// Reports a response that is not a 2xx: finding from the status and error
// code, status critical or warning, and the http_status, error_code and
// request_id attributes.
void report_http_failure(Context& ctx, const Account& account, std::string_view operation,
                         std::string_view where, const HttpResponse& response);

// Reports a request that got no HTTP answer: cancelled (unknown), past the
// deadline or a transport error (critical, with a finding).
void report_no_answer(Context& ctx, std::string_view operation, std::string_view where,
                      const HttpResponse& response);

// Sends with perform_with_retry; the 2xx response, or nullopt after
// reporting the failure with the functions above.
std::optional<HttpResponse> send(Context& ctx, const Account& account, std::string_view operation,
                                 const HttpRequest& request, std::string_view where);

}  // namespace triage::storage::azure
