// Fault tests: plugins that crash, hang, throw, flood, lie and fail to load,
// run through the real `triage` binary. One bad plugin must never take a run
// down: triage exits by itself with the right code, the report is valid
// against docs/report.schema.json, the healthy checks beside the bad one are
// `ok` with their metrics, the bad check says what happened, and no process
// is left behind.
//
// Which case runs in which isolation mode, and why (README.md says the same):
//
//   case                  process  in-process  why not in-process
//   segfault              yes      no          the signal kills triage itself
//   abort                 yes      no          SIGABRT kills triage itself
//   terminate             yes      no          std::terminate aborts triage itself
//   exit0                 yes      yes         in-process: status 70, never 0 (exit guard)
//   exit_thread           yes      yes         status 70 or the report's own status
//   underscore_exit       yes      no          _exit(3) ends triage itself
//   throw_std             yes      yes
//   throw_other           yes      yes
//   spin                  yes      yes         (abandoned at its deadline; the stuck
//   sleep                 yes      yes          thread stays until triage exits)
//   alloc                 yes      no          needs the host's RLIMIT_AS; in-process it
//                                              would grow triage up to its 8 GiB cap
//   flood                 yes      yes
//   huge_summary          yes      yes
//   bad_utf8              yes      yes
//   lie                   yes      yes
//   bad_numbers           yes      yes
//   bad_args              yes      yes
//   late_call (+ late_wait) yes    yes
//   fork_bomb_lite        yes      no          nothing kills the forked grandchild:
//                                              it would outlive triage by an hour
//   ignore_sigterm        yes      no          would make triage ignore SIGTERM
//   stdout_noise          yes      no          the plugin shares triage's stdout
//   10 segfaults: given   yes      no          a crash is fatal in-process
//     up after 3 crashes
//   crash beside another  yes      no          a crash is fatal in-process
//     plugin's checks
//   triage plugins on     yes      no          `triage plugins` always discovers in
//     the loader cases                         hosts (in-process refusals: next row)
//   large_descriptor run  yes      yes
//   refused plugin in     yes      yes
//     a config: exit 78
//   crash_in_init         yes      no          discovery in-process: triage crashes
//
// Every run has the test process as a child subreaper, so plugin hosts and
// their children orphaned by triage are re-parented to the test, which then
// proves none is left alive once triage has exited.
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <triage/plugin.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using triage::itest::check_of;
using triage::itest::describe;
using triage::itest::finding_titles;
using triage::itest::metric_of;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::recount;
using triage::itest::run_triage;
using triage::itest::RunEnv;
using triage::itest::RunResult;
using triage::itest::schema_errors;
using triage::itest::write_file;
using triage::test::TempDir;
using json = nlohmann::json;

