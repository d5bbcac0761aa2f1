// Secrets end to end: a unique secret planted through ${env:...} references in
// an http header, a URL query, a tcp `send`, body_contains/expect and a
// fan-out target must reach the checks (they succeed because of it) and must
// appear in no stdout, stderr or report file, in every output format, with
// debug logging in text and JSON, in both isolation modes, and in
// `triage list`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::run_triage;
using triage::itest::RunEnv;
using triage::itest::RunResult;
using triage::itest::schema_errors;
using triage::itest::services;
using triage::itest::test_plugin_dir;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

// "S3cr3t-<pid>-<random hex>": in no config text, nowhere but the environment.
std::string make_secret() {
  std::random_device rd;
  char random[20];
  std::snprintf(random, sizeof random, "%08x%08x", static_cast<unsigned>(rd()),
                static_cast<unsigned>(rd()));
  return "S3cr3t-" + std::to_string(getpid()) + "-" + random;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The config: every reference resolves to the secret (or contains it).
std::string secrets_config(const std::string& isolation) {
  const auto& nginx = services().nginx;
  const std::string port = std::to_string(nginx.http_port());
  return "defaults: { timeout: 10s, isolation: " + isolation +
         " }\n"
         "checks:\n"
         // The header carries the secret; /echo-header answers with it, so
         // body_contains (the same secret from another variable) proves it was sent.
         "  - id: header\n"
         "    plugin: network\n"
         "    type: http\n"
         "    params:\n"
         "      target: \"" +
         nginx.http_url("/echo-header") +
         "?sig=${env:TRIAGE_IT_SIG}\"\n"
         "      headers: { X-Triage-Test: \"${env:TRIAGE_IT_SECRET}\" }\n"
         "      body_contains: \"${env:TRIAGE_IT_EXPECT}\"\n"
         // A failure whose finding quotes the body (the secret) and the text
         // expected (which holds the secret).
         "  - id: wrong-body\n"
         "    plugin: network\n"
         "    type: http\n"
         "    params:\n"
         "      target: \"" +
         nginx.http_url("/echo-header") +
         "\"\n"
         "      headers: { X-Triage-Test: \"${env:TRIAGE_IT_SECRET}\" }\n"
         "      body_contains: \"not ${env:TRIAGE_IT_SECRET} at all\"\n"
         // A raw HTTP request over tcp: the reply contains the secret only if
         // `send` carried it.
         "  - id: banner\n"
         "    plugin: network\n"
         "    type: tcp\n"
         "    params:\n"
         "      target: \"127.0.0.1:" +
         port +
         "\"\n"
         "      send: \"GET /echo-header HTTP/1.0\\r\\nX-Triage-Test: "
         "${env:TRIAGE_IT_SECRET}\\r\\n\\r\\n\"\n"
         "      expect: \"${env:TRIAGE_IT_EXPECT}\"\n"
         // Fan-out over a target holding the secret: the instance id holds it too.
         "  - id: fan\n"
         "    plugin: network\n"
         "    type: http\n"
         "    targets: [\"" +
         nginx.http_url("/health") + "?key=${env:TRIAGE_IT_SECRET}\", \"" +
         nginx.http_url("/health") +
         "\"]\n"
         // Retried: the runner logs the instance id, which holds the secret.
         "  - id: retried\n"
         "    plugin: network\n"
         "    type: http\n"
         "    retries: 1\n"
         "    targets: [\"" +
         nginx.http_url("/status/500") +
         "?key=${env:TRIAGE_IT_SECRET}\"]\n"
         // A plugin that echoes all its params back as an attribute.
         "  - id: echo\n"
         "    plugin: c-echo\n"
         "    type: echo\n"
         "    params: { target: \"x\", token: \"${env:TRIAGE_IT_SECRET}\" }\n"
         "  - id: after\n"
         "    plugin: network\n"
         "    type: loopback\n"
         "    depends_on: [fan]\n"
         "    params: { target: \"127.0.0.1\" }\n";
}

}  // namespace

