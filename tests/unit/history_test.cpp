// The run history (core/src/history/) on a real SQLite file on disk: a
// report recorded and read back unchanged, runs and timelines, retention in
// the same transaction, two writers at once, and every way a database can be
// unusable (garbage, newer schema, another program's, locked, read-only, a
// planted link) as a HistoryError that names the file.
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "report_schema.hpp"
#include "services.hpp"
#include "triage/core/history.hpp"
#include "triage/core/report.hpp"

using namespace triage::core;
using triage::test::as_nobody;
using triage::test::TempDir;

namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A report built the way `triage run` builds it: `web` with the given status
// and a finding when not ok, `api` with a latency metric, `after` skipped.
nlohmann::ordered_json make_report(
    Status web_status, double latency,
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now()) {
  static const Config config = parse_config(R"(checks:
  - {id: web, plugin: network, type: tcp, tags: [prod, edge], params: {target: "10.0.0.1:443"}}
  - {id: api, plugin: network, type: http, params: {target: "http://x/"}}
  - {id: after, plugin: network, type: tcp, depends_on: [web]}
)",
                                            "h.yaml");
  RunOutcome out;
  out.results.resize(3);
  for (std::size_t i = 0; i < 3; ++i) out.results[i].index = i;
  auto& web = out.results[0];
  web.status = web_status;
  web.summary = web_status == Status::ok ? "connected" : "connection refused";
  web.attempts = 2;
  web.duration_ms = 12.5;
  if (web_status != Status::ok) {
    web.error = "refused";
    web.findings.push_back(
        {Severity::critical, "Connection refused", "nothing listens", "Start the service"});
  }
  auto& api = out.results[1];
  api.status = latency > 100 ? Status::warning : Status::ok;
  api.summary = "200 OK";
  api.attempts = 1;
  api.metrics.push_back({"latency_p50_ms", latency, "ms", Range::parse("100"), std::nullopt,
                         api.status, latency > 100 ? "Scale the API" : ""});
  api.metrics.push_back({"bytes", 512, "B", std::nullopt, std::nullopt, Status::ok, ""});
  api.attributes.emplace_back("server", "nginx");
  auto& after = out.results[2];
  after.status = Status::skipped;
  after.skipped_because = "dependency web is critical";
  after.summary = "skipped: dependency web is critical";
  RunInfo info = start_run_info("h.yaml");
  info.started_at = started;
  info.finished_at = started + 42ms;
  return build_report(config, out, info);
}

std::int64_t count_rows(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const auto n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

void exec_sql(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::string history_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const HistoryError& e) {
    return e.what();
  }
  return "(no HistoryError)";
}

}  // namespace

TEST_CASE("a recorded report reads back as the same document", "[history]") {
  const TempDir dir;
  const auto file = dir.path() / "history.db";
  const auto report = make_report(Status::critical, 150);
  History history(file);
  const auto id = history.record(report);
  CHECK(id == 1);
  const auto loaded = history.load_report(id);
  REQUIRE(loaded);
  CHECK(loaded->dump() == report.dump());
  CHECK(triage::test::report_schema_errors(nlohmann::json::parse(loaded->dump())).empty());
  CHECK_FALSE(history.load_report(id + 1));

  // On disk, in WAL mode, created 0600, at the schema version.
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(count_rows(file, "PRAGMA user_version") == kHistorySchemaVersion);
  CHECK(count_rows(file, "SELECT count(*) FROM metrics") == 2);
  CHECK(count_rows(file, "SELECT count(*) FROM findings") == 1);

  // Recording the same run again keeps one copy.
  CHECK(history.record(report) == id);
  CHECK(count_rows(file, "SELECT count(*) FROM runs") == 1);
}

