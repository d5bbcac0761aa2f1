// Secrets: ${var:...}, ${env:...} and ${file:...} references in config
// values, `$${` escapes, resolution of only the selected checks, secret params
// declared by a check type's schema, redaction, and that no error message and
// no view of a report ever holds a secret.
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

#include "report_schema.hpp"
#include "services.hpp"
#include "triage/core/config.hpp"
#include "triage/core/plugin_loader.hpp"
#include "triage/core/report.hpp"
#include "triage/core/secrets.hpp"

using namespace triage::core;
namespace fs = std::filesystem;
using triage::test::TempDir;

namespace {

// dir/name holding text, written as bytes.
fs::path write(const TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.path() / name, std::ios::binary) << text;
  return dir.path() / name;
}

// Sets an environment variable for the life of the object.
class EnvVar {
 public:
  EnvVar(std::string name, const std::string& value) : name_(std::move(name)) {
    setenv(name_.c_str(), value.c_str(), 1);
  }
  ~EnvVar() { unsetenv(name_.c_str()); }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  std::string name_;
};

// Parsed, with the references of every check resolved (as a run of them all).
Config resolved(const std::string& text, const std::string& source = "s.yaml") {
  auto config = parse_config(text, source);
  resolve_references(config);
  return config;
}

std::string config_error(const std::string& text, const std::string& source = "s.yaml") {
  try {
    resolved(text, source);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

const std::string kCheck = "checks:\n  - id: api\n    plugin: network\n    type: http\n";

}  // namespace

TEST_CASE("env references are substituted in every string of params", "[secrets][config]") {
  const EnvVar token("TRIAGE_UT_TOKEN", "tok-1234567");
  const EnvVar sig("TRIAGE_UT_SIG", "sig-abcdefg");
  const auto config = resolved(kCheck + R"(    params:
      target: "https://api.example/x?sig=${env:TRIAGE_UT_SIG}&v=1"
      headers:
        Authorization: "Bearer ${env:TRIAGE_UT_TOKEN}"
        X-Plain: ${env:TRIAGE_UT_TOKEN}
      list: [a, "${env:TRIAGE_UT_SIG}", { deep: "${env:TRIAGE_UT_TOKEN}${env:TRIAGE_UT_SIG}" }]
      port: 443
      on: true
)",
                               "s.yaml");
  REQUIRE(config.checks.size() == 1);
  const auto& p = config.checks[0].params;
  CHECK(p["target"] == "https://api.example/x?sig=sig-abcdefg&v=1");
  CHECK(config.checks[0].target == "https://api.example/x?sig=sig-abcdefg&v=1");
  CHECK(p["headers"]["Authorization"] == "Bearer tok-1234567");
  CHECK(p["headers"]["X-Plain"] == "tok-1234567");
  CHECK(p["list"][0] == "a");
  CHECK(p["list"][1] == "sig-abcdefg");
  CHECK(p["list"][2]["deep"] == "tok-1234567sig-abcdefg");
  CHECK(p["port"] == 443);
  CHECK(p["on"] == true);
  const auto& values = config.secrets.values();
  CHECK(std::find(values.begin(), values.end(), "tok-1234567") != values.end());
  CHECK(std::find(values.begin(), values.end(), "sig-abcdefg") != values.end());
  // Only what was substituted: the rest of a string is not a secret.
  CHECK(std::find(values.begin(), values.end(), "Bearer tok-1234567") == values.end());
  CHECK(config.secrets.redact(p.dump()).find("tok-1234567") == std::string::npos);
}

TEST_CASE("targets of a fan-out are substituted too", "[secrets][config]") {
  const EnvVar host("TRIAGE_UT_HOST", "hidden-host.internal");
  const auto config = resolved(
      "checks:\n  - id: web\n    plugin: network\n    type: tcp\n"
      "    targets: [\"${env:TRIAGE_UT_HOST}:443\", \"public:80\"]\n",
      "s.yaml");
  REQUIRE(config.checks.size() == 2);
  CHECK(config.checks[0].id == "web[hidden-host.internal:443]");
  CHECK(config.checks[0].target == "hidden-host.internal:443");
  CHECK(config.checks[0].params["target"] == "hidden-host.internal:443");
  CHECK(config.secrets.redact(config.checks[0].id) == "web[***:443]");
  CHECK(config.secrets.redact(config.checks[1].id) == "web[public:80]");
}