TEST_CASE("a secret from the environment is used by checks and shown nowhere", "[secrets][run]") {
  const std::string secret = make_secret();
  const TempDir dir;
  const RunEnv env{{{"TRIAGE_IT_SECRET", secret},
                    {"TRIAGE_IT_EXPECT", secret},
                    {"TRIAGE_IT_SIG", secret},
                    {"NO_COLOR", "1"}}};

  auto no_secret = [&](const RunResult& r, const std::string& what) {
    INFO(what);
    INFO(describe(r));
    CHECK_FALSE(contains(r.out, secret));
    CHECK_FALSE(contains(r.err, secret));
  };

  for (const std::string isolation : {"process", "in-process"}) {
    DYNAMIC_SECTION("isolation " << isolation) {
      const std::string config =
          write_file(dir.path(), isolation + ".yaml", secrets_config(isolation)).string();

      // The checks did use the secret: their success depends on it.
      const auto json =
          run_triage({"run", "-c", config, "-f", "json", "--plugin-dir", test_plugin_dir()}, env);
      no_secret(json, "json report");
      {
        INFO(describe(json));
        CHECK(json.exit_code == 2);
        const auto report = parse_json(json.out);
        CHECK(schema_errors(report).empty());
        CHECK(check_of(report, "header").at("status") == "ok");
        CHECK(check_of(report, "banner").at("status") == "ok");
        CHECK(check_of(report, "wrong-body").at("status") == "critical");
        const auto& header = check_of(report, "header");
        CHECK(header.at("target") == services().nginx.http_url("/echo-header") + "?sig=***");
        // The fanned-out instance whose target holds the secret is named with ***.
        const std::string fan_id = "fan[" + services().nginx.http_url("/health") + "?key=***]";
        CHECK(check_of(report, fan_id).at("status") == "ok");
        CHECK(check_of(report, "fan[" + services().nginx.http_url("/health") + "]").at("status") ==
              "ok");
        CHECK(check_of(report, "after").at("status") == "ok");
        const auto& echo = check_of(report, "echo");
        CHECK(echo.at("status") == "ok");
        CHECK(contains(echo.at("attributes").at("params").get<std::string>(), "\"token\":\"***\""));
        const auto& retried =
            check_of(report, "retried[" + services().nginx.http_url("/status/500") + "?key=***]");
        CHECK(retried.at("status") == "critical");
        CHECK(retried.at("attempts") == 2);
        CHECK(contains(json.out, "***"));
      }

      for (const std::string format : {"text", "json", "nagios", "junit"})
        for (const std::string log_format : {"text", "json"}) {
          const auto r = run_triage({"run", "-c", config, "-f", format, "-v", "--log-format",
                                     log_format, "--plugin-dir", test_plugin_dir()},
                                    env);
          no_secret(r, "run -f " + format + " --log-format " + log_format);
          INFO(describe(r));
          CHECK(r.exit_code == 2);
          // -v: the runner's line about the retry names the instance, redacted.
          CHECK(contains(r.err, "retried[" + services().nginx.http_url("/status/500") +
                                    "?key=***]: attempt 1 was critical"));
        }

      for (const std::string format : {"text", "json", "nagios", "junit"}) {
        const auto out = dir.path() / (isolation + "-report." + format);
        const auto r = run_triage({"run", "-c", config, "-f", format, "-o", out.string(), "-v",
                                   "--plugin-dir", test_plugin_dir()},
                                  env);
        no_secret(r, "run -o " + out.string());
        const std::string written = read_file(out);
        INFO(written);
        CHECK_FALSE(written.empty());
        CHECK_FALSE(contains(written, secret));
      }

      for (const std::string format : {"text", "json"})
        for (const std::string log_format : {"text", "json"}) {
          const auto r = run_triage({"list", "-c", config, "-f", format, "-v", "--log-format",
                                     log_format, "--plugin-dir", test_plugin_dir()},
                                    env);
          no_secret(r, "list -f " + format + " --log-format " + log_format);
          INFO(describe(r));
          CHECK(r.exit_code == 0);
          CHECK(contains(r.out, "?key=***"));
          CHECK(contains(r.out, "?sig=***"));
        }
    }
  }
}