TEST_CASE("runs are listed newest first, bounded by since and limit", "[history]") {
  const TempDir dir;
  History history(dir.path() / "h.db");
  const auto now = std::chrono::system_clock::now();
  history.record(make_report(Status::ok, 50, now - 48h));
  history.record(make_report(Status::critical, 50, now - 1h));
  history.record(make_report(Status::ok, 150, now - 2h));  // recorded late, started earlier

  const auto all = history.runs(std::nullopt, 10);
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == 2);
  CHECK(all[0].status == "critical");
  CHECK(all[0].counts["critical"] == 1);
  CHECK(all[0].counts["skipped"] == 1);
  CHECK(all[0].config_path == "h.yaml");
  CHECK(all[0].duration_s == Approx(0.042));
  CHECK(all[1].id == 3);
  CHECK(all[1].status == "warning");
  CHECK(all[2].id == 1);
  CHECK(history.runs(std::nullopt, 1).size() == 1);
  CHECK(history.runs(now - 24h, 10).size() == 2);
  CHECK(history.latest_runs(2) == std::vector<std::int64_t>{2, 3});
}

TEST_CASE("a check's timeline has its status and metrics per run", "[history]") {
  const TempDir dir;
  History history(dir.path() / "h.db");
  const auto now = std::chrono::system_clock::now();
  history.record(make_report(Status::ok, 50, now - 3h));
  history.record(make_report(Status::critical, 180, now - 2h));
  history.record(make_report(Status::ok, 60, now - 1h));

  const auto web = history.timeline("web", std::nullopt, 10);
  REQUIRE(web.size() == 3);
  CHECK(web[0].status == "ok");
  CHECK(web[1].status == "critical");
  CHECK(web[1].error == "refused");
  CHECK(web[1].duration_ms == Approx(12.5));
  const auto api = history.timeline("api", std::nullopt, 2);
  REQUIRE(api.size() == 2);
  CHECK(api[0].metrics["latency_p50_ms"] == Approx(60));
  CHECK(api[1].metrics["latency_p50_ms"] == Approx(180));
  CHECK(api[1].metrics["bytes"] == Approx(512));
  CHECK(api[1].status == "warning");
  CHECK(history.timeline("nope", std::nullopt, 10).empty());
}

TEST_CASE("retention prunes old runs in the same transaction as the record", "[history]") {
  const TempDir dir;
  const auto file = dir.path() / "h.db";
  History history(file);
  const auto now = std::chrono::system_clock::now();
  history.record(make_report(Status::critical, 150, now - 24h * 40));
  history.record(make_report(Status::ok, 50, now - 24h * 10));
  // A report older than the retention itself is still kept: never the run
  // just recorded.
  const auto old = history.record(make_report(Status::ok, 50, now - 24h * 45), 30 * 24h);
  auto runs = history.runs(std::nullopt, 10);
  REQUIRE(runs.size() == 2);
  CHECK(runs[1].id == old);
  history.record(make_report(Status::ok, 50, now), 30 * 24h);
  runs = history.runs(std::nullopt, 10);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].id == 4);
  CHECK(runs[1].id == 2);
  // Their results, metrics and findings went with them (foreign keys cascade).
  CHECK(count_rows(file, "SELECT count(*) FROM results") == 6);
  CHECK(count_rows(file, "SELECT count(*) FROM metrics") == 4);
  CHECK(count_rows(file, "SELECT count(*) FROM findings") == 0);
  CHECK(count_rows(file, "SELECT count(*) FROM results WHERE run NOT IN (SELECT id FROM runs)") ==
        0);
}

TEST_CASE("two writers at once both land", "[history]") {
  const TempDir dir;
  const auto file = dir.path() / "h.db";
  constexpr int kEach = 40;
  auto writer = [&] {
    History history(file);  // each its own connection, as two processes have
    for (int i = 0; i < kEach; ++i) history.record(make_report(Status::ok, i));
  };
  std::exception_ptr failed;
  std::thread a([&] {
    try {
      writer();
    } catch (...) {
      failed = std::current_exception();
    }
  });
  writer();
  a.join();
  if (failed) std::rethrow_exception(failed);
  CHECK(History(file).runs(std::nullopt, 1000).size() == 2 * kEach);
  CHECK(count_rows(file, "SELECT count(*) FROM results") == 2 * kEach * 3);
}