TEST_CASE("$${ is a literal ${, and other dollars are left alone", "[secrets][config]") {
  const EnvVar v("TRIAGE_UT_V", "value-9876");
  const auto config = resolved(kCheck + R"(    params:
      a: "$${env:TRIAGE_UT_V}"
      b: "cost: $5, $$ and ${env:TRIAGE_UT_V} and $${"
      c: "$"
)",
                               "s.yaml");
  const auto& p = config.checks[0].params;
  CHECK(p["a"] == "${env:TRIAGE_UT_V}");
  CHECK(p["b"] == "cost: $5, $$ and value-9876 and ${");
  CHECK(p["c"] == "$");
  // An escape is not a reference: nothing secret came from `a`.
  CHECK(config.secrets.values() == std::vector<std::string>{"value-9876"});
}

TEST_CASE("file references read the file and strip one trailing newline", "[secrets][config]") {
  const TempDir dir;
  write(dir, "token", "file-secret-42\n");
  write(dir, "two-newlines", "kept-newline\n\n");
  write(dir, "crlf", "windows-secret\r\n");
  const auto config_path = write(dir, "c.yaml",
                                 kCheck +
                                     "    params:\n"
                                     "      abs: \"${file:" +
                                     (dir.path() / "token").string() +
                                     "}\"\n"
                                     "      rel: \"${file:two-newlines}\"\n"
                                     "      crlf: \"${file:crlf}\"\n");
  auto config = load_config(config_path);
  resolve_references(config);
  const auto& p = config.checks[0].params;
  CHECK(p["abs"] == "file-secret-42");
  CHECK(p["rel"] == "kept-newline\n");  // relative to the config's folder
  CHECK(p["crlf"] == "windows-secret");
  CHECK(config.secrets.redact("x file-secret-42 y") == "x *** y");

  SECTION("only a regular file of at most 1 MiB is read") {
    write(dir, "big", std::string((1 << 20) + 1, 'x'));
    for (const auto& [path, what] : std::vector<std::pair<std::string, std::string>>{
             {dir.path().string(), "is not a regular file"},
             {"/dev/zero", "is not a regular file"},
             {(dir.path() / "big").string(), "is larger than 1 MiB"}}) {
      INFO(path);
      CHECK(config_error(kCheck + "    params:\n      x: \"${file:" + path + "}\"\n") ==
            "s.yaml:6: checks[api].params.x: secret file " + path + " " + what);
    }
  }
}

