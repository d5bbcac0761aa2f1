// Reading a Shared Access Signature token (never logging it): the query
// string is split into fields so that an expired `se` can be named in a
// finding; the signature `sig` itself is never kept outside the token.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "azure_time.hpp"

namespace triage::storage::azure {

struct SasInfo {
  std::string token;        // without a leading '?'
  std::string expiry_text;  // `se` decoded, e.g. "2024-01-31T00:00:00Z"
  std::optional<std::chrono::system_clock::time_point> expiry;  // when `se` parses
  std::string start_text;                                       // `st` decoded
  std::string permissions;                                      // `sp`
  std::string version;                                          // `sv`
};

// Throws std::invalid_argument (without quoting the token) when it has no
// `sig` field, contains characters that cannot be in a query string, or is empty.
SasInfo parse_sas(std::string_view token);

// Percent-decodes a query value ('+' stays '+'); invalid escapes are kept as is.
std::string percent_decode(std::string_view s);

}  // namespace triage::storage::azure
