// Azure Storage "Shared Key" request signing (the "Authorize with Shared Key"
// scheme, service version 2015-02-21 and later) and the small encodings it
// needs: base64, HMAC-SHA256 and the RFC 1123 date of the x-ms-date header.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace triage::storage::azure {

using Header = std::pair<std::string, std::string>;  // name, value

// The parts of a request that the Shared Key signature covers.
struct SignedParts {
  std::string_view method;      // "GET", "PUT", ...
  std::string_view account;     // the storage account name
  std::string_view path;        // the URI path as sent, e.g. "/devstoreaccount1/c"
  std::vector<Header> query;    // decoded query parameters
  std::vector<Header> headers;  // every header that is sent (any case)
};

// The string to sign: the verb, twelve standard headers (Content-Length empty
// when 0), the canonicalized x-ms-* headers and the canonicalized resource.
std::string string_to_sign(const SignedParts& parts);

// base64(HMAC-SHA256(key, data)).
std::string hmac_sha256_base64(std::span<const unsigned char> key, std::string_view data);

std::string base64_encode(std::span<const unsigned char> bytes);
// Strict standard base64 (with padding); nullopt when the text is not base64.
std::optional<std::vector<unsigned char>> base64_decode(std::string_view text);

// "Sat, 28 Nov 2026 00:26:21 GMT"
std::string rfc1123(std::chrono::system_clock::time_point when);

// The Authorization header value "SharedKey <account>:<signature>".
std::string shared_key_authorization(std::string_view account, std::span<const unsigned char> key,
                                     const SignedParts& parts);

}  // namespace triage::storage::azure