namespace {

enum class Mode { process, in_process };

std::string name_of(Mode mode) {
  return mode == Mode::process ? "process" : "in-process";
}

const std::string kChaosDir = TRIAGE_CHAOS_PLUGIN_DIR;
const std::string kLoaderDir = kChaosDir + "/loader";
const std::string kCrashInInitDir = kChaosDir + "/crash-in-init";
const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD
const std::string kTruncatedMark = " [truncated]";
constexpr std::size_t kSummaryCap = 4096;
constexpr std::size_t kTextCap = 16384;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool ends_with(const std::string& text, const std::string& end) {
  return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

// ---- child processes --------------------------------------------------------

// Makes the test process a child subreaper, once: whatever triage leaves
// behind (a plugin host, a host's own child) becomes our child, not init's.
void become_subreaper() {
  static const int rc = ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  REQUIRE(rc == 0);
}

// The pids of our live children, with their command lines, from /proc.
std::map<pid_t, std::string> children_in_proc() {
  std::map<pid_t, std::string> out;
  const pid_t self = ::getpid();
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (name.empty() || !std::all_of(name.begin(), name.end(), digit)) continue;
    const std::string stat = read_file(it->path() / "stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid != self) continue;
    std::string cmdline = read_file(it->path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    out[static_cast<pid_t>(std::stol(name))] = "state " + state + ": " + cmdline;
  }
  return out;
}

struct Leftovers {
  int reaped = 0;                      // ended children reaped (orphans re-parented to us)
  std::vector<std::string> survivors;  // still alive after the wait: a failure
};

// Reaps every child that has ended, polling for up to `limit` while some are
// still alive (a SIGKILL'd process needs a moment to die), until waitpid says
// there are none (ECHILD). What is still alive then is described, killed by
// its pid and reaped, so that one failure does not leak into the next test.
Leftovers reap_children(std::chrono::milliseconds limit) {
  Leftovers result;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      ++result.reaped;
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) return result;  // ECHILD: no child at all
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (const auto& [pid, what] : children_in_proc()) {
    result.survivors.push_back("pid " + std::to_string(pid) + " (" + what + ")");
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  pid_t pid = 0;
  while ((pid = ::waitpid(-1, nullptr, WNOHANG)) > 0) ++result.reaped;
  // A child that ended between the last wait and the /proc scan is no failure.
  if (result.survivors.empty() && !(pid < 0 && errno == ECHILD))
    result.survivors.push_back("a child that /proc did not show");
  return result;
}

void check_no_children_left() {
  const Leftovers left = reap_children(std::chrono::seconds(5));
  std::string survivors;
  for (const auto& s : left.survivors) survivors += "\n  " + s;
  INFO("processes left alive after triage exited (killed now):" << survivors);
  CHECK(left.survivors.empty());
}

// ---- the triage binary ------------------------------------------------------

// True when `triage <command> --help` offers --isolation.
bool supports_isolation(const std::string& command) {
  static std::map<std::string, bool> known;
  const auto it = known.find(command);
  if (it != known.end()) return it->second;
  const auto r = run_triage({command, "--help"});
  return known[command] = contains(r.out, "--isolation");
}

// Process-mode cases need process isolation, which `triage run --help`
// announces with --isolation; without it they fail, never skip.
void require_process_isolation() {
  INFO("`triage run --help` does not list --isolation: this build has no process isolation");
  REQUIRE(supports_isolation("run"));
}

// `--isolation MODE` for `triage run`. An in-process case without the option
// runs on the config's `defaults.isolation: in-process` alone; a process case
// without it fails.
std::vector<std::string> isolation_args(Mode mode) {
  if (mode == Mode::process) require_process_isolation();
  if (!supports_isolation("run")) return {};
  return {"--isolation", name_of(mode)};
}

int exit_code_of(const std::string& status) {
  return status == "warning" ? 1 : status == "critical" ? 2 : status == "unknown" ? 3 : 0;
}

// Runs `triage run --plugin-dir <plugin_dir> --config <config> --format json
// <extra...>` as the test process's child subreaper, with the config written
// to dir, and checks what every run must satisfy: triage ended by itself
// (the watchdog did not have to kill it) and left no process behind.
// `context` says what was run in failure messages.
RunResult run_with_config(const TempDir& dir, const std::string& plugin_dir,
                          const std::string& config, const std::vector<std::string>& extra,
                          const std::string& context, const RunEnv& env = {}) {
  become_subreaper();
  const auto config_file = write_file(dir.path(), "config.yaml", config);
  std::vector<std::string> args{"run", "--plugin-dir", plugin_dir, "--config",
                                config_file.string()};
  // The JSON report on stdout, unless it goes to an --output file (then
  // stdout stays empty: -f is only for stdout).
  if (std::find(extra.begin(), extra.end(), "--output") == extra.end())
    args.insert(args.end(), {"--format", "json"});
  args.insert(args.end(), extra.begin(), extra.end());
  const RunResult r = run_triage(args, env);
  INFO(context << "\n" << describe(r));
  check_no_children_left();
  REQUIRE(r.exit_code != -1);
  return r;
}

struct Run {
  RunResult result;
  json report;
};

// Runs `triage run` on a config with the chaos plugins, a JSON report in a
// file (or on stdout), and checks what every run must satisfy: what
// run_with_config checks, `expected_exit` when given, and a valid and
// consistent report (the exit code is its worst status).
Run run_config(Mode mode, const std::string& config, std::optional<int> expected_exit,
               bool report_on_stdout = false) {
  become_subreaper();
  {
    INFO("children of the test process before triage started");
    const Leftovers before = reap_children(std::chrono::seconds(5));
    CHECK(before.survivors.empty());
  }
  const TempDir dir;
  const auto report_file = dir.path() / "report.json";
  std::vector<std::string> extra;
  if (!report_on_stdout) extra = {"--output", report_file.string()};
  const auto isolation = isolation_args(mode);
  extra.insert(extra.end(), isolation.begin(), isolation.end());
  RunEnv env;
  env.limit = std::chrono::seconds(60);

  Run run;
  const std::string context = "isolation " + name_of(mode) + "\nconfig:\n" + config;
  run.result = run_with_config(dir, kChaosDir, config, extra, context, env);
  INFO(context << "\n" << describe(run.result));
  if (expected_exit) CHECK(run.result.exit_code == *expected_exit);
  if (!report_on_stdout) CHECK(run.result.out.empty());
  const std::string text = report_on_stdout ? run.result.out : read_file(report_file);
  run.report = parse_json(text);
  INFO("report:\n" << run.report.dump(2));
  CHECK(schema_errors(run.report) == "");
  CHECK(run.report.at("summary").at("counts") == recount(run.report));
  CHECK(exit_code_of(run.report.at("summary").at("status")) == run.result.exit_code);
  return run;
}

// The network plugin's loopback check, which every run has beside the chaos.
constexpr const char* kLoopbackCheck = R"(  - id: loopback
    plugin: network
    type: loopback
    params: { target: 127.0.0.1 }
)";

// The healthy checks every case config has beside its chaos check.
const std::string kHealthyChecks = std::string(R"(  - id: chaos-healthy
    plugin: chaos
    type: healthy
)") + kLoopbackCheck;

// One chaos check first, then the healthy ones. With one job they run one
// after the other in that order: the chaos check is alone in flight when it
// misbehaves, and the healthy chaos check after it needs the run (and in
// process mode a restarted host) to carry on.
std::string case_config(Mode mode, const std::string& type, const std::string& plugins = "") {
  return "version: 1\n"
         "defaults: { timeout: 10s, jobs: 1, isolation: " +
         name_of(mode) + " }\n" + plugins +
         "checks:\n"
         "  - id: victim\n"
         "    plugin: chaos\n"
         "    type: " +
         type +
         "\n"
         "    timeout: 1s\n" +
         kHealthyChecks;
}

// A config's first lines, up to its `checks:` key: a 10 s timeout, `jobs`
// at once, in this isolation mode.
std::string config_head(Mode mode, int jobs) {
  return "version: 1\ndefaults: { timeout: 10s, jobs: " + std::to_string(jobs) +
         ", isolation: " + name_of(mode) + " }\nchecks:\n";
}

void check_healthy(const json& report) {
  const auto& healthy = check_of(report, "chaos-healthy");
  INFO("chaos-healthy: " << healthy.dump());
  CHECK(healthy.at("status") == "ok");
  CHECK(healthy.at("summary") == "healthy");
  CHECK(healthy.at("error").is_null());
  CHECK(healthy.at("truncated") == false);
  const auto* value = metric_of(healthy, "value");
  REQUIRE(value != nullptr);
  CHECK(value->at("value") == 1);
  CHECK(value->at("warning") == "2");
  CHECK(value->at("critical") == "3");
  CHECK(healthy.at("attributes").at("plugin") == "chaos");

  const auto& loopback = check_of(report, "loopback");
  INFO("loopback: " << loopback.dump());
  CHECK(loopback.at("status") == "ok");
  CHECK(loopback.at("error").is_null());
  const auto* latency = metric_of(loopback, "latency_ms");
  REQUIRE(latency != nullptr);
  CHECK(latency->at("value").get<double>() >= 0);
  CHECK(latency->at("unit") == "ms");
}

// Runs one chaos check type beside the healthy checks and returns its result.
json run_case(Mode mode, const std::string& type, std::optional<int> expected_exit,
              const std::string& plugins = "") {
  const Run run = run_config(mode, case_config(mode, type, plugins), expected_exit);
  INFO("isolation " << name_of(mode) << ", report:\n" << run.report.dump(2));
  CHECK(run.report.at("checks").size() == 3);
  check_healthy(run.report);
  return check_of(run.report, "victim");
}

std::string error_of(const json& check) {
  return check.at("error").is_string() ? check.at("error").get<std::string>() : std::string();
}

// Runs one chaos check type that must end the run unknown (exit 3), its
// check unknown with each of `parts` in its error.
void unknown_case(Mode mode, const std::string& type, const std::vector<std::string>& parts) {
  const json victim = run_case(mode, type, 3);
  INFO("victim: " << victim.dump(2));
  CHECK(victim.at("status") == "unknown");
  for (const auto& part : parts) CHECK(contains(error_of(victim), part));
}

// ---- text -------------------------------------------------------------------

// Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool valid_utf8(const std::string& text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    std::size_t len = c < 0x80             ? 1
                      : (c & 0xE0) == 0xC0 ? 2
                      : (c & 0xF0) == 0xE0 ? 3
                      : (c & 0xF8) == 0xF0 ? 4
                                           : 0;
    if (len == 0 || i + len > n) return false;
    unsigned cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

// The first control character in valid UTF-8 text (C0 but newline and tab,
// DEL, C1 such as U+009B, the 8-bit CSI), as "U+XXXX at byte N"; "" for none.
// The UTF-8 tail bytes (after 0xE2) of U+200E/U+200F, U+2028/U+2029,
// U+202A–U+202E and U+2066–U+2069.
bool layout_control(unsigned char b1, unsigned char b2) {
  return (b1 == 0x80 && (b2 == 0x8E || b2 == 0x8F || (b2 >= 0xA8 && b2 <= 0xAE))) ||
         (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9);
}

std::string control_character(const std::string& text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned cp = s[i];
    if (s[i] == 0xC2 && i + 1 < text.size())
      cp = s[i + 1];  // U+0080..U+00BF
    else if (s[i] >= 0x80)
      continue;
    const bool control = (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F ||
                         (s[i] == 0xC2 && cp >= 0x80 && cp <= 0x9F);
    if (s[i] == 0xE2 && i + 2 < text.size() && layout_control(s[i + 1], s[i + 2]))
      return "a bidi or line-separator control at byte " + std::to_string(i);
    if (control) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "%04X", cp & 0xFFu);
      return "U+" + std::string(hex) + " at byte " + std::to_string(i);
    }
  }
  return {};
}

