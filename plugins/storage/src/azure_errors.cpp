#include "azure_errors.hpp"

#include "azure_time.hpp"

#include <ctime>

#include "azure_xml.hpp"

namespace triage::storage::azure {
namespace {

// Printable, one line, bounded: server text goes into reports verbatim otherwise.
std::string clean(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s) {
    if (c == '\r' || c == '\n') break;
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    if (out.size() >= max) {
      out += "...";
      break;
    }
  }
  return out;
}

std::string server_said(const HttpFailure& f) {
  std::string out = std::string(f.operation) + " on " + std::string(f.where) + " returned HTTP " +
                    std::to_string(f.status);
  if (!f.code.empty()) out += " " + std::string(f.code);
  if (!f.message.empty()) out += ": " + std::string(f.message);
  return out;
}

std::string_view credential_name(Auth auth) {
  switch (auth) {
    case Auth::shared_key:
      return "account key";
    case Auth::sas:
      return "SAS token";
    case Auth::bearer:
      return "bearer token";
    case Auth::anonymous:
      return "anonymous access";
  }
  return "credential";
}

Diagnosis auth_failure(const HttpFailure& f) {
  const std::string said = server_said(f);
  switch (f.auth) {
    case Auth::shared_key:
      return {Severity::critical, "Authentication failed: the account key was rejected", said,
              "The key does not belong to this account (rotated, or copied from another "
              "account): take key1 or key2 from the portal (Storage account > Access keys) or "
              "`az storage account keys list`, and check that the account name is right. A clock "
              "more than 15 minutes off also fails signing: check NTP on this host."};
    case Auth::sas:
      return {Severity::critical, "Authentication failed: the SAS token was rejected", said,
              "The SAS signature does not verify: it was revoked (key rotated or stored access "
              "policy removed), truncated when copied, or signed for another account or "
              "resource. Generate a new SAS for this account and container."};
    case Auth::bearer:
      return {Severity::critical, "Authentication failed: the bearer token was rejected", said,
              "The Microsoft Entra ID token is expired, for another tenant, or not for the "
              "https://storage.azure.com/ audience: fetch a new one (e.g. `az account "
              "get-access-token --resource https://storage.azure.com/`)."};
    case Auth::anonymous:
      break;
  }
  return {Severity::critical, "Access denied: anonymous access is not allowed", said,
          "The container does not allow public (anonymous) read access: give the check an "
          "account key, a SAS token or a bearer token."};
}

}  // namespace

ErrorBody parse_error_xml(std::string_view body) {
  return {clean(xml_text(body, "Code"), 100), clean(xml_text(body, "Message"), 300)};
}

std::string_view auth_name(Auth auth) {
  switch (auth) {
    case Auth::shared_key:
      return "shared_key";
    case Auth::sas:
      return "sas";
    case Auth::bearer:
      return "bearer";
    case Auth::anonymous:
      return "anonymous";
  }
  return "unknown";
}

