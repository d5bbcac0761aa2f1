// `triage diff` through the real binary: reports made by real `triage run`s
// of the test plugins (saved as files, and recorded in a real SQLite history
// on disk), compared worst first in text and JSON, the exit code scripts
// rely on (1: something got worse), and every way an input can be wrong
// (usage 64, not a report 65, unreadable or missing 66, unusable database 74).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "helpers.hpp"

using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::run_triage;
using triage::itest::RunEnv;
using triage::itest::test_plugin_dir;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The test-cxx `report` check reports the status and the metric "value" (ms;
// warning past 50, critical past 100) it is given.
std::string report_check(const std::string& id, const std::string& status, double value) {
  return "  - {id: " + id + ", plugin: test-cxx, type: report, params: {status: " + status +
         ", value: " + std::to_string(value) + "}}\n";
}

// Before: api ok at 40 ms, kafka ok, disk warning, dns critical, old ok.
const std::string kBefore = "checks:\n" + report_check("api-latency", "ok", 40) +
                            report_check("kafka-lag", "ok", 10) +
                            report_check("disk-data", "warning", 20) +
                            report_check("dns", "critical", 5) + report_check("old-check", "ok", 5);
// After: api at 140 ms (critical by its threshold), kafka critical, disk
// critical, dns recovered, old-check gone, new-check added.
const std::string kAfter = "checks:\n" + report_check("api-latency", "ok", 140) +
                           report_check("kafka-lag", "critical", 10.5) +
                           report_check("disk-data", "critical", 20) +
                           report_check("dns", "ok", 5) + report_check("new-check", "ok", 1);

// Runs a config with the test plugins; the JSON report goes to dir/out.
std::filesystem::path run_config(const TempDir& dir, const std::string& name,
                                 const std::string& config,
                                 const std::vector<std::string>& extra = {}) {
  const auto config_file = write_file(dir.path(), name + ".yaml", config);
  const auto out = dir.path() / (name + ".json");
  std::vector<std::string> args{
      "run", "-c", config_file.string(), "--plugin-dir", test_plugin_dir(),
      "-q",  "-o", out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_triage(args);
  INFO(describe(r));
  REQUIRE(r.exit_code >= 0);
  REQUIRE(r.exit_code <= 3);
  REQUIRE(std::filesystem::exists(out));
  return out;
}

const nlohmann::json& entry(const nlohmann::json& list, const std::string& key,
                            const std::string& value) {
  for (const auto& e : list)
    if (e.at(key) == value) return e;
  FAIL("no entry with " << key << " " << value << " in " << list.dump());
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("triage diff of two saved reports: the worst first, exit 1", "[diff][cli]") {
  const TempDir dir;
  const auto a = run_config(dir, "before", kBefore);
  const auto b = run_config(dir, "after", kAfter);

  SECTION("text") {
    const auto r = run_triage({"diff", a.string(), b.string()}, RunEnv{{{"LC_ALL", "C.UTF-8"}}});
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    CHECK(r.err.empty());
    CHECK(contains(r.out, "triage diff: " + a.string() + " → " + b.string() + "\n"));
    CHECK(contains(r.out,
                   "WORSE: 2 new failures, 1 status worse; also 1 recovery, 1 check "
                   "added, 1 check removed, 1 metric moved past 10%."));
    CHECK(contains(r.out, "New failures (2):\n  api-latency  ok → critical  "));
    CHECK(contains(r.out, "  kafka-lag    ok → critical  reported critical\n"));
    CHECK(contains(r.out, "Worse (1):\n  disk-data  warning → critical  reported critical\n"));
    CHECK(contains(r.out, "Recoveries (1):\n  dns  critical → ok  reported ok\n"));
    CHECK(contains(r.out, "Checks added (1):\n  new-check  ok  reported ok\n"));
    CHECK(contains(r.out, "Checks removed (1):\n  old-check  was ok  reported ok\n"));
    CHECK(contains(r.out, "api-latency  value  40 ms → 140 ms  +250%  ok → critical"));
    // worst first
    CHECK(r.out.find("New failures") < r.out.find("Worse (1)"));
    CHECK(r.out.find("Worse (1)") < r.out.find("Recoveries"));
    CHECK(r.out.find("Recoveries") < r.out.find("Checks removed"));
  }
  SECTION("text in a locale that is not UTF-8: ASCII arrows") {
    const auto r = run_triage({"diff", a.string(), b.string()}, RunEnv{{{"LC_ALL", "C"}}});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.out, "  kafka-lag    ok -> critical  reported critical\n"));
    CHECK_FALSE(contains(r.out, "→"));
  }
  SECTION("JSON") {
    const auto r = run_triage({"diff", a.string(), b.string(), "-f", "json"});
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    const auto d = parse_json(r.out);
    CHECK(d.at("diff_version") == 1);
    CHECK(d.at("worse") == true);
    CHECK(d.at("min_change") == 0.1);
    CHECK(d.at("truncated") == false);
    CHECK(d.at("a").at("source") == "file");
    CHECK(d.at("a").at("path") == a.string());
    CHECK(d.at("a").at("run").is_null());
    CHECK(d.at("a").at("checks") == 5);
    CHECK(d.at("b").at("status") == "critical");
    const nlohmann::json counts{
        {"new_failures", 2},      {"status_changes", 1}, {"recoveries", 1},
        {"checks_added", 1},      {"checks_removed", 1}, {"metrics_moved", 1},
        {"findings_appeared", 0}, {"findings_gone", 0},  {"unchanged", 0}};
    CHECK(d.at("counts") == counts);
    CHECK(entry(d.at("new_failures"), "id", "kafka-lag").at("from") == "ok");
    CHECK(entry(d.at("status_changes"), "id", "disk-data").at("direction") == "worse");
    CHECK(entry(d.at("recoveries"), "id", "dns").at("to") == "ok");
    const auto& moved = entry(d.at("metrics_moved"), "check", "api-latency");
    CHECK(moved.at("name") == "value");
    CHECK(moved.at("from") == 40.0);
    CHECK(moved.at("to") == 140.0);
    CHECK(moved.at("change").get<double>() == Approx(2.5));
    CHECK(moved.at("status_to") == "critical");
  }
  SECTION("--min-change leaves out the smaller moves") {
    const auto r =
        run_triage({"diff", a.string(), b.string(), "-f", "json", "--min-change", "300%"});
    CHECK(r.exit_code == 1);
    CHECK(parse_json(r.out).at("counts").at("metrics_moved") == 0);
    const auto every =
        run_triage({"diff", a.string(), b.string(), "-f", "json", "--min-change", "0"});
    CHECK(parse_json(every.out).at("counts").at("metrics_moved") == 2);  // 40->140, 10->10.5
  }
  SECTION("the newer report from standard input") {
    const auto r =
        run_triage({"diff", a.string(), "-"},
                   RunEnv{{{"LC_ALL", "C.UTF-8"}}, std::chrono::seconds(120), read_file(b)});
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.out, "triage diff: " + a.string() + " → -\n"));
  }
}

