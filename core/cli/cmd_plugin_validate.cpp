// `triage plugin validate FILE`: runs the conformance kit (core/conformance)
// on a plugin file and prints a check type × test table.
#include <spdlog/spdlog.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "triage/core/conformance.hpp"
#include "triage/core/duration.hpp"

namespace triage::cli {

namespace {

namespace conf = core::conformance;
using ojson = nlohmann::ordered_json;

constexpr const char* kHelp = R"(Usage: triage plugin validate FILE [options]

Runs the conformance kit on a plugin file, loaded in a plugin-host process
(a crash or hang ends that process, never triage), and prints a table of
check type × test with the reason of each failure. Exit code: 0 every test
passed; 1 a test failed; 64 bad usage; 70 the file cannot be loaded.

The tests:
  descriptor   name [a-z][a-z0-9_-]*, version MAJOR.MINOR[.PATCH][-pre],
               description, SDK version, ABI major of this triage, at least
               one check type, each named once and described
  schema       the params schema parses, its draft-07 keywords have values
               of the right type, it has "type": "object", a description
               for every property, and "required" names only declared ones
  params       with no params (when some are required), and with `target`
               (or the first required param) of the wrong type, the check
               ends unknown with a message
  crash        no call crashed its host (a signal, exit(), or an exception
               escaping to std::terminate)
  deadline     every call returned by its deadline + 250 ms, including one
               with a 300 ms deadline against a loopback listener that never
               answers; a check that overruns is killed with its host
  cancel       a call cancelled 100 ms in returns within 250 ms
  concurrency  for thread-safe types: 32 calls at once with the same params
               (deadline 5 × --timeout) all return, with the status
               one call alone gave
  limits       no call went past the core's output limits (summary 4 KiB,
               text 16 KiB, 256 metrics, 64 findings, 64 attributes)
  result       every call reported a status or an error, readably
  metrics      for types that declare their metrics (ABI 1.1): every metric
               emitted is declared; skipped for types that declare none

The calls use --params when it names the check type, else params made from
its schema: each required param gets its default, enum or example value, or
one of its type; names like target, url, host, port, server point at
127.0.0.1:1 (refused), names like path or file at the temp folder. Any status
is accepted for these; an unknown extra param must not crash the check.

Examples:
  triage plugin validate build/my-plugin.so
  triage plugin validate build/my-plugin.so --params samples.json -f json

)";

int print_text(const conf::Report& report) {
  std::vector<std::string> rows;
  std::size_t width = 12;
  for (const auto& r : report.results) {
    if (r.check_type == "(plugin)") continue;
    if (rows.empty() || rows.back() != r.check_type) rows.push_back(r.check_type);
    width = std::max(width, r.check_type.size() + 2);
  }
  const auto& plugin = report.plugin;
  std::cout << "plugin " << plugin.name << " " << plugin.version << " (ABI " << plugin.abi_major
            << "." << plugin.abi_minor << ", SDK " << plugin.sdk_version << ")\n";
  for (const auto& r : report.results)
    if (r.test == "descriptor") std::cout << "descriptor: " << conf::to_string(r.verdict) << "\n\n";
  std::cout << std::left << std::setw(static_cast<int>(width)) << "check type";
  for (std::size_t i = 0; i < std::size(conf::kTests); ++i)
    std::cout << (i + 1 < std::size(conf::kTests) ? std::string(conf::kTests[i]) + "  "
                                                  : std::string(conf::kTests[i]));
  std::cout << "\n";
  for (const auto& row : rows) {
    std::ostringstream line;
    line << std::left << std::setw(static_cast<int>(width)) << row;
    for (const char* t : conf::kTests) {
      std::string cell = "?";
      for (const auto& r : report.results)
        if (r.check_type == row && r.test == t) cell = std::string(conf::to_string(r.verdict));
      line << std::setw(static_cast<int>(std::string_view(t).size()) + 2) << cell;
    }
    std::string text = line.str();
    text.erase(text.find_last_not_of(' ') + 1);
    std::cout << text << "\n";
  }
  int failures = 0;
  std::string notes;
  for (const auto& r : report.results) {
    if (r.verdict == conf::Verdict::pass) continue;
    if (r.verdict == conf::Verdict::fail) ++failures;
    notes += "  " + std::string(conf::to_string(r.verdict)) + " " + r.check_type + " " + r.test +
             ": " + r.reason + "\n";
  }
  if (!notes.empty()) std::cout << "\n" << notes;
  std::cout << "\n"
            << (failures == 0 ? "PASS" : "FAIL") << ": " << report.results.size() << " tests, "
            << failures << " failed\n";
  return failures == 0 ? 0 : 1;
}