// Every string a plugin put into a check, with where it is.
std::vector<std::pair<std::string, std::string>> plugin_texts(const json& check) {
  std::vector<std::pair<std::string, std::string>> out{{"summary", check.at("summary")}};
  if (check.at("error").is_string()) out.emplace_back("error", check.at("error"));
  for (const auto& m : check.at("metrics")) {
    out.emplace_back("metric name", m.at("name"));
    out.emplace_back("metric unit", m.at("unit"));
  }
  for (const auto& f : check.at("findings"))
    for (const char* field : {"title", "detail", "remediation"})
      out.emplace_back(std::string("finding ") + field, f.at(field));
  for (const auto& [key, value] : check.at("attributes").items()) {
    out.emplace_back("attribute key", key);
    out.emplace_back("attribute value", value);
  }
  return out;
}

// ---- the cases --------------------------------------------------------------

// A crash ends the host: the check in flight is unknown, naming the plugin
// and the signal or exit status; the checks after it run in a new host.
void crash_cases() {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"segfault", "SIGSEGV"},
      {"abort", "SIGABRT"},
      {"terminate", "SIGABRT"},
      {"exit0", "called exit()"},
      {"underscore_exit", "exited with status 3"}};
  for (const auto& [type, how] : cases) {
    DYNAMIC_SECTION(type) {
      unknown_case(Mode::process, type, {"chaos", how});
    }
  }
}

void throw_cases(Mode mode) {
  SECTION("throw_std: the exception's message") {
    unknown_case(mode, "throw_std", {"chaos: runtime_error thrown on purpose"});
  }
  SECTION("throw_other: a non-standard exception") {
    unknown_case(mode, "throw_other", {"non-standard exception"});
  }
}

// A check that ignores its deadline is unknown "timed out after 1s" and the
// run goes on; in process mode its host is killed with everything it forked.
void hang_cases(Mode mode) {
  std::vector<std::string> types{"spin", "sleep"};
  if (mode == Mode::process) types.insert(types.end(), {"fork_bomb_lite", "ignore_sigterm"});
  for (const auto& type : types) {
    DYNAMIC_SECTION(type) {
      unknown_case(mode, type, {"timed out after 1s"});
    }
  }
}