TEST_CASE("processes opening a new history at once all record", "[history]") {
  // The first open of a file switches it to WAL mode, which SQLite answers
  // "locked" at once while another process holds the file: each process
  // must wait its turn, not fail. Several rounds, each on a new file.
  constexpr int kRounds = 20, kProcesses = 4;
  const TempDir dir;
  int failed = 0;
  for (int round = 0; round < kRounds; ++round) {
    const auto file = dir.path() / ("h" + std::to_string(round) + ".db");
    const auto report = make_report(Status::ok, round);
    std::vector<pid_t> children;
    for (int k = 0; k < kProcesses; ++k) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        try {
          auto own = report;
          own["run"]["id"] = std::string(31, 'a') + std::to_string(k);  // four distinct runs
          History(file).record(own);
          ::_exit(0);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "round %d, process %d: %s\n", round, k, e.what());
          ::_exit(1);
        }
      }
      children.push_back(pid);
    }
    for (const pid_t pid : children) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
    }
    CHECK(count_rows(file, "SELECT count(*) FROM runs") == kProcesses);
  }
  CHECK(failed == 0);
}

TEST_CASE("a file that is not a database is a clear error and is left as it is", "[history]") {
  const TempDir dir;
  const auto file = dir.path() / "garbage.db";
  const std::string garbage(4096, '\x5a');
  std::ofstream(file, std::ios::binary) << garbage;
  const auto what = history_error([&] { History h(file); });
  CHECK(contains(what, "history " + file.string() + ": is not an SQLite database, or is corrupt"));
  CHECK(contains(what, "mv " + file.string()));
  std::ifstream in(file, std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == garbage);
}

TEST_CASE("a database from a newer triage is refused, never rewritten", "[history]") {
  const TempDir dir;
  const auto file = dir.path() / "h.db";
  History(file).record(make_report(Status::ok, 1));
  exec_sql(file, "PRAGMA user_version = 99");
  const auto what = history_error([&] { History h(file); });
  CHECK(contains(what, file.string() + ": was written by a newer triage (history schema 99"));
  CHECK(count_rows(file, "PRAGMA user_version") == 99);
  CHECK(count_rows(file, "SELECT count(*) FROM runs") == 1);
}

TEST_CASE("another program's database is refused, never migrated", "[history]") {
  const TempDir dir;
  const auto file = dir.path() / "other.db";
  exec_sql(file, "CREATE TABLE accounts (name TEXT); INSERT INTO accounts VALUES ('x')");
  const auto what = history_error([&] { History h(file); });
  CHECK(contains(what, file.string() + ": is an SQLite database but not a triage history"));
  CHECK(count_rows(file, "SELECT count(*) FROM accounts") == 1);
  CHECK(count_rows(file, "SELECT count(*) FROM sqlite_schema WHERE name = 'runs'") == 0);
}

TEST_CASE("a database locked by another process is a clear error", "[history]") {
  const TempDir dir;
  const auto file = dir.path() / "h.db";
  History history(file, History::Open::create, 100ms);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto what = history_error([&] { history.record(make_report(Status::ok, 1)); });
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(contains(what, "history " + file.string() + ": is locked by another process"));
  CHECK(contains(what, "try again"));
  // Once the lock is gone the same connection records.
  CHECK(history.record(make_report(Status::ok, 1)) == 1);
}

TEST_CASE("a database this user cannot write is a clear error", "[history]") {
  if (::geteuid() != 0) {
    WARN("not root: the test needs to become nobody (uid 65534)");
    return;
  }
  const TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);  // nobody may read, not write
  const auto file = dir.path() / "h.db";
  History(file).record(make_report(Status::ok, 1));
  REQUIRE(::chmod(file.c_str(), 0644) == 0);
  const auto report = make_report(Status::ok, 2);
  std::string seen;
  const bool clear = as_nobody([&] {
    const auto what = history_error([&] { History(file).record(report); });
    std::fprintf(stderr, "as nobody: %s\n", what.c_str());
    return contains(what, "history " + file.string() + ": ") &&
           (contains(what, "cannot be written by this user (uid 65534)") ||
            contains(what, "cannot be opened"));
  });
  CHECK(clear);
  CHECK(count_rows(file, "SELECT count(*) FROM runs") == 1);
}