TEST_CASE("a secret from a file is used and shown nowhere", "[secrets][run]") {
  const std::string secret = make_secret();
  const TempDir dir;
  write_file(dir.path(), "token", secret + "\n");
  const std::string config = write_file(dir.path(), "file.yaml",
                                        "checks:\n"
                                        "  - id: header\n"
                                        "    plugin: network\n"
                                        "    type: http\n"
                                        "    params:\n"
                                        "      target: \"" +
                                            services().nginx.http_url("/echo-header") +
                                            "\"\n"
                                            "      headers: { X-Triage-Test: \"${file:token}\" }\n"
                                            "      body_contains: \"${file:token}\"\n")
                                 .string();
  const auto r = run_triage({"run", "-c", config, "-f", "json", "-v"});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(check_of(parse_json(r.out), "header").at("status") == "ok");
  CHECK_FALSE(contains(r.out, secret));
  CHECK_FALSE(contains(r.err, secret));
}

TEST_CASE("an unset variable is a config error that shows no value", "[secrets][errors]") {
  const std::string secret = make_secret();
  const TempDir dir;
  const std::string config =
      write_file(dir.path(), "missing.yaml",
                 "checks:\n"
                 "  - id: api\n"
                 "    plugin: network\n"
                 "    type: http\n"
                 "    params:\n"
                 "      target: \"http://127.0.0.1:1/?a=${env:TRIAGE_IT_SET}\"\n"
                 "      headers:\n"
                 "        Authorization: \"${env:TRIAGE_IT_UNSET}\"\n")
          .string();
  for (const std::string command : {"run", "list"}) {
    const auto r = run_triage({command, "-c", config}, RunEnv{{{"TRIAGE_IT_SET", secret}}});
    INFO(describe(r));
    CHECK(r.exit_code == 78);
    CHECK(contains(r.err, "triage: config error: " + config +
                              ":8: checks[api].params.headers.Authorization: environment "
                              "variable TRIAGE_IT_UNSET is not set"));
    CHECK_FALSE(contains(r.err, secret));
    CHECK_FALSE(contains(r.out, secret));
  }
}

TEST_CASE("only the checks a run selects need their variables and secrets",
          "[secrets][selection]") {
  const auto& nginx = services().nginx;
  const TempDir dir;
  // TRIAGE_IT_UNSET_X is set nowhere: check `needs-secret` and the second
  // target of `fan` cannot be resolved; `plain` needs nothing.
  const std::string config =
      write_file(dir.path(), "lazy.yaml",
                 "checks:\n"
                 "  - id: needs-secret\n"
                 "    plugin: network\n"
                 "    type: http\n"
                 "    tags: [secret]\n"
                 "    params:\n"
                 "      target: \"" +
                     nginx.http_url("/health") +
                     "\"\n"
                     "      headers: { Authorization: \"Bearer "
                     "${env:TRIAGE_IT_UNSET_X}\" }\n"
                     "  - id: plain\n"
                     "    plugin: network\n"
                     "    type: http\n"
                     "    tags: [plain]\n"
                     "    params: { target: \"" +
                     nginx.http_url("/status/500") +
                     "\" }\n"
                     "  - id: fan\n"
                     "    plugin: network\n"
                     "    type: http\n"
                     "    targets: [\"" +
                     nginx.http_url("/health") + "\", \"${env:TRIAGE_IT_UNSET_X}\"]\n")
          .string();

  // The ids a run reported; the run must have exited with `code`.
  auto ran = [&](const std::vector<std::string>& selection, int code) {
    std::vector<std::string> args{"run", "-c", config, "-f", "json"};
    args.insert(args.end(), selection.begin(), selection.end());
    const auto r = run_triage(args);
    INFO(describe(r));
    CHECK(r.exit_code == code);
    std::vector<std::string> ids;
    if (r.exit_code != code) return ids;
    const auto report = parse_json(r.out);
    CHECK(schema_errors(report).empty());
    for (const auto& c : report.at("checks")) ids.push_back(c.at("id").get<std::string>());
    return ids;
  };
  using Ids = std::vector<std::string>;

  // `plain` is critical (HTTP 500): the exit code is its status.
  CHECK(ran({"--only", "plain"}, 2) == Ids{"plain"});
  CHECK(ran({"--tag", "plain"}, 2) == Ids{"plain"});
  // A fan-out instance whose target resolved runs alone.
  const std::string health = "fan[" + nginx.http_url("/health") + "]";
  CHECK(ran({"--only", health}, 0) == Ids{health});
  {
    const auto r = run_triage({"list", "-c", config, "--tag", "plain"});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("\nplain  network.http  " + nginx.http_url("/status/500")) !=
          std::string::npos);
  }

  // Selecting what cannot be resolved is the config error, where it was
  // found, and nothing runs.
  const std::string params_error = "triage: config error: " + config +
                                   ":8: checks[needs-secret].params.headers.Authorization: "
                                   "environment variable TRIAGE_IT_UNSET_X is not set\n";
  const std::string target_error = "triage: config error: " + config +
                                   ":17: checks[fan].targets[1]: environment variable "
                                   "TRIAGE_IT_UNSET_X is not set\n";
  for (const auto& [args, error] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"run"}, params_error},
           {{"list"}, params_error},
           {{"run", "--tag", "secret"}, params_error},
           {{"run", "--only", "fan"}, target_error},
           {{"list", "--only", "fan*"}, target_error}}) {
    auto argv = args;
    argv.insert(argv.begin() + 1, {"-c", config});
    const auto r = run_triage(argv);
    INFO(describe(r));
    CHECK(r.exit_code == 78);
    CHECK(r.out.empty());
    CHECK(r.err == error);
  }
}

