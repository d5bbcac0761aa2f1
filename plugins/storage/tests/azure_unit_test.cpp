// Unit tests of the blob check's Azure helpers that need no service: the
// Shared Key string to sign (against the structure of the worked example in
// Azure's "Authorize with Shared Key" documentation), HMAC/base64, SAS and
// endpoint parsing, and the status/code -> finding mapping. The mapping of
// 503 ServerBusy and 500 OperationTimedOut is tested here because Azurite
// cannot be made to throttle; everything else is also proven against Azurite
// in blob_test.cpp.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "azure_endpoint.hpp"
#include "azure_errors.hpp"
#include "azure_sas.hpp"
#include "azure_signing.hpp"

using namespace triage::storage::azure;
using triage::ParamError;
using triage::Severity;

TEST_CASE("string to sign follows the Shared Key layout of Azure's documented example") {
  // The documentation's example: GET of a container's metadata, signed with
  // x-ms-date and x-ms-version, every standard header empty.
  const SignedParts parts{
      "GET",
      "myaccount",
      "/mycontainer",
      {{"restype", "container"}, {"comp", "metadata"}, {"timeout", "20"}},
      {{"x-ms-version", "2009-09-19"}, {"X-MS-Date", "Sun, 11 Oct 2009 21:49:13 GMT"}}};
  const std::string expected =
      "GET\n\n\n\n\n\n\n\n\n\n\n\n"
      "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n"
      "/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20";
  CHECK(string_to_sign(parts) == expected);
}

TEST_CASE("string to sign places standard headers and folds x-ms header values") {
  const SignedParts parts{"PUT",
                          "acct",
                          "/c/b",
                          {},
                          {{"Content-Length", "12"},
                           {"Content-Type", "application/octet-stream"},
                           {"x-ms-blob-type", "  BlockBlob  "},
                           {"x-ms-meta-a", "x   y"}}};
  CHECK(string_to_sign(parts) ==
        "PUT\n\n\n12\n\napplication/octet-stream\n\n\n\n\n\n\n"
        "x-ms-blob-type:BlockBlob\nx-ms-meta-a:x y\n/acct/c/b");
  // A zero Content-Length is signed as empty (version 2015-02-21 and later).
  const SignedParts empty{"PUT", "acct", "/c", {}, {{"Content-Length", "0"}}};
  CHECK(string_to_sign(empty) == "PUT\n\n\n\n\n\n\n\n\n\n\n\n/acct/c");
}

TEST_CASE("repeated query parameters are joined, values sorted") {
  const SignedParts parts{
      "GET", "a", "/c", {{"include", "snapshots"}, {"Include", "metadata"}}, {}};
  CHECK(string_to_sign(parts).ends_with("/a/c\ninclude:metadata,snapshots"));
}