TEST_CASE("unresolvable references are config errors that name the key, not a value",
          "[secrets][config][errors]") {
  unsetenv("TRIAGE_UT_MISSING");
  CHECK(config_error(kCheck + "    params:\n      headers:\n        Authorization: "
                              "\"Bearer ${env:TRIAGE_UT_MISSING}\"\n") ==
        "s.yaml:7: checks[api].params.headers.Authorization: environment variable "
        "TRIAGE_UT_MISSING is not set");
  CHECK(config_error(kCheck + "    params:\n      list: [a, \"${env:TRIAGE_UT_MISSING}\"]\n") ==
        "s.yaml:6: checks[api].params.list[1]: environment variable TRIAGE_UT_MISSING is not set");
  CHECK(config_error("checks:\n  - id: web\n    plugin: network\n    type: tcp\n"
                     "    targets: [a, \"${env:TRIAGE_UT_MISSING}\"]\n") ==
        "s.yaml:5: checks[web].targets[1]: environment variable TRIAGE_UT_MISSING is not set");
  CHECK_THAT(
      config_error(kCheck + "    params:\n      x: \"${file:/nonexistent/triage-secret}\"\n"),
      Catch::StartsWith("s.yaml:6: checks[api].params.x: cannot read secret file "
                        "/nonexistent/triage-secret (No such file or directory)"));
  CHECK_THAT(config_error(kCheck + "    params:\n      x: \"abc ${env:TRIAGE_UT_MISSING\"\n"),
             Catch::Contains("checks[api].params.x: '${' without a closing '}' (write $${ for a "
                             "literal '${')"));
  CHECK_THAT(config_error(kCheck + "    params:\n      x: \"${vault:kv/x}\"\n"),
             Catch::Contains("checks[api].params.x: '${' starts none of ${var:NAME}, "
                             "${env:NAME} or ${file:PATH}"));
  CHECK_THAT(config_error(kCheck + "    params:\n      x: \"${env:1BAD}\"\n"),
             Catch::Contains("checks[api].params.x: '${env:' must be followed by a variable name"));
  CHECK_THAT(config_error(kCheck + "    params:\n      x: \"${file:}\"\n"),
             Catch::Contains("checks[api].params.x: '${file:}' names no file"));

  SECTION("an error after a substitution never shows the substituted value") {
    const EnvVar set("TRIAGE_UT_SET", "hunter2-secret");
    // The reference resolves, then a later key of the same check fails.
    const std::string e1 = config_error(kCheck +
                                        "    params:\n      a: \"${env:TRIAGE_UT_SET}\"\n"
                                        "      b: \"${env:TRIAGE_UT_MISSING}\"\n");
    CHECK_THAT(e1, Catch::Contains("params.b: environment variable TRIAGE_UT_MISSING"));
    CHECK(e1.find("hunter2-secret") == std::string::npos);
    const std::string e2 = config_error(
        "checks:\n  - id: web\n    plugin: network\n    type: tcp\n"
        "    params: { target: \"${env:TRIAGE_UT_SET}\" }\n    targets: [x]\n");
    CHECK_THAT(e2, Catch::Contains("give either targets"));
    CHECK(e2.find("hunter2-secret") == std::string::npos);
  }
}

TEST_CASE("var references are substituted from the environment but are not secrets",
          "[secrets][config][var]") {
  const EnvVar host("TRIAGE_UT_API_HOST", "api.staging.example");
  const EnvVar token("TRIAGE_UT_TOKEN", "tok-1234567");
  // A substituted value is never read again for references.
  const EnvVar nested("TRIAGE_UT_NESTED", "${env:TRIAGE_UT_TOKEN}");
  const auto config = resolved(kCheck + R"(    params:
      target: "https://${var:TRIAGE_UT_API_HOST}/health?sig=${env:TRIAGE_UT_TOKEN}"
      host: ${var:TRIAGE_UT_API_HOST}
      list: ["${var:TRIAGE_UT_API_HOST}:8443"]
      literal: "$${var:TRIAGE_UT_API_HOST}"
      nested: "${var:TRIAGE_UT_NESTED}"
)");
  const auto& p = config.checks[0].params;
  CHECK(p["target"] == "https://api.staging.example/health?sig=tok-1234567");
  CHECK(config.checks[0].target == "https://api.staging.example/health?sig=tok-1234567");
  CHECK(p["host"] == "api.staging.example");
  CHECK(p["list"][0] == "api.staging.example:8443");
  CHECK(p["literal"] == "${var:TRIAGE_UT_API_HOST}");
  CHECK(p["nested"] == "${env:TRIAGE_UT_TOKEN}");
  // Of a value mixing both, only what ${env:...} gave is secret.
  CHECK(config.secrets.values() == std::vector<std::string>{"tok-1234567"});
  CHECK(config.secrets.redact(config.checks[0].target) ==
        "https://api.staging.example/health?sig=***");
  CHECK(config.secrets.redact(p.dump()).find("api.staging.example") != std::string::npos);

  SECTION("in a fan-out target: the instance id shows the value") {
    const auto fan = resolved(
        "checks:\n  - id: web\n    plugin: network\n    type: tcp\n"
        "    targets: [\"${var:TRIAGE_UT_API_HOST}:443\"]\n");
    REQUIRE(fan.checks.size() == 1);
    CHECK(fan.checks[0].id == "web[api.staging.example:443]");
    CHECK(fan.checks[0].params["target"] == "api.staging.example:443");
    CHECK(fan.secrets.empty());
  }

  SECTION("errors are worded as for ${env:...}") {
    unsetenv("TRIAGE_UT_MISSING");
    CHECK(config_error(kCheck +
                       "    params:\n      target: \"https://${var:TRIAGE_UT_MISSING}/\"\n") ==
          "s.yaml:6: checks[api].params.target: environment variable TRIAGE_UT_MISSING is not set");
    CHECK(config_error("checks:\n  - id: web\n    plugin: network\n    type: tcp\n"
                       "    targets: [a, \"${var:TRIAGE_UT_MISSING}\"]\n") ==
          "s.yaml:5: checks[web].targets[1]: environment variable TRIAGE_UT_MISSING is not set");
    for (const std::string bad : {"${var:1BAD}", "${var:}", "${var:A-B}"}) {
      INFO(bad);
      CHECK_THAT(config_error(kCheck + "    params:\n      x: \"" + bad + "\"\n"),
                 Catch::StartsWith("s.yaml:6: checks[api].params.x: '${var:' must be followed by "
                                   "a variable name"));
    }
  }
}