TEST_CASE("a ${var:...} value is shown in the report, an ${env:...} value is not",
          "[secrets][var]") {
  const std::string secret = make_secret();
  const std::string visible = "visible-" + std::to_string(getpid()) + ".example";
  const auto& nginx = services().nginx;
  const TempDir dir;
  const std::string port = std::to_string(nginx.http_port());
  const std::string config =
      write_file(dir.path(), "var.yaml",
                 "checks:\n"
                 "  - id: web\n"
                 "    plugin: network\n"
                 "    type: http\n"
                 "    params: { target: \"http://${var:TRIAGE_IT_HOST}:" +
                     port +
                     "/health?v=${var:TRIAGE_IT_VISIBLE}&key=${env:TRIAGE_IT_SECRET}\" }\n"
                     "  - id: echo\n"
                     "    plugin: c-echo\n"
                     "    type: echo\n"
                     "    params: { target: \"${var:TRIAGE_IT_VISIBLE}\", visible: "
                     "\"${var:TRIAGE_IT_VISIBLE}\", token: \"${env:TRIAGE_IT_SECRET}\" }\n"
                     "  - id: fan\n"
                     "    plugin: network\n"
                     "    type: http\n"
                     "    targets: [\"http://${var:TRIAGE_IT_HOST}:" +
                     port + "/health?site=${var:TRIAGE_IT_VISIBLE}\"]\n")
          .string();
  RunEnv env;
  env.set = {{"TRIAGE_IT_HOST", "127.0.0.1"},
             {"TRIAGE_IT_VISIBLE", visible},
             {"TRIAGE_IT_SECRET", secret}};
  const auto r =
      run_triage({"run", "-c", config, "-f", "json", "-v", "--plugin-dir", test_plugin_dir()}, env);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.out, secret));
  CHECK_FALSE(contains(r.err, secret));
  const auto report = parse_json(r.out);
  CHECK(schema_errors(report).empty());
  const auto& web = check_of(report, "web");
  CHECK(web.at("status") == "ok");
  CHECK(web.at("target") == "http://127.0.0.1:" + port + "/health?v=" + visible + "&key=***");
  const auto& echo = check_of(report, "echo");
  CHECK(echo.at("target") == visible);
  const std::string params = echo.at("attributes").at("params").get<std::string>();
  CHECK(contains(params, "\"visible\":\"" + visible + "\""));
  CHECK(contains(params, "\"token\":\"***\""));
  const std::string fan = "fan[http://127.0.0.1:" + port + "/health?site=" + visible + "]";
  CHECK(check_of(report, fan).at("status") == "ok");

  const auto listed = run_triage({"list", "-c", config, "--plugin-dir", test_plugin_dir()}, env);
  INFO(describe(listed));
  CHECK(listed.exit_code == 0);
  CHECK(contains(listed.out, fan + "  network.http"));
  CHECK(contains(listed.out, "?v=" + visible + "&key=***"));
  CHECK_FALSE(contains(listed.out, secret));
}