void flood_case(Mode mode) {
  const json victim = run_case(mode, "flood", 0);
  INFO("victim: " << victim.dump(2).substr(0, 4000));
  CHECK(victim.at("status") == "ok");
  CHECK(victim.at("summary") == "flooded");
  CHECK(victim.at("truncated") == true);
  CHECK(victim.at("metrics").size() == 256);
  CHECK(victim.at("findings").size() == 64);
  CHECK(victim.at("attributes").size() == 64);
  // The first ones are kept, in order.
  CHECK(victim.at("metrics").at(0).at("name") == "flood_0");
  CHECK(victim.at("findings").at(0).at("title") == "flood finding 0");
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// Log lines are capped per check (100) and per plugin in a run (1,000); the
// rest are refused with TRIAGE_RC_LIMIT and counted in one line each.
void log_flood_case(Mode mode) {
  SECTION("one check: 100 lines, then one line saying how many were suppressed") {
    const Run run = run_config(mode, case_config(mode, "log_flood"), 0);
    const json& victim = check_of(run.report, "victim");
    INFO(victim.dump());
    CHECK(victim.at("summary") == "1900 of 2000 lines refused");
    CHECK(count_of(run.result.err, "log_flood line ") == 100);
    CHECK(contains(run.result.err, "victim: 1900 log lines suppressed (at most 100 per check)"));
  }
  SECTION("many checks: 1,000 lines for the plugin in the run") {
    const std::string config = config_head(mode, 4) +
                               "  - id: flood\n"
                               "    plugin: chaos\n"
                               "    type: log_flood\n"
                               "    params: { lines: 100 }\n"
                               "    targets: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o]\n";
    const Run run = run_config(mode, config, 0);
    // In process mode the host's own lines (it says which file it loaded)
    // count toward the plugin's budget too.
    const std::size_t logged = count_of(run.result.err, "log_flood line ");
    CHECK(logged <= 1000);
    CHECK(logged >= 990);
    CHECK(contains(run.result.err, "plugin chaos: " + std::to_string(1500 - logged) +
                                       " log lines suppressed (at most 1000 per plugin in a run)"));
  }
}

// A daemon (setsid, double fork) a check leaves behind holds triage's
// stdout and stderr in-process, its host's /dev/null in process mode; either
// way it dies with the run: run_with_config proves no process is left (this
// test is the subreaper it would come back to), and `triage run | jq` ends
// (the report on stdout is read to its end).
void daemon_case(Mode mode) {
  const Run run = run_config(mode, case_config(mode, "daemon"), 0, true);
  CHECK(check_of(run.report, "victim").at("summary") == "left a daemon behind");
  check_healthy(run.report);
}

void huge_summary_case(Mode mode) {
  const json victim = run_case(mode, "huge_summary", 0);
  const std::string summary = victim.at("summary");
  INFO("summary: " << summary.size() << " bytes, starting " << summary.substr(0, 60));
  CHECK(victim.at("status") == "ok");
  CHECK(victim.at("truncated") == true);
  CHECK(summary.size() <= kSummaryCap + kTruncatedMark.size());
  CHECK(summary.size() > kSummaryCap - 3);
  CHECK(ends_with(summary, kTruncatedMark));
  CHECK(summary.rfind("\xE2\x82\xAC\xE2\x82\xAC", 0) == 0);
  // Cut between two characters, never inside one.
  CHECK_FALSE(contains(summary, kReplacement));
  REQUIRE(victim.at("findings").size() == 1);
  const std::string detail = victim.at("findings").at(0).at("detail");
  CHECK(detail.size() <= kTextCap + kTruncatedMark.size());
  CHECK(ends_with(detail, kTruncatedMark));
  const std::string attribute = victim.at("attributes").at("huge");
  CHECK(attribute.size() <= kTextCap + kTruncatedMark.size());
  CHECK(ends_with(attribute, kTruncatedMark));
}

void truncation_cases(Mode mode) {
  SECTION("flood") {
    flood_case(mode);
  }
  SECTION("huge_summary") {
    huge_summary_case(mode);
  }
}

void bad_utf8_case(Mode mode) {
  const Run run = run_config(mode, case_config(mode, "bad_utf8"), 0);
  check_healthy(run.report);
  const json& victim = check_of(run.report, "victim");
  INFO("victim: " << victim.dump(2));
  CHECK(victim.at("status") == "ok");
  CHECK(contains(victim.at("summary"), kReplacement));
  CHECK(contains(victim.at("summary"), "utf8"));
  CHECK(contains(victim.at("summary"), " end"));  // nothing after the NUL was lost
  // Bidi and line-separator controls are visible, not live.
  CHECK(contains(victim.at("summary"), "rtl <U+202E>x, isolate <U+2066>y, line sep <U+2028>z"));
  CHECK(contains(run.result.err, "rtl <U+202E>x"));
  CHECK(control_character(run.result.err).empty());
  REQUIRE(victim.at("findings").size() == 1);
  CHECK(contains(victim.at("findings").at(0).at("title"), kReplacement));
  CHECK(contains(victim.at("findings").at(0).at("detail"), kReplacement));
  REQUIRE(victim.at("metrics").size() == 1);
  CHECK(contains(victim.at("metrics").at(0).at("name"), kReplacement));
  REQUIRE(victim.at("attributes").size() == 1);
  CHECK(contains(victim.at("attributes").begin().key(), kReplacement));
  for (const auto& [where, text] : plugin_texts(victim)) {
    INFO(where << ": " << json(text).dump());
    CHECK(valid_utf8(text));
    const std::string control = control_character(text);
    INFO("control character: " << control);
    CHECK(control.empty());
  }
}

void lie_case(Mode mode) {
  const json victim = run_case(mode, "lie", 2);
  INFO("victim: " << victim.dump(2));
  CHECK(victim.at("status") == "critical");
  const auto* rate = metric_of(victim, "error_rate_pct");
  REQUIRE(rate != nullptr);
  CHECK(rate->at("status") == "critical");
  CHECK(rate->at("critical") == "5");
  CHECK(victim.at("findings").size() == 1);
  CHECK(victim.at("findings").at(0).at("severity") == "critical");
}

// NaN and infinite metrics must not make the report invalid JSON or break
// its schema; an out-of-range status and severity are refused.
void bad_numbers_case(Mode mode) {
  const json victim = run_case(mode, "bad_numbers", std::nullopt);
  INFO("victim: " << victim.dump(2));
  // The non-finite values may be refused or kept as numbers, but they must not
  // cost the check its other results.
  CHECK(error_of(victim) == "");
  CHECK(metric_of(victim, "bad_thresholds") != nullptr);
  for (const auto& m : victim.at("metrics")) {
    INFO(m.dump());
    CHECK(m.at("value").is_number());
  }
  const std::string invalid = std::to_string(TRIAGE_RC_INVALID_ARGUMENT);
  CHECK(contains(victim.at("summary"), "set_status(42) returned " + invalid));
  CHECK(contains(victim.at("summary"), "add_finding(severity 7) returned " + invalid));
  CHECK(victim.at("findings").empty());
}

void bad_args_case(Mode mode) {
  const json victim = run_case(mode, "bad_args", 0);
  INFO("victim: " << victim.dump(2));
  CHECK(victim.at("status") == "ok");
  CHECK(contains(victim.at("summary"), "invalid calls were refused"));
}

// ---- the loader cases -------------------------------------------------------

// The line of text that contains `part`, or "".
std::string line_with(const std::string& text, const std::string& part) {
  const auto at = text.find(part);
  if (at == std::string::npos) return {};
  const auto begin = text.rfind('\n', at);
  const auto end = text.find('\n', at);
  const auto from = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(from, end == std::string::npos ? std::string::npos : end - from);
}

// How many lines of text contain `part`.
std::size_t lines_with(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) n += contains(line, part) ? 1 : 0;
  return n;
}

