// `triage run --history` and `triage history` through the real binary, on a
// real SQLite file: runs recorded and listed, a check's timeline with its
// status changes, the config's `history:`, two runs writing at once, and a
// corrupt or read-only database that never costs a run its report.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <future>

#include "helpers.hpp"

using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::run_triage;
using triage::itest::RunResult;
using triage::itest::schema_errors;
using triage::itest::test_plugin_dir;
using triage::itest::write_file;
using triage::test::as_nobody;
using triage::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Two checks of the test plugin: `web` reports `status`, `api` the metric
// value `latency`.
std::string config_text(const std::string& status, int latency, const std::string& extra = "") {
  return extra +
         "checks:\n  - {id: web, plugin: test-cxx, type: report, params: {status: " + status +
         "}}\n  - {id: api, plugin: test-cxx, type: report, params: {value: " +
         std::to_string(latency) + "}}\n";
}

RunResult run_with(const std::filesystem::path& config, std::vector<std::string> extra) {
  std::vector<std::string> args{
      "run", "-c", config.string(), "--plugin-dir", test_plugin_dir(), "--isolation", "in-process"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_triage(args);
}

}  // namespace

TEST_CASE("run --history records every run; history lists them and a check's timeline",
          "[history]") {
  const TempDir dir;
  const auto db = (dir.path() / "h.db").string();
  for (const auto& [status, latency, code] : std::vector<std::tuple<std::string, int, int>>{
           {"ok", 10, 0}, {"critical", 30, 2}, {"ok", 20, 0}}) {
    const auto config = write_file(dir.path(), "c.yaml", config_text(status, latency));
    const auto r = run_with(config, {"--history", db, "--keep", "30d", "-f", "json"});
    INFO(describe(r));
    REQUIRE(r.exit_code == code);
    CHECK(schema_errors(parse_json(r.out)).empty());
  }
  struct stat st {};
  REQUIRE(::stat(db.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  const auto text = run_triage({"history", "--history", db});
  INFO(describe(text));
  CHECK(text.exit_code == 0);
  CHECK(contains(text.out, "history " + db + ": 3 runs, newest first"));
  CHECK(contains(text.out, "critical"));

  const auto json = run_triage({"history", "--history", db, "-f", "json", "--limit", "2"});
  INFO(describe(json));
  REQUIRE(json.exit_code == 0);
  const auto runs = parse_json(json.out);
  CHECK(runs["history"] == db);
  REQUIRE(runs["runs"].size() == 2);
  CHECK(runs["runs"][0]["id"] == 3);
  CHECK(runs["runs"][1]["status"] == "critical");
  CHECK(runs["runs"][1]["counts"]["critical"] == 1);
  CHECK(runs["runs"][1]["counts"]["ok"] == 1);

  const auto web = run_triage({"history", "--history", db, "--check", "web", "-f", "json"});
  INFO(describe(web));
  REQUIRE(web.exit_code == 0);
  const auto timeline = parse_json(web.out)["timeline"];
  REQUIRE(timeline.size() == 3);
  CHECK(timeline[0]["status"] == "ok");
  CHECK(timeline[0]["changed"] == true);
  CHECK(timeline[0]["previous_status"] == "critical");
  CHECK(timeline[1]["changed"] == true);
  CHECK(timeline[2]["previous_status"].is_null());
  CHECK(timeline[2]["metrics"]["value"] == 0);

  const auto api = run_triage({"history", "--history", db, "--check", "api"});
  INFO(describe(api));
  CHECK(api.exit_code == 0);
  CHECK(contains(api.out, "value=30"));
  CHECK(contains(api.out, "value=20"));
  CHECK_FALSE(contains(api.out, "<- was"));  // api stayed ok: only its metric moved
  const auto changes = run_triage({"history", "--history", db, "--check", "web"});
  CHECK(contains(changes.out, "<- was critical"));
  CHECK(contains(changes.out, "<- was ok"));
}

TEST_CASE("the config's history: records runs, and triage history -c reads it", "[history]") {
  const TempDir dir;
  const auto config =
      write_file(dir.path(), "c.yaml", config_text("warning", 5, "history: {path: runs.db}\n"));
  const auto r = run_with(config, {"-o", (dir.path() / "r.json").string()});
  INFO(describe(r));
  CHECK(r.exit_code == 1);
  CHECK_FALSE(contains(r.err, "triage: error"));  // (the test plugin folder's broken files warn)
  const auto listed = run_triage({"history", "-c", config.string(), "-f", "json"});
  INFO(describe(listed));
  REQUIRE(listed.exit_code == 0);
  const auto doc = parse_json(listed.out);
  CHECK(doc["history"] == (dir.path() / "runs.db").string());
  REQUIRE(doc["runs"].size() == 1);
  CHECK(doc["runs"][0]["status"] == "warning");

  // --keep with nothing to prune is bad usage.
  const auto plain = write_file(dir.path(), "plain.yaml", config_text("ok", 1));
  const auto keep = run_with(plain, {"--keep", "30d"});
  CHECK(keep.exit_code == 64);
  CHECK(contains(keep.err, "--keep prunes a history"));
  CHECK(run_with(plain, {"--history", "x.db", "--keep", "soon"}).exit_code == 64);
}

TEST_CASE("a corrupt history is a clear error and never costs the run its report", "[history]") {
  const TempDir dir;
  const auto db = dir.path() / "h.db";
  const std::string garbage(8192, '\x42');
  std::ofstream(db, std::ios::binary) << garbage;
  const auto config = write_file(dir.path(), "c.yaml", config_text("critical", 1));
  const auto report_file = dir.path() / "report.json";
  const auto r =
      run_with(config, {"--history", db.string(), "-f", "json", "-o", report_file.string()});
  INFO(describe(r));
  CHECK(r.exit_code == 70);
  const auto report = parse_json(r.out);
  CHECK(schema_errors(report).empty());
  CHECK(report["summary"]["status"] == "critical");
  CHECK(parse_json(read_file(report_file)) == report);
  CHECK(contains(r.err, "history " + db.string() + ": is not an SQLite database, or is corrupt"));
  CHECK(contains(r.err, "the report was written; this run is not in the history"));
  CHECK(read_file(db) == garbage);

  const auto listed = run_triage({"history", "--history", db.string()});
  CHECK(listed.exit_code == 74);
  CHECK(contains(listed.err, "mv " + db.string()));
}

TEST_CASE("two runs writing the same history at once both land", "[history]") {
  const TempDir dir;
  const auto db = (dir.path() / "h.db").string();
  const auto a = write_file(dir.path(), "a.yaml", config_text("ok", 1));
  const auto b = write_file(dir.path(), "b.yaml", config_text("warning", 2));
  auto first = std::async(std::launch::async, [&] { return run_with(a, {"--history", db}); });
  auto second = std::async(std::launch::async, [&] { return run_with(b, {"--history", db}); });
  const auto ra = first.get();
  const auto rb = second.get();
  INFO(describe(ra) << "\n" << describe(rb));
  CHECK(ra.exit_code == 0);
  CHECK(rb.exit_code == 1);
  const auto listed = run_triage({"history", "--history", db, "-f", "json"});
  REQUIRE(listed.exit_code == 0);
  const auto runs = parse_json(listed.out)["runs"];
  REQUIRE(runs.size() == 2);
  CHECK(runs[0]["config_path"] != runs[1]["config_path"]);
}

TEST_CASE("a read-only history never costs the run its report", "[history]") {
  if (::geteuid() != 0) {
    WARN("not root: the test needs to become nobody (uid 65534)");
    return;
  }
  const TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);  // nobody reads, cannot write
  const auto db = dir.path() / "h.db";
  const auto config = write_file(dir.path(), "c.yaml", config_text("ok", 1));
  REQUIRE(run_with(config, {"--history", db.string()}).exit_code == 0);
  REQUIRE(::chmod(db.c_str(), 0644) == 0);
  const auto before = read_file(db);
  REQUIRE(as_nobody([&] {
    const auto r = run_with(config, {"--history", db.string(), "-f", "json"});
    std::fprintf(stderr, "as nobody: %s\n", describe(r).c_str());
    return r.exit_code == 70 && contains(r.out, "\"schema_version\"") &&
           contains(r.err, "history " + db.string() + ": ") &&
           contains(r.err, "this run is not in the history");
  }));
  CHECK(read_file(db) == before);
}

TEST_CASE("triage history: usage errors and a missing database", "[history]") {
  const TempDir dir;
  const auto db = (dir.path() / "none.db").string();
  const auto missing = run_triage({"history", "--history", db});
  CHECK(missing.exit_code == 66);
  CHECK(contains(missing.err, "no history at " + db));
  CHECK_FALSE(std::filesystem::exists(db));
  CHECK(run_triage({"history", "--history", db, "--limit", "0"}).exit_code == 64);
  CHECK(run_triage({"history", "--history", db, "--since", "yesterday"}).exit_code == 64);
  CHECK(run_triage({"history", "--history", db, "-f", "xml"}).exit_code == 64);
  const auto help = run_triage({"history", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "--check"));
}