TEST_CASE("triage diff exits 0 when nothing got worse", "[diff][cli]") {
  const TempDir dir;
  const auto broken = run_config(dir, "broken", "checks:\n" + report_check("dns", "critical", 5));
  const auto fixed = run_config(dir, "fixed", "checks:\n" + report_check("dns", "ok", 5));
  const auto r = run_triage({"diff", broken.string(), fixed.string()});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "Nothing got worse: 1 recovery."));
  const auto same = run_triage({"diff", fixed.string(), fixed.string()});
  CHECK(same.exit_code == 0);
  CHECK(contains(same.out, "No change: 1 check with the same status, no metric moved past 10%"));
}

TEST_CASE("triage diff: a warning finding that appeared is worse, an info one is not",
          "[diff][cli]") {
  const TempDir dir;
  const auto a = run_config(dir, "a", "checks:\n" + report_check("api", "ok", 40));
  // The test plugins report no warning finding: add one to a real report, as
  // a plugin would have (the file is still a report triage accepts).
  auto report = parse_json(read_file(a));
  auto add_finding = [&](const std::string& severity, const std::string& title) {
    auto copy = report;
    copy["checks"][0]["findings"].push_back({{"severity", severity},
                                             {"title", title},
                                             {"detail", "queue depth 12000"},
                                             {"remediation", "Add consumers"}});
    return write_file(dir.path(), severity + ".json", copy.dump());
  };
  const auto warned =
      run_triage({"diff", a.string(), add_finding("warning", "Consumer lag").string()});
  INFO(describe(warned));
  CHECK(warned.exit_code == 1);
  CHECK(contains(warned.out,
                 "Findings appeared (1):\n  api  warning  Consumer lag\n      fix: "
                 "Add consumers\n"));
  const auto info = run_triage({"diff", a.string(), add_finding("info", "FYI").string()});
  CHECK(info.exit_code == 0);
  CHECK(contains(info.out, "Nothing got worse: 1 info finding appeared."));
}

