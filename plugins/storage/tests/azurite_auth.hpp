// What the storage tests share to authorize against Azurite's development
// account (its documented, public key) the way Azure does: account SAS
// tokens signed with the string-to-sign of service version 2020-12-06 and
// later; and the check that a secret shows nowhere in a result.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <string>

#include <triage/testing.hpp>

#include "azure_endpoint.hpp"
#include "azure_signing.hpp"
#include "azure_time.hpp"
#include "check_result.hpp"
#include "services.hpp"

namespace triage::storage::test {

// An account SAS for the Blob service at service, container and object level
// (srt=sco: Get Blob Service Stats is a service-level operation), expiring at se.
inline std::string account_sas(const std::string& permissions,
                               std::chrono::system_clock::time_point se) {
  using triage::test::Azurite;
  const std::string expiry = azure::iso8601_utc(se);
  const std::string to_sign = std::string(Azurite::kAccount) + "\n" + permissions + "\nb\nsco\n\n" +
                              expiry + "\n\n\n2021-08-06\n\n";
  const auto key = *azure::base64_decode(Azurite::kKey);
  const std::string sig = azure::hmac_sha256_base64(key, to_sign);
  return "sv=2021-08-06&ss=b&srt=sco&sp=" + permissions + "&se=" + azure::url_encode(expiry) +
         "&sig=" + azure::url_encode(sig);
}

// Fails the test when secret appears anywhere in the result.
inline void require_no_secret(const triage::testing::Result& r, const std::string& secret) {
  const std::string text = triage::test::all_text(r);
  INFO(text);
  REQUIRE_FALSE(secret.empty());
  CHECK(text.find(secret) == std::string::npos);
}

}  // namespace triage::storage::test
