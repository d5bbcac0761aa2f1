// The plugin conformance kit behind `triage plugin validate`: loads a plugin
// in a plugin-host process and checks that it is a good citizen — a well
// formed descriptor and params schemas, `unknown` with a message on bad
// params, no crash, deadlines and cancellation honoured, safe concurrent
// calls, output within the core's limits, only declared metrics emitted.
// docs/cli.md lists every test.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/core/plugin_host.hpp"
#include "triage/core/plugin_loader.hpp"

namespace triage::core::conformance {

// The tests, in the order they are reported.
inline constexpr const char* kTests[] = {"schema",      "params", "crash",  "deadline", "cancel",
                                         "concurrency", "limits", "result", "metrics"};

enum class Verdict { pass, fail, skip };
std::string_view to_string(Verdict v);

// One cell of the table: a check type (or "(plugin)" for the descriptor)
// and a test, with why it failed or was skipped.
struct TestResult {
  std::string check_type;
  std::string test;
  Verdict verdict = Verdict::pass;
  std::string reason;
};

struct Options {
  HostOptions host;
  // Sample params per check type ({"type": {...}}); types not named get
  // params generated from their schema.
  nlohmann::json sample_params = nlohmann::json::object();
  // The deadline of the ordinary runs, and the short one of the deadline run.
  std::chrono::milliseconds run_timeout{2000};
  std::chrono::milliseconds short_deadline{300};
  // How long after its deadline (or a cancel) a check may take to return.
  std::chrono::milliseconds grace{250};
  int concurrent_calls = 32;
};

struct Report {
  Plugin plugin;
  std::vector<TestResult> results;
  bool passed() const;
};

// Where the generated params point a check (a loopback endpoint).
struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 1;
};

// The problems of a descriptor (empty: well formed).
std::vector<std::string> descriptor_problems(const Plugin& plugin);

// The problems of a params schema (empty: valid). The schema must parse as
// JSON, give each draft-07 keyword a value of the right type (recursively),
// have "type": "object", give every property a non-empty description, and
// list only declared names in "required".
std::vector<std::string> schema_problems(std::string_view schema_text);

// Params with every required property of schema filled with a value of its
// type (its default, enum or example when it has one); names that look like
// a network target (target, url, host, port, server, address, endpoint)
// point at `to`, names that look like a path get a temporary folder.
nlohmann::json params_from_schema(const nlohmann::json& schema, const Endpoint& to);

// params with its most important required property (`target` when it is
// required, else the first required one) given a value of another type, for
// the `params` test; nullopt when the schema requires nothing of a testable
// type. Optional properties are never used: a check may ignore them.
std::optional<nlohmann::json> wrong_type_params(const nlohmann::json& params,
                                                const nlohmann::json& schema);

// params with its network-target-like values pointed at `to`.
nlohmann::json retarget(nlohmann::json params, const Endpoint& to);

// Runs every test on the plugin in file. Returns nullopt and sets reason
// when the plugin cannot be loaded.
std::optional<Report> validate(const std::filesystem::path& file, const Options& options,
                               std::string& reason);

}  // namespace triage::core::conformance
