// The blob check's view of a storage account endpoint URL: which account it
// names and how request URLs under it are built.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace triage::storage::azure {

struct Endpoint {
  std::string origin;     // "https://acct.blob.core.windows.net" or "http://127.0.0.1:10000"
  std::string base_path;  // "" or "/devstoreaccount1" (no trailing slash)
  std::string account;    // the account name the Shared Key signature names
  bool https = false;
  bool rewritten_from_dfs = false;  // an ADLS Gen2 .dfs. host was given
  // The URL shown in reports: origin + base_path (never a query).
  std::string shown() const { return origin + base_path; }
};

// Parses `target`. The account is `account` when not empty, else the first
// path segment (Azurite-style http://127.0.0.1:10000/devstoreaccount1), else
// the host's first label (acct.blob.core.windows.net). A .dfs. host (ADLS
// Gen2) is replaced by its .blob. twin, where the Blob API is served. Throws
// triage::ParamError, without quoting any query or user info, when the URL is
// not an http(s) URL, has a query, fragment or user info, or names no account.
Endpoint parse_endpoint(std::string_view target, std::string_view account);

// The account's secondary (read-access geo-redundant) endpoint: the host's
// first label ACCOUNT becomes ACCOUNT-secondary for ACCOUNT.blob.<suffix>
// hosts (https://ACCOUNT-secondary.blob.core.windows.net), the first path
// segment /ACCOUNT becomes /ACCOUNT-secondary for path-style (Azurite)
// endpoints. The account stays the primary's: Shared Key signatures name it.
// Throws triage::ParamError when neither form applies (custom domain, IP
// without a path): the caller then needs the secondary URL given.
Endpoint secondary_endpoint(const Endpoint& primary);

// RFC 3986 percent-encoding of everything but unreserved characters (and '/'
// when keep_slash): for blob names and query values.
std::string url_encode(std::string_view s, bool keep_slash = false);

// "?a=1&b=2" from name/value pairs (values encoded), then `extra` (an already
// encoded query such as a SAS) appended; "" when both are empty.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& query,
                         std::string_view extra);

}  // namespace triage::storage::azure