TEST_CASE("triage diff reads runs from the history database", "[diff][cli][history]") {
  const TempDir dir;
  const auto db = (dir.path() / "history.db").string();
  const auto before = run_config(dir, "before", kBefore, {"--history", db});
  const auto after = run_config(dir, "after", kAfter, {"--history", db});
  REQUIRE(std::filesystem::exists(db));

  SECTION("no argument: the last two runs") {
    const auto r = run_triage({"diff", "--history", db}, RunEnv{{{"LC_ALL", "C.UTF-8"}}});
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.out, "triage diff: run 1 → run 2 (history " + db + ")\n"));
    CHECK(contains(r.out, "Before: run 1, started "));
    CHECK(contains(r.out, "New failures (2):"));
    CHECK(contains(r.out, "  dns  critical → ok  reported ok\n"));
  }
  SECTION("the same answer as the two report files") {
    auto from_history =
        parse_json(run_triage({"diff", "1", "2", "--history", db, "-f", "json"}).out);
    auto from_files =
        parse_json(run_triage({"diff", before.string(), after.string(), "-f", "json"}).out);
    CHECK(from_history.at("a").at("source") == "history");
    CHECK(from_history.at("a").at("run") == 1);
    CHECK(from_history.at("b").at("run") == 2);
    CHECK(from_history.at("a").at("path") == db);
    for (const char* key : {"counts", "new_failures", "status_changes", "recoveries",
                            "checks_added", "checks_removed", "metrics_moved"}) {
      INFO(key);
      CHECK(from_history.at(key) == from_files.at(key));
    }
  }
  SECTION("one argument: that run against the newest; a run and a file mixed") {
    const auto one = run_triage({"diff", "2", "--history", db});
    CHECK(one.exit_code == 0);
    CHECK(contains(one.out, "No change: 5 checks with the same status"));
    const auto mixed = run_triage({"diff", "2", before.string(), "--history", db, "-f", "json"});
    const auto d = parse_json(mixed.out);
    CHECK(d.at("a").at("source") == "history");
    CHECK(d.at("b").at("source") == "file");
    CHECK(entry(d.at("recoveries"), "id", "kafka-lag").at("from") == "critical");
  }
  SECTION("the database named by the config's history:") {
    const auto config = write_file(dir.path(), "sweep.yaml", "history: " + db + "\n" + kAfter);
    const auto r = run_triage({"diff", "-c", config.string()});
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.out, "(history " + db + ")"));
  }
  SECTION("a run that is not there") {
    const auto r = run_triage({"diff", "1", "99", "--history", db});
    CHECK(r.exit_code == 66);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "no run 99 in the history " + db));
  }
}

TEST_CASE("triage diff: a history that cannot answer is a clear error", "[diff][cli][history]") {
  const TempDir dir;
  const auto db = (dir.path() / "history.db").string();
  SECTION("no database") {
    const auto r = run_triage({"diff", "--history", db});
    CHECK(r.exit_code == 66);
    CHECK(contains(r.err, "no history at " + db));
    CHECK_FALSE(std::filesystem::exists(db));  // only read, never created
  }
  SECTION("one run only") {
    run_config(dir, "only", "checks:\n" + report_check("dns", "ok", 5), {"--history", db});
    const auto r = run_triage({"diff", "--history", db});
    CHECK(r.exit_code == 66);
    CHECK(contains(r.err, "has 1 run; a diff needs two"));
  }
  SECTION("not a database") {
    write_file(dir.path(), "history.db", std::string(4096, 'x'));
    const auto r = run_triage({"diff", "--history", db});
    INFO(describe(r));
    CHECK(r.exit_code == 74);
    CHECK(contains(r.err, db));
  }
}

TEST_CASE("triage diff: bad usage is 64, bad input 65 or 66", "[diff][cli][errors]") {
  const TempDir dir;
  const auto good = run_config(dir, "good", "checks:\n" + report_check("dns", "ok", 5));
  const std::string g = good.string();
  SECTION("usage") {
    const std::vector<std::vector<std::string>> bad{
        {"diff", g, g, g},
        {"diff", g, g, "--min-change", "ten"},
        {"diff", g, g, "--min-change", "-5%"},
        {"diff", g, g, "-f", "xml"},
        {"diff", "-", "-"},
        {"diff", g, g, "--max-lines", "0"},
        {"diff", g, g, "--bogus"},
    };
    for (const auto& args : bad) {
      const auto r = run_triage(args);
      INFO(describe(r));
      CHECK(r.exit_code == 64);
      CHECK(r.out.empty());
      CHECK(contains(r.err, "Try 'triage diff --help'"));
    }
  }
  SECTION("--help") {
    const auto r = run_triage({"diff", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "Usage: triage diff [A [B]]"));
    CHECK(contains(r.out, "--min-change"));
  }
  SECTION("a file that cannot be read, or is a folder: 66") {
    const auto missing = run_triage({"diff", g, (dir.path() / "nope.json").string()});
    CHECK(missing.exit_code == 66);
    CHECK(contains(missing.err, "cannot read " + (dir.path() / "nope.json").string()));
    const auto folder = run_triage({"diff", dir.path().string(), g});
    CHECK(folder.exit_code == 66);
    CHECK(contains(folder.err, "is a folder, not a report"));
  }
  SECTION("not JSON, or JSON that is not a report: 65") {
    const auto text = write_file(dir.path(), "notes.txt", "hello");
    const auto r = run_triage({"diff", g, text.string()});
    CHECK(r.exit_code == 65);
    CHECK(contains(r.err, text.string() + " is not JSON"));
    const auto other = write_file(dir.path(), "other.json", R"({"checks": []})");
    const auto o = run_triage({"diff", other.string(), g});
    CHECK(o.exit_code == 65);
    CHECK(contains(o.err, other.string() + " is not a triage report"));
  }
}