int print_json(const conf::Report& report, const std::string& file) {
  auto results = ojson::array();
  for (const auto& r : report.results) {
    ojson one{{"check_type", r.check_type},
              {"test", r.test},
              {"verdict", r.verdict == conf::Verdict::pass   ? "pass"
                          : r.verdict == conf::Verdict::fail ? "fail"
                                                             : "skip"}};
    if (!r.reason.empty()) one["reason"] = r.reason;
    results.push_back(std::move(one));
  }
  const auto& p = report.plugin;
  std::cout << ojson{{"file", file},
                     {"plugin",
                      {{"name", p.name},
                       {"version", p.version},
                       {"abi", std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor)},
                       {"sdk_version", p.sdk_version}}},
                     {"passed", report.passed()},
                     {"results", results}}
                   .dump(2)
            << "\n";
  return report.passed() ? 0 : 1;
}

// The command; cmd_plugin_validate below checks that what it printed reached stdout.
int plugin_validate_command(const std::vector<std::string>& args) {
  std::string file, format = "text", params_file, timeout_text = "2s";
  int memory_limit_mb = 2048;
  bool allow_insecure = false, help = false, verbose = false;
  po::options_description desc("Options");
  desc.add_options()("format,f", po::value(&format)->default_value("text")->value_name("FORMAT"),
                     "text or json")(
      "params", po::value(&params_file)->value_name("FILE"),
      "sample params per check type, a JSON object: {\"tcp\": {\"target\": \"db:5432\"}}")(
      "timeout", po::value(&timeout_text)->default_value("2s")->value_name("DURATION"),
      "deadline of each ordinary call")(
      "memory-limit-mb", po::value(&memory_limit_mb)->default_value(2048)->value_name("MB"),
      "address-space limit of the plugin host (0: none), so a runaway check cannot take the "
      "machine's memory")(
      "allow-insecure-plugins", po::bool_switch(&allow_insecure),
      "load the file even when users other than root or you could have modified it")(
      "verbose,v", po::bool_switch(&verbose), "log debug detail to stderr")(
      "help,h", po::bool_switch(&help), "show this help");
  if (auto stop = parse_one_arg({"plugin validate", kHelp, "file", "give the plugin FILE (a .so)"},
                                args, desc, file, help))
    return *stop;
  if (format != "text" && format != "json")
    return usage_error("plugin validate",
                       "unknown --format '" + format + "' (expected text or json)", desc);
  conf::Options options;
  const auto timeout = core::parse_duration(timeout_text);
  if (memory_limit_mb < 0)
    return usage_error("plugin validate", "--memory-limit-mb must be 0 or more", desc);
  if (!timeout || timeout->count() < 100)
    return usage_error("plugin validate",
                       "--timeout '" + timeout_text + "' is not a duration of at least 100ms",
                       desc);
  options.run_timeout = *timeout;
  if (!params_file.empty()) {
    std::ifstream in(params_file);
    if (!in) return usage_error("plugin validate", "cannot read --params " + params_file, desc);
    options.sample_params = nlohmann::json::parse(in, nullptr, false);
    if (options.sample_params.is_discarded() || !options.sample_params.is_object())
      return usage_error(
          "plugin validate",
          "--params " + params_file + ": expected a JSON object of check type → params object",
          desc);
    for (const auto& [type, params] : options.sample_params.items())
      if (!params.is_object())
        return usage_error(
            "plugin validate",
            "--params " + params_file + ": the params of '" + type + "' are not a JSON object",
            desc);
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    std::cerr << "triage plugin validate: " << file << ": "
              << (std::filesystem::exists(file, ec) ? "not a regular file" : "no such file")
              << "\n";
    return kExitSoftware;
  }
  Common common;
  common.verbose = verbose;
  if (auto stop = check_common("plugin validate", common, desc)) return *stop;
  setup_logging(common);
  options.host = core::default_host_options(allow_insecure);
  options.host.memory_limit_mb = memory_limit_mb;
  std::string reason;
  const auto report = conf::validate(file, options, reason);
  if (!report) {
    std::cerr << "triage plugin validate: " << file << ": " << reason << "\n";
    return kExitSoftware;
  }
  for (const auto& [type, _] : options.sample_params.items())
    if (!report->plugin.find(type))
      spdlog::warn("--params names check type '{}', which {} does not have", type,
                   report->plugin.name);
  return format == "json" ? print_json(*report, file) : print_text(*report);
}

}  // namespace

int cmd_plugin_validate(const std::vector<std::string>& args) {
  return finish_stdout(plugin_validate_command(args));
}

}  // namespace triage::cli