// A check whose detached thread calls the host with its handle after run()
// returned (late_call), while the run goes on (late_wait waits for those
// calls): every late call is refused, none changes the finished result,
// nothing crashes, and the stale calls are logged once for the check.
void late_call_case(Mode mode) {
  const std::string config = config_head(mode, 4) +
                             "  - id: late\n"
                             "    plugin: chaos\n"
                             "    type: late_call\n"
                             "  - id: waiter\n"
                             "    plugin: chaos\n"
                             "    type: late_wait\n" +
                             kHealthyChecks;
  const Run run = run_config(mode, config, 0);
  INFO("report:\n" << run.report.dump(2) << "\nstderr:\n" << run.result.err);
  check_healthy(run.report);
  const auto& late = check_of(run.report, "late");
  CHECK(late.at("status") == "ok");
  CHECK(late.at("summary") == "returned on time");
  CHECK(late.at("error").is_null());
  CHECK(late.at("findings").empty());
  CHECK(late.at("attributes").empty());
  REQUIRE(late.at("metrics").size() == 1);
  CHECK(late.at("metrics").at(0).at("name") == "on_time");
  CHECK(check_of(run.report, "waiter").at("summary") == "the late calls were made");
  CHECK(contains(run.result.err, "late_call: 300 of 300 late calls refused"));
  CHECK_FALSE(contains(run.result.err, "a late line"));
  CHECK(lines_with(run.result.err, "check late called the host after its run() returned") == 1);
}

// The files of chaos-plugins/loader the loader must refuse, and a part of
// the reason each must be given.
std::vector<std::pair<std::string, std::vector<std::string>>> refused_loader_cases() {
  return {
      {"abi_major2.so", {"ABI 2"}},
      {"small_descriptor.so",
       {std::to_string(offsetof(triage_plugin_descriptor, init)) + " bytes",
        std::to_string(sizeof(triage_plugin_descriptor))}},
      {"no_entry.so", {TRIAGE_PLUGIN_ENTRY_V1}},
      {"null_descriptor.so", {"no descriptor"}},
      {"bad_magic.so", {"magic"}},
      {"init_fails.so", {"init"}},
      {"not_elf.so", {"not a loadable shared library"}},
  };
}

// `triage plugins`, which discovers through plugin hosts (it has no config
// to ask for in-process).
RunResult run_plugins(const std::vector<std::string>& dirs,
                      const std::vector<std::string>& extra = {}) {
  become_subreaper();
  require_process_isolation();
  std::vector<std::string> args{"plugins"};
  for (const auto& d : dirs) args.insert(args.end(), {"--plugin-dir", d});
  args.insert(args.end(), extra.begin(), extra.end());
  RunEnv env;
  env.limit = std::chrono::seconds(60);
  auto r = run_triage(args, env);
  INFO(describe(r));
  check_no_children_left();
  REQUIRE(r.exit_code != -1);
  return r;
}

// Each refused file of chaos-plugins/loader is named on exactly one line of
// text, with "refused" and its reason.
void check_refusals(const std::string& text) {
  for (const auto& [file, reasons] : refused_loader_cases()) {
    const std::string path = kLoaderDir + "/" + file;
    const std::string line = line_with(text, path);
    INFO(file << ": " << line);
    CHECK(lines_with(text, path) == 1);
    CHECK(contains(line, "refused"));
    for (const auto& reason : reasons) CHECK(contains(line, reason));
  }
}