Diagnosis diagnose_http(const HttpFailure& f) {
  const std::string said = server_said(f);
  const std::string_view code = f.code;

  // An expired SAS is the commonest SAS failure; say so plainly whatever code
  // the service chose (Azure: AuthenticationFailed; Azurite: AuthorizationFailure).
  if (f.auth == Auth::sas && f.sas_expiry && *f.sas_expiry < f.now &&
      (f.status == 403 || f.status == 401))
    return {Severity::critical, "SAS token expired",
            said + (said.ends_with('.') ? "" : ".") + " The token's expiry (se) is " +
                std::string(f.sas_expiry_text) + ", before the current time " + iso8601_utc(f.now) +
                ".",
            "Generate a new SAS with a later expiry (se), and renew it before it lapses: "
            "prefer a user delegation SAS or a stored access policy that can be extended "
            "without redistributing tokens."};

  // Get Blob Service Stats on the secondary of an account without read access
  // to it (LRS, ZRS, GRS or GZRS rather than RA-GRS / RA-GZRS).
  if (code == "InsufficientAccountPermissions" && f.operation == "Get Blob Service Stats")
    return {Severity::critical, "Read access to the secondary region is not enabled", said,
            "Get Blob Service Stats is served only by the secondary endpoint of an account with "
            "read-access geo-redundant storage (RA-GRS or RA-GZRS). Set the account's redundancy "
            "to RA-GRS/RA-GZRS (az storage account update --sku Standard_RAGRS) to check its "
            "replication, or read the account's Geo-replication (Last sync time) in the portal. "
            "Without geo-redundancy the Data Lake's 1 hour RPO relies on other backups."};
  if (code == "InsufficientAccountPermissions")
    return {Severity::critical, "The account does not allow this operation", said,
            "The account refused the operation (InsufficientAccountPermissions): reads or "
            "writes may be disabled on it, or the operation needs a feature the account lacks. "
            "Check the account's configuration in the portal."};
  if (code == "ContainerNotFound" ||
      (f.status == 404 && code == "ResourceNotFound" && f.auth != Auth::anonymous))
    return {Severity::critical, "Container not found", said,
            "Check the container name (lowercase), and that the account is the right one; "
            "create the container or restore it if it was deleted (soft delete keeps deleted "
            "containers for the retention period)."};
  if (f.status == 404 && f.auth == Auth::anonymous)
    return {Severity::critical, "Container not found or not public", said,
            "Azure answers 404 to anonymous requests on a private container: check the "
            "container name, or give the check credentials."};
  if (code == "ContainerBeingDeleted")
    return {Severity::critical, "Container is being deleted", said,
            "Someone deleted this container; wait for the deletion to finish and recreate it, "
            "or restore it from soft delete."};
  if (code == "ServerBusy" || code == "OperationTimedOut" || f.status == 503)
    return {Severity::warning,
            "Storage throttling or overload (" +
                std::string(code.empty() ? "HTTP " + std::to_string(f.status) : std::string(code)) +
                ")",
            said,
            "The account or partition is over its scalability targets: clients should back off "
            "and retry (exponential backoff); check the account's request rate and egress "
            "against the Azure Storage scalability limits in its metrics, spread load over "
            "more partitions or accounts."};
  if (code == "KeyBasedAuthenticationNotPermitted")
    return {Severity::critical, "Shared Key authorization is disabled on this account", said,
            "The account has allowSharedKeyAccess=false: use a bearer token (Microsoft Entra "
            "ID) or a user delegation SAS instead of the account key."};
  if (code == "AuthorizationPermissionMismatch")
    return {Severity::critical,
            "The " + std::string(credential_name(f.auth)) + " lacks permission for " +
                std::string(f.operation),
            said,
            "Listing needs the 'l' (list) permission, the write probe 'r', 'w' (or 'c') and "
            "'d'; for a bearer token assign a data-plane role such as Storage Blob Data "
            "Reader/Contributor (management roles like Owner do not grant data access)."};
  if (code == "AuthorizationResourceTypeMismatch" || code == "AuthorizationServiceMismatch")
    return {Severity::critical, "The SAS does not cover this resource (" + std::string(code) + ")",
            said,
            "An account SAS needs ss to include b (blob) and srt to include c (container) "
            "and o (object); or use a service SAS for this container."};
  if (code == "AuthorizationSourceIPMismatch")
    return {Severity::critical, "The SAS does not allow this host's IP address", said,
            "The SAS has an sip range that excludes the address this host connects from: "
            "widen it or generate a SAS for this host's egress address."};
  if (code == "AuthorizationProtocolMismatch")
    return {Severity::critical, "The SAS requires HTTPS", said,
            "The SAS was generated with spr=https: use an https:// endpoint."};
  if (code == "AccountIsDisabled")
    return {Severity::critical, "The storage account is disabled", said,
            "The subscription or account was disabled (billing, policy): check the account's "
            "state in the portal."};
  if (f.status == 401 || f.status == 403 || code == "AuthenticationFailed" ||
      code == "AuthorizationFailure" || code == "InvalidAuthenticationInfo" ||
      code == "NoAuthenticationInformation") {
    // Azure's AuthorizationFailure ("This request is not authorized to perform
    // this operation") is about network rules or roles; a message about failing
    // to authenticate (Azurite's wording for a bad signature) is a bad credential.
    const bool authn = f.message.find("authenticate") != std::string_view::npos;
    if (code == "AuthorizationFailure" && !authn && f.auth != Auth::anonymous &&
        f.auth != Auth::sas)
      return {Severity::critical, "Access denied (AuthorizationFailure)", said,
              "The credential is valid but this request is not allowed: the account's "
              "firewall (selected networks / private endpoint only) may exclude this host, or "
              "the principal lacks a data-plane role. Check Networking and Access control "
              "(IAM) of the storage account."};
    return auth_failure(f);
  }
  if (code == "UnsupportedHeader" || code == "InvalidHeaderValue" ||
      code == "InvalidQueryParameterValue" || code == "UnsupportedQueryParameter")
    return {Severity::critical, "The service rejected the request (" + std::string(code) + ")",
            said,
            "The endpoint may not be Azure Blob Storage, or it does not support the REST "
            "version the check speaks (x-ms-version): check the target URL (the blob "
            "endpoint, not dfs or web)."};
  if (f.status >= 500)
    return {Severity::critical, "Storage service error (HTTP " + std::to_string(f.status) + ")",
            said,
            "The service failed the request: retry, and check Azure Service Health for the "
            "region; give the x-ms-request-id to Azure support if it persists."};
  return {Severity::critical,
          std::string(f.operation) + " failed with HTTP " + std::to_string(f.status), said,
          "Check the target URL and container; the error code and x-ms-request-id identify the "
          "failure for Azure support."};
}