TEST_CASE("params references are resolved only for the checks given to resolve_references",
          "[secrets][config][lazy]") {
  unsetenv("TRIAGE_UT_MISSING");
  const EnvVar token("TRIAGE_UT_TOKEN", "tok-lazy-1234");
  const std::string text = R"(checks:
  - id: a
    plugin: network
    type: http
    params:
      target: "http://x/"
      headers: { Authorization: "Bearer ${env:TRIAGE_UT_MISSING}" }
  - id: b
    plugin: network
    type: http
    params: { target: "http://y/?k=${env:TRIAGE_UT_TOKEN}" }
)";
  // Reading the config needs no variable and reads no secret.
  auto config = parse_config(text, "s.yaml");
  REQUIRE(config.checks.size() == 2);
  CHECK_FALSE(config.checks[0].resolved());
  CHECK_FALSE(config.checks[1].resolved());
  CHECK(config.secrets.empty());
  CHECK(config.checks[1].target == "http://y/?k=${env:TRIAGE_UT_TOKEN}");

  SECTION("the selected check alone resolves") {
    config.checks.erase(config.checks.begin());
    resolve_references(config);
    REQUIRE(config.checks[0].resolved());
    CHECK(config.checks[0].target == "http://y/?k=tok-lazy-1234");
    CHECK(config.checks[0].params["target"] == "http://y/?k=tok-lazy-1234");
    CHECK(config.secrets.redact(config.checks[0].target) == "http://y/?k=***");
    resolve_references(config);  // again: nothing changes
    CHECK(config.checks[0].target == "http://y/?k=tok-lazy-1234");
  }

  SECTION("resolving all of them is the config error, naming file, line and key") {
    CHECK_THROWS_WITH(resolve_references(config),
                      "s.yaml:7: checks[a].params.headers.Authorization: environment variable "
                      "TRIAGE_UT_MISSING is not set");
    CHECK(config.checks[0].params["headers"]["Authorization"] == "Bearer ${env:TRIAGE_UT_MISSING}");
  }

  SECTION("a malformed reference is an error as the config is read, selected or not") {
    CHECK_THROWS_WITH(
        parse_config(text + "  - {id: c, plugin: p, type: t, params: {x: \"${env:TRIAGE_UT\"}}\n",
                     "s.yaml"),
        "s.yaml:12: checks[c].params.x: '${' without a closing '}' (write $${ for a literal "
        "'${')");
  }
}

TEST_CASE("a fan-out target that cannot be resolved fails only when its instance is resolved",
          "[secrets][config][lazy]") {
  unsetenv("TRIAGE_UT_MISSING");
  const EnvVar host("TRIAGE_UT_HOST", "hidden-host.internal");
  auto config = parse_config(
      "checks:\n  - id: web\n    plugin: network\n    type: tcp\n"
      "    targets: [\"${env:TRIAGE_UT_HOST}:443\", \"${env:TRIAGE_UT_MISSING}:80\"]\n",
      "s.yaml");
  REQUIRE(config.checks.size() == 2);
  // Targets are resolved as the config is read: --only matches the ids made of them.
  CHECK(config.checks[0].id == "web[hidden-host.internal:443]");
  CHECK(config.checks[0].resolved());
  CHECK(config.secrets.redact(config.checks[0].id) == "web[***:443]");
  // The other keeps its target as written, and the error for later.
  CHECK(config.checks[1].id == "web[${env:TRIAGE_UT_MISSING}:80]");
  CHECK(config.checks[1].target == "${env:TRIAGE_UT_MISSING}:80");
  CHECK_FALSE(config.checks[1].resolved());

  auto first = config;
  first.checks.pop_back();
  CHECK_NOTHROW(resolve_references(first));
  config.checks.erase(config.checks.begin());
  CHECK_THROWS_WITH(resolve_references(config),
                    "s.yaml:5: checks[web].targets[1]: environment variable TRIAGE_UT_MISSING "
                    "is not set");
}