void loader_listing() {
  const RunResult r = run_plugins({kLoaderDir});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  check_refusals(r.out);
  // The plugin of a future minor is listed, not refused.
  CHECK(contains(r.out, "large-descriptor 0.1.0"));
  CHECK(contains(r.out, "    ping  "));
  CHECK_FALSE(contains(line_with(r.out, "large_descriptor.so"), "refused"));

  const RunResult j = run_plugins({kLoaderDir}, {"--format", "json"});
  INFO(describe(j));
  CHECK(j.exit_code == 0);
  const json doc = parse_json(j.out);
  std::map<std::string, std::string> refused;
  for (const auto& entry : doc.at("refused"))
    refused[std::filesystem::path(entry.at("file").get<std::string>()).filename().string()] =
        entry.at("reason");
  CHECK(refused.size() == refused_loader_cases().size());
  for (const auto& [file, reasons] : refused_loader_cases()) {
    INFO(file);
    REQUIRE(refused.count(file) == 1);
    for (const auto& reason : reasons) CHECK(contains(refused[file], reason));
  }
  REQUIRE(doc.at("plugins").size() >= 1);
  bool found = false;
  for (const auto& p : doc.at("plugins"))
    if (p.at("name") == "large-descriptor") {
      found = true;
      CHECK(p.at("abi") == "1.7");
      REQUIRE(p.at("check_types").size() == 1);
      CHECK(p.at("check_types").at(0).at("name") == "ping");
    }
  CHECK(found);
}

// A plugin built for a future 1.x minor, with a larger descriptor and check
// type, loads and runs; the broken files beside it are refused, each named
// with its reason in a warning, and the run goes on.
void large_descriptor_run(Mode mode) {
  const TempDir dir;
  const std::string config =
      "version: 1\n"
      "defaults: { timeout: 10s, isolation: " +
      name_of(mode) +
      " }\n"
      "checks:\n"
      "  - id: future\n"
      "    plugin: large-descriptor\n"
      "    type: ping\n" +
      kLoopbackCheck;
  const std::string context = "isolation " + name_of(mode);
  const auto r = run_with_config(dir, kLoaderDir, config, isolation_args(mode), context);
  INFO(context << "\n" << describe(r));
  CHECK(r.exit_code == 0);
  const json report = parse_json(r.out);
  CHECK(schema_errors(report) == "");
  const auto& future = check_of(report, "future");
  CHECK(future.at("status") == "ok");
  CHECK(future.at("summary") == "a future 1.x plugin loaded and ran");
  const auto* bytes = metric_of(future, "descriptor_bytes");
  REQUIRE(bytes != nullptr);
  CHECK(bytes->at("value") == sizeof(triage_plugin_descriptor) + 64);
  CHECK(check_of(report, "loopback").at("status") == "ok");
  check_refusals(r.err);
}

// A config naming a plugin that was refused is a config error (78) naming it.
void refused_plugin_in_config(Mode mode, const std::string& dir, const std::string& plugin) {
  const TempDir tmp;
  const std::string config =
      "version: 1\n"
      "defaults: { isolation: " +
      name_of(mode) +
      " }\n"
      "checks:\n"
      "  - id: refused\n"
      "    plugin: " +
      plugin +
      "\n"
      "    type: ping\n";
  const std::string context = "isolation " + name_of(mode) + ", plugin " + plugin;
  const auto r = run_with_config(tmp, dir, config, isolation_args(mode), context);
  INFO(context << "\n" << describe(r));
  CHECK(r.exit_code == 78);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "config error"));
  CHECK(contains(r.err, "'" + plugin + "'"));
}

void refused_plugins_in_config(Mode mode) {
  for (const std::string plugin : {"abi-major2", "small-descriptor", "bad-magic", "init-fails"}) {
    DYNAMIC_SECTION(plugin) {
      refused_plugin_in_config(mode, kLoaderDir, plugin);
    }
  }
}

}  // namespace

// ---- both isolation modes ---------------------------------------------------

// A case that runs in both isolation modes is two test cases: "process: <what>"
// tagged [chaos][process]<tags> and "in-process: <what>" tagged
// [chaos][in-process]<tags>, each calling case_fn with its mode.
#define CHAOS_TEST_CASE_IN_BOTH_MODES(what, tags, case_fn)     \
  TEST_CASE("process: " what, "[chaos][process]" tags) {       \
    case_fn(Mode::process);                                    \
  }                                                            \
  TEST_CASE("in-process: " what, "[chaos][in-process]" tags) { \
    case_fn(Mode::in_process);                                 \
  }

CHAOS_TEST_CASE_IN_BOTH_MODES("a check that throws is unknown with the exception's message", "",
                              throw_cases)
CHAOS_TEST_CASE_IN_BOTH_MODES("output past the limits is capped and marked truncated", "",
                              truncation_cases)
CHAOS_TEST_CASE_IN_BOTH_MODES("plugin log lines are capped per check and per plugin", "[log]",
                              log_flood_case)
CHAOS_TEST_CASE_IN_BOTH_MODES("a daemon a check leaves behind dies with the run", "[processes]",
                              daemon_case)
CHAOS_TEST_CASE_IN_BOTH_MODES("invalid UTF-8 and control characters never reach the report", "",
                              bad_utf8_case)
CHAOS_TEST_CASE_IN_BOTH_MODES("a plugin that says ok over a critical metric is critical", "",
                              lie_case)
CHAOS_TEST_CASE_IN_BOTH_MODES("NaN, infinities and out-of-range values keep the report valid", "",
                              bad_numbers_case)
CHAOS_TEST_CASE_IN_BOTH_MODES("the host API refuses invalid arguments without crashing", "",
                              bad_args_case)
CHAOS_TEST_CASE_IN_BOTH_MODES("host calls with a handle whose run() returned are refused", "",
                              late_call_case)
CHAOS_TEST_CASE_IN_BOTH_MODES("a plugin built for a future 1.x minor loads and runs", "[loader]",
                              large_descriptor_run)