Diagnosis diagnose_transport(CURLcode rc, std::string_view error, std::string_view where) {
  const std::string detail = std::string(where) + ": " + std::string(error) + " (curl error " +
                             std::to_string(static_cast<int>(rc)) + ")";
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return {Severity::critical, "DNS resolution of the storage endpoint failed", detail,
              "Check the account name in the URL and this host's resolver; with a private "
              "endpoint the name must resolve to its private IP (privatelink.blob.core."
              "windows.net zone linked to this network)."};
    case CURLE_COULDNT_RESOLVE_PROXY:
      return {Severity::critical, "DNS resolution of the proxy failed", detail,
              "Check the proxy settings (https_proxy / no_proxy) of this host."};
    case CURLE_COULDNT_CONNECT:
      return {Severity::critical, "Cannot connect to the storage endpoint", detail,
              "Nothing accepts connections there: check the URL and port, firewalls and NSGs "
              "between this host and the account, and the account's network rules."};
    case CURLE_OPERATION_TIMEDOUT:
      return {Severity::critical, "The storage endpoint did not answer in time", detail,
              "The endpoint is unreachable or very slow: check routing and firewalls (packets "
              "dropped rather than refused), proxies, and Azure Service Health."};
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      return {Severity::critical, "TLS certificate verification failed", detail,
              "The endpoint's certificate is not trusted, expired or for another name: check "
              "the URL's host name; a TLS-inspecting proxy needs its CA given in ca_file."};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_USE_SSL_FAILED:
      return {Severity::critical, "TLS handshake failed", detail,
              "Check that the endpoint speaks HTTPS on this port, and the minimum TLS version "
              "of the account (Azure requires TLS 1.2 or later)."};
    default:
      return {Severity::critical, "Request to the storage endpoint failed", detail,
              "Check the endpoint URL and the network path to it."};
  }
}

}  // namespace triage::storage::azure