TEST_CASE("params a schema marks writeOnly or x-triage-secret are secrets", "[secrets][schema]") {
  const auto schema = nlohmann::ordered_json::parse(R"({
    "type": "object",
    "properties": {
      "target": {"type": "string"},
      "password": {"type": "string", "writeOnly": true},
      "api_key": {"type": "string", "x-triage-secret": true},
      "not_secret": {"type": "string", "writeOnly": false},
      "auth": {
        "type": "object",
        "properties": {
          "user": {"type": "string"},
          "token": {"type": "string", "x-triage-secret": true}
        }
      },
      "headers": {"type": "object", "additionalProperties": {"type": "string", "writeOnly": true}},
      "keys": {"type": "array", "items": {"type": "string", "writeOnly": true}},
      "whole": {"type": "object", "x-triage-secret": true},
      "either": {"oneOf": [{"type": "string", "writeOnly": true}, {"type": "integer"}]}
    }
  })");
  const auto params = nlohmann::ordered_json::parse(R"({
    "target": "public.example:443",
    "password": "pw-secret-1",
    "api_key": "key-secret-2",
    "not_secret": "plain-value",
    "auth": {"user": "admin-user", "token": "tok-secret-3"},
    "headers": {"Authorization": "Bearer hdr-secret-4"},
    "keys": ["arr-secret-5", "arr-secret-6"],
    "whole": {"a": "obj-secret-7", "b": ["obj-secret-8"], "n": 12345},
    "either": "one-secret-9",
    "short": "abc"
  })");
  Secrets secrets;
  collect_declared_secrets(params, schema, secrets);
  const std::string all = params.dump();
  const std::string redacted = secrets.redact(all);
  for (const char* secret :
       {"pw-secret-1", "key-secret-2", "tok-secret-3", "hdr-secret-4", "arr-secret-5",
        "arr-secret-6", "obj-secret-7", "obj-secret-8", "one-secret-9"}) {
    INFO(secret);
    CHECK(redacted.find(secret) == std::string::npos);
  }
  for (const char* kept :
       {"public.example:443", "plain-value", "admin-user", "Authorization", "12345"}) {
    INFO(kept);
    CHECK(redacted.find(kept) != std::string::npos);
  }

  SECTION("a broken or odd schema declares nothing") {
    Secrets none;
    collect_declared_secrets(params, nlohmann::ordered_json("not a schema"), none);
    collect_declared_secrets(params, nlohmann::ordered_json::parse(R"({"properties": []})"), none);
    collect_declared_secrets(
        params,
        nlohmann::ordered_json::parse(R"({"properties": {"password": {"writeOnly": "yes"}}})"),
        none);
    CHECK(none.empty());
  }
}

TEST_CASE("redact replaces every occurrence, overlapping ones included", "[secrets][redact]") {
  Secrets s;
  CHECK(s.redact("nothing to hide") == "nothing to hide");
  s.add("abc");  // below the 4-character floor: not a secret
  CHECK(s.empty());
  s.add("");
  CHECK(s.empty());
  s.add("pass");
  s.add("password");
  CHECK(s.values().front() == "password");  // longest first
  CHECK(s.redact("my password is pass") == "my *** is ***");
  CHECK(s.redact("passpass") == "***");  // touching occurrences: one ***
  CHECK(s.redact("") == "");

  Secrets overlap;
  overlap.add("abcdef");
  overlap.add("defghi");
  // Each secret alone would leave part of the other.
  CHECK(overlap.redact("xxabcdefghiyy") == "xx***yy");
  Secrets repeat;
  repeat.add("aaaa");
  CHECK(repeat.redact("aaaaaaa-aaa") == "***-aaa");

  SECTION("the forms the host gives a secret are covered too") {
    Secrets odd;
    odd.add("quo\"te\\slash");
    odd.add(
        "tab\tand\x01"
        "ctl");
    // JSON-escaped, as in a plugin echoing its params as JSON.
    CHECK(odd.redact(R"({"p":"quo\"te\\slash"})") == R"({"p":"***"})");
    // Control characters replaced by spaces, as output hygiene does.
    CHECK(odd.redact("x tab\tand ctl y") == "x *** y");
    CHECK(odd.redact("x tab and ctl y") == "x *** y");
  }

  SECTION("JSON documents: values and keys") {
    Secrets k;
    k.add("key-secret");
    auto doc = nlohmann::ordered_json::parse(
        R"({"a": "the key-secret", "key-secret": 1, "list": ["key-secret", 2, null], "n": {"m": "ok"}})");
    k.redact(doc);
    CHECK(doc.dump() == R"({"a":"the ***","***":1,"list":["***",2,null],"n":{"m":"ok"}})");
  }
}

