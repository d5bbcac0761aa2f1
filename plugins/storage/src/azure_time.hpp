// The two ways Azure Storage writes a time: ISO 8601 in SAS tokens (se, st)
// and RFC 1123 in headers and XML (Last-Modified, LastSyncTime). Both
// parsers are total and independent of the process locale.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace triage::storage::azure {

// An ISO 8601 UTC time as SAS tokens carry it: "YYYY-MM-DD", "YYYY-MM-DDThh:mmZ",
// "YYYY-MM-DDThh:mm:ssZ" or with fractional seconds; nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view s);

// An RFC 1123 date as the service writes Last-Modified and LastSyncTime:
// "Wed, 03 Dec 2025 18:00:00 GMT" (the day name is optional); nullopt for
// anything else. Independent of the process locale.
std::optional<std::chrono::system_clock::time_point> parse_rfc1123(std::string_view s);

// "2026-12-03T18:00:00Z", as SAS tokens and reports write a time
std::string iso8601_utc(std::chrono::system_clock::time_point t);

}  // namespace triage::storage::azure