TEST_CASE("HMAC-SHA256 and base64 match RFC 4231 test case 2") {
  const std::string key = "Jefe";
  const std::span<const unsigned char> k(reinterpret_cast<const unsigned char*>(key.data()),
                                         key.size());
  CHECK(hmac_sha256_base64(k, "what do ya want for nothing?") ==
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
  const auto decoded = base64_decode("SmVmZQ==");
  REQUIRE(decoded);
  CHECK(std::string(decoded->begin(), decoded->end()) == "Jefe");
  CHECK(base64_encode(*decoded) == "SmVmZQ==");
  CHECK_FALSE(base64_decode("not base64!"));
  CHECK_FALSE(base64_decode("abc"));
  CHECK_FALSE(base64_decode("ab=c"));
}

TEST_CASE("x-ms-date is RFC 1123 in GMT") {
  using namespace std::chrono;
  const sys_days day = 2009y / October / 11;
  CHECK(rfc1123(day + 21h + 49min + 13s) == "Sun, 11 Oct 2009 21:49:13 GMT");
}

TEST_CASE("a SAS token's expiry is read, its signature required") {
  using namespace std::chrono;
  const auto sas =
      parse_sas("?sv=2021-08-06&ss=b&srt=sco&sp=rl&se=2024-01-31T12%3A30%3A00Z&sig=abc%3D");
  CHECK(sas.token.front() == 's');
  CHECK(sas.expiry_text == "2024-01-31T12:30:00Z");
  REQUIRE(sas.expiry);
  CHECK(*sas.expiry == sys_days(2024y / January / 31) + 12h + 30min);
  CHECK(sas.permissions == "rl");
  CHECK_THROWS_AS(parse_sas("sv=2021-08-06&se=2024-01-01"), std::invalid_argument);
  CHECK_THROWS_AS(parse_sas(""), std::invalid_argument);
  CHECK_THROWS_AS(parse_sas("sig=a b"), std::invalid_argument);
  CHECK(parse_iso8601_utc("2024-01-31") == sys_days(2024y / January / 31));
  CHECK(parse_iso8601_utc("2024-01-31T01:02Z") == sys_days(2024y / January / 31) + 1h + 2min);
  CHECK(parse_iso8601_utc("2024-01-31T01:02:03.1234567Z") ==
        sys_days(2024y / January / 31) + 1h + 2min + 3s);
  CHECK_FALSE(parse_iso8601_utc("2024-02-30"));
  CHECK_FALSE(parse_iso8601_utc("yesterday"));
}

TEST_CASE("the account comes from the param, the path or the host") {
  auto ep = parse_endpoint("https://myacct.blob.core.windows.net", "");
  CHECK(ep.account == "myacct");
  CHECK(ep.https);
  CHECK(ep.shown() == "https://myacct.blob.core.windows.net");
  ep = parse_endpoint("http://127.0.0.1:10000/devstoreaccount1/", "");
  CHECK(ep.account == "devstoreaccount1");
  CHECK(ep.base_path == "/devstoreaccount1");
  CHECK(ep.origin == "http://127.0.0.1:10000");
  ep = parse_endpoint("https://MyAcct.dfs.core.windows.net", "");
  CHECK(ep.origin == "https://myacct.blob.core.windows.net");
  CHECK(ep.rewritten_from_dfs);
  CHECK(parse_endpoint("https://storage.internal.example", "prod1").account == "prod1");
  CHECK_THROWS_AS(parse_endpoint("http://127.0.0.1:10000", ""), ParamError);
  CHECK_THROWS_AS(parse_endpoint("ftp://a.blob.core.windows.net", ""), ParamError);
  CHECK_THROWS_AS(parse_endpoint("https://u:p@a.blob.core.windows.net", ""), ParamError);
  try {
    parse_endpoint("https://a.blob.core.windows.net/?sv=1&sig=SECRETSIG", "");
    FAIL("a target with a query was accepted");
  } catch (const ParamError& e) {
    CHECK(std::string(e.what()).find("SECRETSIG") == std::string::npos);
  }
}

TEST_CASE("URL encoding of query values and blob names") {
  CHECK(url_encode("a b/c:d") == "a%20b%2Fc%3Ad");
  CHECK(url_encode("a b/c", true) == "a%20b/c");
  CHECK(query_string({{"comp", "list"}, {"x", "1 2"}}, "sv=1&sig=z") ==
        "?comp=list&x=1%202&sv=1&sig=z");
  CHECK(query_string({}, "") == "");
}

TEST_CASE("the error XML's Code and Message are read, the message cut at its first line") {
  const auto e = parse_error_xml(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ContainerNotFound</Code>"
      "<Message>The specified container does not exist &amp; never did.\nRequestId:1\nTime:x"
      "</Message></Error>");
  CHECK(e.code == "ContainerNotFound");
  CHECK(e.message == "The specified container does not exist & never did.");
  CHECK(parse_error_xml("not xml").code.empty());
}

namespace {

HttpFailure failure(long status, std::string_view code, Auth auth = Auth::shared_key) {
  HttpFailure f;
  f.operation = "List Blobs";
  f.where = "https://a.blob.core.windows.net/c";
  f.status = status;
  f.code = code;
  f.message = "msg";
  f.auth = auth;
  f.now = std::chrono::system_clock::now();
  return f;
}

}  // namespace

TEST_CASE("throttling (503 ServerBusy, 500 OperationTimedOut) is a warning telling to back off") {
  for (const auto& [status, code] : {std::pair<long, std::string_view>{503, "ServerBusy"},
                                     std::pair<long, std::string_view>{500, "OperationTimedOut"}}) {
    const auto d = diagnose_http(failure(status, code));
    CHECK(d.severity == Severity::warning);
    CHECK(d.title.find("throttling") != std::string::npos);
    CHECK(d.title.find(std::string(code)) != std::string::npos);
    CHECK(d.remediation.find("back off") != std::string::npos);
    CHECK(d.remediation.find("limits") != std::string::npos);
    CHECK(d.detail.find(std::to_string(status)) != std::string::npos);
  }
  // Other 5xx are service errors, critical.
  CHECK(diagnose_http(failure(500, "InternalError")).severity == Severity::critical);
}

TEST_CASE("auth failures name the credential; an expired SAS names its expiry") {
  auto key = diagnose_http(failure(403, "AuthenticationFailed"));
  CHECK(key.title.find("account key") != std::string::npos);
  auto bearer = diagnose_http(failure(401, "InvalidAuthenticationInfo", Auth::bearer));
  CHECK(bearer.title.find("bearer token") != std::string::npos);

  auto f = failure(403, "AuthenticationFailed", Auth::sas);
  f.sas_expiry_text = "2020-01-01T00:00:00Z";
  f.sas_expiry = std::chrono::sys_days(std::chrono::year(2020) / 1 / 1);
  auto expired = diagnose_http(f);
  CHECK(expired.title == "SAS token expired");
  CHECK(expired.detail.find("2020-01-01T00:00:00Z") != std::string::npos);
  // The same failure with a future expiry is a rejected signature, not expiry.
  f.sas_expiry = f.now + std::chrono::hours(1);
  CHECK(diagnose_http(f).title.find("SAS token was rejected") != std::string::npos);

  CHECK(diagnose_http(failure(403, "AuthorizationPermissionMismatch", Auth::sas))
            .title.find("lacks permission") != std::string::npos);
  // AuthorizationFailure: a firewall or role problem, unless the service says
  // it could not authenticate the request (a bad signature).
  auto firewall = failure(403, "AuthorizationFailure");
  firewall.message = "This request is not authorized to perform this operation.";
  CHECK(diagnose_http(firewall).remediation.find("firewall") != std::string::npos);
  auto bad_signature = failure(403, "AuthorizationFailure");
  bad_signature.message = "Server failed to authenticate the request.";
  CHECK(diagnose_http(bad_signature).title.find("account key was rejected") != std::string::npos);
  CHECK(diagnose_http(failure(404, "ContainerNotFound")).title == "Container not found");
  CHECK(diagnose_http(failure(404, "ResourceNotFound", Auth::anonymous)).title.find("not public") !=
        std::string::npos);
  CHECK(diagnose_http(failure(403, "KeyBasedAuthenticationNotPermitted")).title.find("disabled") !=
        std::string::npos);
}

TEST_CASE("transport errors map to DNS, connect, timeout and TLS findings") {
  CHECK(diagnose_transport(CURLE_COULDNT_RESOLVE_HOST, "x", "u").title.find("DNS") !=
        std::string::npos);
  CHECK(diagnose_transport(CURLE_COULDNT_CONNECT, "x", "u").title.find("connect") !=
        std::string::npos);
  CHECK(diagnose_transport(CURLE_OPERATION_TIMEDOUT, "x", "u").title.find("in time") !=
        std::string::npos);
  CHECK(diagnose_transport(CURLE_PEER_FAILED_VERIFICATION, "x", "u").title.find("TLS") !=
        std::string::npos);
}