TEST_CASE("no view of a report shows a secret", "[secrets][report]") {
  const std::string secret = "S3cr3t-unit-" + std::to_string(getpid());
  const EnvVar env("TRIAGE_UT_REPORT", secret);
  const auto config = resolved(R"(checks:
  - id: web
    plugin: network
    type: tcp
    targets: ["${env:TRIAGE_UT_REPORT}:443"]
  - id: api
    plugin: network
    type: http
    depends_on: [web]
    params: { target: "http://x/?sig=${env:TRIAGE_UT_REPORT}" }
)",
                               "r.yaml");
  REQUIRE(config.checks.size() == 2);
  RunOutcome out;
  out.results.resize(2);
  auto& web = out.results[0];
  web.index = 0;
  web.status = Status::critical;
  web.summary = "connection to " + secret + ":443 refused";
  web.error = "error mentions " + secret;
  web.attempts = 1;
  web.findings.push_back(
      {Severity::critical, "Refused by " + secret, "detail " + secret, "remediation " + secret});
  web.metrics.push_back(
      {"latency_" + secret, 1, "ms", std::nullopt, std::nullopt, Status::ok, "fix " + secret});
  web.attributes.emplace_back("attr-" + secret, "value " + secret);
  auto& api = out.results[1];
  api.index = 1;
  api.status = Status::skipped;
  api.skipped_because = "dependency " + config.checks[0].id + " is critical";
  api.summary = "skipped: " + api.skipped_because;
  RunInfo info = start_run_info("r.yaml");
  info.finished_at = info.started_at;
  const auto report = build_report(config, out, info);

  CHECK(report["checks"][0]["id"] == "web[***:443]");
  CHECK(report["checks"][0]["target"] == "***:443");
  CHECK(report["checks"][0]["summary"] == "connection to ***:443 refused");
  CHECK(report["checks"][1]["target"] == "http://x/?sig=***");
  CHECK(report["checks"][1]["skipped_because"] == "dependency web[***:443] is critical");
  for (const auto format : {Format::json, Format::text, Format::nagios, Format::junit,
                            Format::ndjson, Format::prometheus}) {
    const std::string text = render(report, format);
    INFO(text);
    CHECK(text.find(secret) == std::string::npos);
    CHECK(text.find("S3cr3t") == std::string::npos);
  }
}