CHAOS_TEST_CASE_IN_BOTH_MODES("a config using a refused plugin is a config error", "[loader]",
                              refused_plugins_in_config)

// ---- process isolation only -------------------------------------------------

TEST_CASE("process: a crashing plugin host makes its check unknown naming the plugin and how",
          "[chaos][process]") {
  crash_cases();
}

TEST_CASE(
    "process: a check that ignores its deadline is timed out and its host killed, "
    "grandchildren and all",
    "[chaos][process]") {
  hang_cases(Mode::process);
}

TEST_CASE("process: a check that allocates without end fails under the host's memory limit",
          "[chaos][process]") {
  const json victim =
      run_case(Mode::process, "alloc", 3, "plugins: { chaos: { memory_limit_mb: 256 } }\n");
  INFO("victim: " << victim.dump(2));
  CHECK(victim.at("status") == "unknown");
  const std::string error = error_of(victim);
  // Either new threw (the wrapper reports std::bad_alloc, which the host
  // names as the limit) or the host died of the limit (reported as a crash
  // of the plugin).
  const bool threw =
      contains(error, "memory limit reached (memory_limit_mb 256)") && contains(error, "bad_alloc");
  const bool died =
      contains(error, "chaos") && (contains(error, "SIG") || contains(error, "exited with"));
  CHECK((threw || died));
}

TEST_CASE("process: a host under memory_limit_mb runs many checks at once within its limit",
          "[chaos][process][memory]") {
  // 40 threads at once: with glibc's default 8 MiB stacks and 64 MiB malloc
  // arenas, 256 MiB of address space was spent before any check allocated,
  // and thread creation aborted the host.
  std::string targets;
  for (int i = 0; i < 40; ++i) targets += (i ? ", n" : "n") + std::to_string(i);
  const std::string config =
      "version: 1\n"
      "defaults: { timeout: 10s, jobs: 64, isolation: process }\n"
      "plugins: { chaos: { memory_limit_mb: 256 } }\n"
      "checks:\n"
      "  - { id: nap, plugin: chaos, type: nap, params: { ms: 300 }, "
      "targets: [" +
      targets + "] }\n";
  const Run run = run_config(Mode::process, config, 0);
  CHECK(run.report.at("summary").at("counts").at("ok") == 40);
  CHECK_FALSE(contains(run.result.err, "host crashed"));
}

TEST_CASE("in-process: memory_limit_mb cannot apply, and triage says so",
          "[chaos][in-process][memory]") {
  const std::string config =
      "version: 1\n"
      "defaults: { timeout: 10s, isolation: in-process }\n"
      "plugins: { chaos: { memory_limit_mb: 256 } }\n"
      "checks:\n"
      "  - { id: healthy, plugin: chaos, type: healthy }\n";
  const Run run = run_config(Mode::in_process, config, 0);
  CHECK(contains(run.result.err,
                 "plugin chaos: memory_limit_mb 256 is ignored: the plugin runs in-process"));
}

TEST_CASE("process: what a plugin writes to stdout never reaches triage's stdout",
          "[chaos][process]") {
  // The report goes to stdout here: it must parse, with nothing around it.
  const Run run = run_config(Mode::process, case_config(Mode::process, "stdout_noise"), 0, true);
  check_healthy(run.report);
  const json& victim = check_of(run.report, "victim");
  INFO("victim: " << victim.dump(2));
  CHECK(victim.at("status") == "ok");
  CHECK(victim.at("summary") == "made some noise");
  CHECK_FALSE(contains(run.result.out, "chaos junk"));
}

TEST_CASE("process: a host that crashes on every check is given up after 3 crashes",
          "[chaos][process]") {
  std::string config =
      "version: 1\n"
      "defaults: { timeout: 10s, jobs: 1, isolation: process }\n"
      "checks:\n";
  for (int i = 1; i <= 10; ++i)
    config += "  - id: crash-" + std::to_string(i) +
              "\n"
              "    plugin: chaos\n"
              "    type: segfault\n"
              "    timeout: 1s\n";
  // Another plugin's host is not given up with it.
  config +=
      "  - id: twin-healthy\n"
      "    plugin: chaos-twin\n"
      "    type: healthy\n";
  config += kLoopbackCheck;
  const Run run = run_config(Mode::process, config, 3);
  INFO("report:\n" << run.report.dump(2));
  int crashed = 0, given_up = 0;
  for (int i = 1; i <= 10; ++i) {
    const json& check = check_of(run.report, "crash-" + std::to_string(i));
    const std::string error = error_of(check);
    INFO(check.at("id") << ": " << error);
    CHECK(check.at("status") == "unknown");
    CHECK(contains(error, "chaos"));
    if (contains(error, "given up after 3 crashes"))
      ++given_up;
    else if (contains(error, "SIGSEGV"))
      ++crashed;
  }
  CHECK(crashed >= 1);
  CHECK(crashed <= 3);
  CHECK(given_up >= 1);
  CHECK(crashed + given_up == 10);
  CHECK(check_of(run.report, "twin-healthy").at("status") == "ok");
  CHECK(check_of(run.report, "loopback").at("status") == "ok");
}

TEST_CASE("process: a crash takes down only the checks of its own plugin", "[chaos][process]") {
  std::string config =
      "version: 1\n"
      "defaults: { timeout: 10s, jobs: 8, isolation: process }\n"
      "checks:\n"
      "  - id: crash\n"
      "    plugin: chaos\n"
      "    type: segfault\n"
      "    timeout: 1s\n"
      "  - id: twin\n"
      "    plugin: chaos-twin\n"
      "    type: healthy\n"
      "    targets: [a, b, c, d, e]\n";
  config += kLoopbackCheck;
  const Run run = run_config(Mode::process, config, 3);
  INFO("report:\n" << run.report.dump(2));
  CHECK(check_of(run.report, "crash").at("status") == "unknown");
  CHECK(contains(error_of(check_of(run.report, "crash")), "SIGSEGV"));
  for (const std::string target : {"a", "b", "c", "d", "e"}) {
    const json& twin = check_of(run.report, "twin[" + target + "]");
    INFO(twin.dump());
    CHECK(twin.at("status") == "ok");
    CHECK(twin.at("attributes").at("plugin") == "chaos-twin");
  }
  CHECK(check_of(run.report, "loopback").at("status") == "ok");
}