TEST_CASE("the database is never opened or made through a planted link", "[history]") {
  const TempDir dir;
  const auto victim = dir.path() / "victim";
  const auto link = dir.path() / "h.db";
  std::filesystem::create_symlink(victim, link);  // dangling: would be created
  CHECK(contains(history_error([&] { History h(link); }), "is a symbolic link"));
  CHECK_FALSE(std::filesystem::exists(victim));

  const auto file = dir.path() / "real.db";
  std::filesystem::create_symlink(victim, file.string() + "-wal");
  CHECK(contains(history_error([&] { History h(file); }),
                 file.string() + "-wal is not a regular file"));
  CHECK_FALSE(std::filesystem::exists(victim));
}

TEST_CASE("reading commands never create a database", "[history]") {
  const TempDir dir;
  const auto file = dir.path() / "missing.db";
  const auto what = history_error([&] { History h(file, History::Open::open_existing); });
  CHECK(contains(what, "history " + file.string() + ": no such file"));
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK(contains(history_error([&] { History h(dir.path() / "no" / "h.db"); }),
                 "its folder " + (dir.path() / "no").string() + " does not exist"));
}

TEST_CASE("a document that is not a report is not recorded", "[history]") {
  const TempDir dir;
  const auto file = dir.path() / "h.db";
  History history(file);
  auto report = make_report(Status::ok, 1);
  report["checks"][1]["metrics"][0]["value"] = "fast";
  CHECK(contains(history_error([&] { history.record(report); }), "not a triage report"));
  CHECK(contains(history_error([&] { history.record({{"hello", 1}}); }), "not a triage report"));
  CHECK(history.runs(std::nullopt, 10).empty());
  CHECK(count_rows(file, "SELECT count(*) FROM results") == 0);
}

TEST_CASE("ages for --keep and --since", "[history]") {
  CHECK(parse_age("30d") == std::chrono::seconds(30 * 86400));
  CHECK(parse_age("2w") == std::chrono::seconds(14 * 86400));
  CHECK(parse_age("12h") == std::chrono::seconds(12 * 3600));
  CHECK(parse_age("90") == std::chrono::seconds(90));
  CHECK_FALSE(parse_age("0d"));
  CHECK_FALSE(parse_age("0s"));
  CHECK_FALSE(parse_age("500ms"));  // below a second: not a retention
  CHECK_FALSE(parse_age("d"));
  CHECK_FALSE(parse_age("-3d"));
  CHECK_FALSE(parse_age("3x"));
  CHECK_FALSE(parse_age("1.5d"));
  CHECK_FALSE(parse_age("99999999d"));
}

TEST_CASE("history in the config: a file, or a path and a retention", "[history][config]") {
  auto config = parse_config("history: sweeps/h.db\nchecks: []\n", "/etc/triage/t.yaml");
  REQUIRE(config.history);
  CHECK(config.history->path == "/etc/triage/sweeps/h.db");
  CHECK_FALSE(config.history->keep);
  CHECK(choose_history_path("", &config) == "/etc/triage/sweeps/h.db");
  CHECK(choose_history_path("/x.db", &config) == "/x.db");

  config = parse_config("history: {path: /var/h.db, keep: 30d}\nchecks: []\n", "t.yaml");
  REQUIRE(config.history);
  CHECK(config.history->path == "/var/h.db");
  CHECK(config.history->keep == std::chrono::seconds(30 * 86400));

  config = parse_config("history: {keep: 2w}\nchecks: []\n", "t.yaml");
  REQUIRE(config.history);
  CHECK(choose_history_path("", &config) == kDefaultHistoryPath);
  CHECK(choose_history_path("", nullptr) == kDefaultHistoryPath);
  CHECK_FALSE(parse_config("checks: []\n", "t.yaml").history);

  auto error = [](const std::string& text) {
    try {
      parse_config(text, "t.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(contains(error("checks: []\nhistory: {path: h.db, keep: 3x}\n"),
                 "t.yaml:2: history.keep: '3x' is not a retention"));
  CHECK(contains(error("checks: []\nhistory:\n  pth: h.db\n"),
                 "t.yaml:3: history.pth: unknown key 'pth' (did you mean 'path'?)"));
  CHECK(contains(error("history: [a, b]\nchecks: []\n"),
                 "t.yaml:1: history: expected a file name or a mapping"));
  CHECK(contains(error("history: ''\nchecks: []\n"), "t.yaml:1: history: must not be empty"));
}