TEST_CASE("add_declared_secrets reads each check type's schema", "[secrets][schema]") {
  // A registry whose one plugin declares a secret param (a loader stands in
  // for a library; the file only has to pass the permission check).
  PluginRegistry registry;
  registry.set_loader([](const fs::path& file, std::string&) {
    Plugin plugin;
    plugin.file = file;
    plugin.name = "vault";
    CheckType type;
    type.name = "login";
    type.params_schema =
        R"({"type":"object","properties":{"password":{"type":"string","writeOnly":true}}})";
    plugin.types.push_back(type);
    CheckType broken;
    broken.name = "broken";
    broken.params_schema = "{not json";
    plugin.types.push_back(broken);
    return std::optional<Plugin>(plugin);
  });
  REQUIRE(registry.load_file(fs::path(TRIAGE_TEST_PLUGIN_DIR) / "test_c_plugin.so"));
  auto config = parse_config(R"(checks:
  - {id: a, plugin: vault, type: login, params: {target: db, password: plain-text-pw}}
  - {id: b, plugin: vault, type: broken, params: {password: not-declared}}
  - {id: c, plugin: elsewhere, type: login, params: {password: unknown-plugin}}
  - {id: d, plugin: vault, type: nosuch, params: {password: unknown-type}}
)",
                             "d.yaml");
  CHECK(config.secrets.empty());
  add_declared_secrets(config, registry);
  CHECK(config.secrets.values() == std::vector<std::string>{"plain-text-pw"});

  // A declared-secret param given by ${var:...} is a secret all the same:
  // add_declared_secrets needs the resolved value, and refuses to run before.
  const EnvVar pw("TRIAGE_UT_PW", "var-given-pw");
  auto from_var = parse_config(
      "checks:\n  - {id: a, plugin: vault, type: login, params: {password: "
      "\"${var:TRIAGE_UT_PW}\"}}\n",
      "d.yaml");
  CHECK_THROWS_AS(add_declared_secrets(from_var, registry), std::logic_error);
  resolve_references(from_var);
  CHECK(from_var.secrets.empty());
  add_declared_secrets(from_var, registry);
  CHECK(from_var.secrets.values() == std::vector<std::string>{"var-given-pw"});
}

TEST_CASE("redaction covers the escaped, doubled and cut forms of a secret", "[secrets][redact]") {
  Secrets s;
  s.add("s\xC3\xA4kr\\it-value");  // non-ASCII and a backslash
  // As a plugin's preview escapes bytes, in either case.
  CHECK(s.redact("body: \"s\\xc3\\xa4kr\\\\it-value\"") == "body: \"***\"");
  CHECK(s.redact("body: \"s\\xC3\\xA4kr\\\\it-value\"") == "body: \"***\"");
  // JSON inside JSON: the backslashes doubled again.
  const std::string twice = R"({"inner":"{\"p\":\"s)" + std::string("\xC3\xA4") +
                            R"(kr\\\\it-value\"}"})";
  CHECK(s.redact(twice) == R"({"inner":"{\"p\":\"***\"}"})");
  // As the text view escapes it for a terminal.
  Secrets line;
  line.add("multi\nline-secret");
  CHECK(line.redact("got multi\\nline-secret here") == "got *** here");
  // Cut by a preview or a cap: the first bytes before "...", or at the end.
  Secrets cut;
  cut.add("0123456789abcdef");
  CHECK(cut.redact("body: \"xx 0123456...\"") == "body: \"xx ***...\"");
  CHECK(cut.redact("ends with 01234567") == "ends with ***");
  CHECK(cut.redact("summary 0123456789 [truncated]") == "summary *** [truncated]");
  CHECK(cut.redact("short 01234...") == "short 01234...");  // under kMinPrefix: left alone
}

TEST_CASE("a secret equal to a report word changes no key or status", "[secrets][report]") {
  const EnvVar a("TRIAGE_UT_WORD_A", "critical");
  const EnvVar b("TRIAGE_UT_WORD_B", "summary");
  const EnvVar c("TRIAGE_UT_WORD_C", "status");
  auto config = resolved(R"(checks:
  - id: web
    plugin: network
    type: tcp
    params:
      target: "10.0.0.1:443"
      a: "${env:TRIAGE_UT_WORD_A}"
      b: "${env:TRIAGE_UT_WORD_B}"
      c: "${env:TRIAGE_UT_WORD_C}"
)",
                         "w.yaml");
  RunOutcome out;
  out.results.resize(1);
  out.results[0].index = 0;
  out.results[0].status = Status::critical;
  out.results[0].summary = "the status is critical";
  out.results[0].attempts = 1;
  RunInfo info = start_run_info("w.yaml");
  info.finished_at = info.started_at;
  const auto report = build_report(config, out, info);
  CHECK(report.at("summary").at("status") == "critical");
  CHECK(report.at("checks").at(0).at("status") == "critical");
  CHECK(report.at("checks").at(0).at("summary") == "the *** is ***");
  CHECK(report.contains("summary"));
  CHECK(triage::test::report_schema_errors(nlohmann::json::parse(report.dump())).empty());
}