TEST_CASE("process: a crash with siblings in flight blames only the check that reproduces it",
          "[chaos][process][blame]") {
  // Two naps are in the host when crash_when_busy segfaults it (it waits for
  // them). Each is run again alone: the naps end ok, the crash reproduces.
  const std::string config =
      "version: 1\n"
      "defaults: { timeout: 20s, jobs: 8, isolation: process }\n"
      "checks:\n"
      "  - { id: nap-a, plugin: chaos, type: nap, params: { ms: 300 } }\n"
      "  - { id: nap-b, plugin: chaos, type: nap, params: { ms: 300 } }\n"
      "  - { id: culprit, plugin: chaos, type: crash_when_busy, params: { busy: 2 } }\n";
  const Run run = run_config(Mode::process, config, 3);
  INFO("report:\n" << run.report.dump(2));
  for (const char* id : {"nap-a", "nap-b"}) {
    const json& nap = check_of(run.report, id);
    INFO(nap.dump());
    CHECK(nap.at("status") == "ok");
    CHECK(nap.at("error").is_null());
  }
  const json& culprit = check_of(run.report, "culprit");
  CHECK(culprit.at("status") == "unknown");
  CHECK(contains(error_of(culprit), "SIGSEGV"));
  CHECK(contains(error_of(culprit), "while running check culprit (again when run alone)"));
}

TEST_CASE("process: exit(0) from a plugin's thread is that plugin's crash, never an exit of triage",
          "[chaos][process][exit]") {
  // The result may reach the core before the host ends, or not: either way
  // the run goes on in a fresh host and the report is written.
  const Run run = run_config(Mode::process, case_config(Mode::process, "exit_thread"), {});
  const json& victim = check_of(run.report, "victim");
  INFO(victim.dump());
  if (victim.at("status") != "ok") CHECK(contains(error_of(victim), "called exit()"));
  check_healthy(run.report);
}

TEST_CASE("process: triage plugins names each broken plugin file with its reason",
          "[chaos][process][loader]") {
  loader_listing();
}

TEST_CASE("process: a plugin whose init() crashes is refused, not fatal",
          "[chaos][process][loader]") {
  const RunResult r = run_plugins({kCrashInInitDir, kLoaderDir});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  const std::string line = line_with(r.out, kCrashInInitDir + "/crash_in_init.so");
  INFO("line: " << line);
  CHECK(contains(line, "refused"));
  CHECK(contains(line, "SIGSEGV"));
  // Discovery went on past it.
  CHECK(contains(r.out, "large-descriptor 0.1.0"));

  SECTION("a run beside it works") {
    const TempDir dir;
    const auto run =
        run_with_config(dir, kCrashInInitDir, std::string("version: 1\nchecks:\n") + kLoopbackCheck,
                        {"--isolation", "process"}, "isolation process");
    INFO(describe(run));
    CHECK(run.exit_code == 0);
    const json report = parse_json(run.out);
    CHECK(check_of(report, "loopback").at("status") == "ok");
  }
  SECTION("a config using it is a config error") {
    refused_plugin_in_config(Mode::process, kCrashInInitDir, "crash-in-init");
  }
}

// ---- in-process only --------------------------------------------------------

// In-process, a plugin's exit() ends triage: the exit guard makes that
// status 70 with a one-line reason, never 0, when no report was written.
TEST_CASE("in-process: a plugin that calls exit(0) ends triage with status 70 and a reason",
          "[chaos][in-process][exit]") {
  const TempDir dir;
  const auto report_file = dir.path() / "report.json";
  auto extra = isolation_args(Mode::in_process);
  extra.insert(extra.end(), {"--output", report_file.string()});
  const RunResult r = run_with_config(dir, kChaosDir, case_config(Mode::in_process, "exit0"), extra,
                                      "exit0 in-process");
  INFO(describe(r));
  CHECK(r.exit_code == 70);
  CHECK(contains(r.err, "triage: a plugin called exit() before triage had written its report"));
  CHECK(!std::filesystem::exists(report_file));
}

TEST_CASE("in-process: exit(0) from a plugin's thread never ends a run with 0 and no report",
          "[chaos][in-process][exit]") {
  // The thread races the run: either it ends triage before the report (70),
  // or after, and then the status is the report's own.
  for (int i = 0; i < 5; ++i) {
    const TempDir dir;
    const auto report_file = dir.path() / "report.json";
    auto extra = isolation_args(Mode::in_process);
    extra.insert(extra.end(), {"--output", report_file.string()});
    const RunResult r =
        run_with_config(dir, kChaosDir, case_config(Mode::in_process, "exit_thread"), extra,
                        "exit_thread in-process");
    INFO("try " << i << "\n" << describe(r));
    if (std::filesystem::exists(report_file)) {
      const json report = parse_json(read_file(report_file));
      CHECK(exit_code_of(report.at("summary").at("status")) == r.exit_code);
    } else {
      CHECK(r.exit_code == 70);
      CHECK(contains(r.err, "called exit()"));
    }
  }
}

TEST_CASE("in-process: a hung check is abandoned at its deadline and triage still exits",
          "[chaos][in-process]") {
  hang_cases(Mode::in_process);
}
