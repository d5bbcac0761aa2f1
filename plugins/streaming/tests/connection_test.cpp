// The connection params as a unit: bootstrap lists, security params, secret
// property names and redaction, and the ApiVersions request's bytes.
#include <catch2/catch.hpp>
#include <string>

#include <triage/testing.hpp>

#include "client.hpp"
#include "connection.hpp"
#include "probe.hpp"

using namespace triage::streaming;

TEST_CASE("bootstrap lists are host:port pairs, IPv6 in brackets", "[streaming][unit]") {
  const auto b = parse_bootstrap("a.example:9092, 127.0.0.1:19092,[::1]:9093");
  REQUIRE(b.size() == 3);
  CHECK(b[0].host == "a.example");
  CHECK(b[0].port == 9092);
  CHECK(b[1].to_string() == "127.0.0.1:19092");
  CHECK(b[2].host == "::1");
  CHECK(b[2].to_string() == "[::1]:9093");
  for (const char* bad : {"", "host", "host:", "host:0", "host:70000", "::1:9092", "a:1,,b:2",
                          "kafka://h:9092", "user:pw@h:9092", "[::1]9092", "h:12x"})
    CHECK_THROWS_AS(parse_bootstrap(bad), triage::ParamError);
  // A credential in the target is refused without being quoted.
  try {
    parse_bootstrap("user:hunter2@h:9092");
    FAIL("accepted credentials in the target");
  } catch (const triage::ParamError& e) {
    CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
  }
}

TEST_CASE("secret properties are recognised by name and redacted", "[streaming][unit]") {
  for (const char* name : {"sasl.password", "ssl.key.password", "ssl.key.pem",
                           "sasl.oauthbearer.client.secret", "sasl.oauthbearer.token.endpoint.url"})
    CHECK(secret_property(name));
  for (const char* name : {"bootstrap.servers", "sasl.username", "client.id"})
    CHECK_FALSE(secret_property(name));
  CHECK(redact("auth with s3cr3tvalue failed", {"s3cr3tvalue"}) == "auth with *** failed");
  CHECK(redact("x", {""}) == "x");
}

TEST_CASE("the ApiVersions v0 request is framed as Kafka expects", "[streaming][unit]") {
  const std::string r = api_versions_request(7, "triage");
  // size, api_key 18, version 0, correlation id 7, client id "triage"
  const std::string expected("\x00\x00\x00\x10\x00\x12\x00\x00\x00\x00\x00\x07\x00\x06triage", 20);
  CHECK(r == expected);
}

TEST_CASE("checks with the same cluster and credentials share one client", "[streaming][unit]") {
  // 127.0.0.1:1: nothing listens there; making a client connects to nothing yet.
  Connection a;
  a.bootstrap = parse_bootstrap("127.0.0.1:1");
  a.bootstrap_text = "127.0.0.1:1";
  Connection same = a;
  Connection other_user = a;
  other_user.security_protocol = "sasl_plaintext";
  other_user.sasl_mechanism = "PLAIN";
  other_user.sasl_username = "u";
  other_user.sasl_password = "p1";
  Connection other_password = other_user;
  other_password.sasl_password = "p2";
  const auto ca = client_for(a);
  CHECK(client_for(same).get() == ca.get());
  CHECK(client_for(other_user).get() != ca.get());
  CHECK(client_for(other_password).get() != client_for(other_user).get());
  CHECK(client_for(other_password).get() == client_for(other_password).get());
}
