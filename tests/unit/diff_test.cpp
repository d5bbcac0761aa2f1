// What changed between two reports (core/src/history/diff.cpp): every status
// change classified (new failure, recovery, worse, better, other) and the
// "worse" verdict `triage diff` exits 1 on; checks added and removed; metric
// moves against --min-change (a zero old value included); findings matched
// by (check, title) with multiplicity; the bounds of both views; and report
// text that must not drive the terminal.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "triage/core/diff.hpp"

using triage::core::Diff;
using triage::core::diff_reports;
using triage::core::DiffOptions;
using triage::core::DiffTextOptions;
using triage::core::kMaxDiffItems;
using triage::core::render_diff_text;
using Json = nlohmann::ordered_json;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A check as a report carries it (only what the diff reads, plus the rest of
// the required keys so it looks like the real thing).
Json check(const std::string& id, const std::string& status, Json metrics = Json::array(),
           Json findings = Json::array(), const std::string& summary = "") {
  return Json{{"id", id},
              {"plugin", "test"},
              {"type", "t"},
              {"target", nullptr},
              {"tags", Json::array()},
              {"status", status},
              {"summary", summary.empty() ? "is " + status : summary},
              {"duration_ms", 1.0},
              {"attempts", 1},
              {"metrics", std::move(metrics)},
              {"findings", std::move(findings)},
              {"attributes", Json::object()},
              {"error", status == "unknown" ? Json("timed out") : Json(nullptr)},
              {"skipped_because", nullptr}};
}

Json metric(const std::string& name, double value, const std::string& status = "ok") {
  return Json{{"name", name},       {"value", value},      {"unit", "ms"},
              {"warning", nullptr}, {"critical", nullptr}, {"status", status}};
}

Json finding(const std::string& severity, const std::string& title,
             const std::string& detail = "d") {
  return Json{
      {"severity", severity}, {"title", title}, {"detail", detail}, {"remediation", "fix it"}};
}

Json report(std::vector<Json> checks, const std::string& started = "2026-01-01T00:00:00.000Z") {
  Json r{{"schema_version", 1},
         {"run",
          {{"id", std::string(32, 'a')},
           {"started_at", started},
           {"finished_at", started},
           {"duration_ms", 1.0},
           {"host", "node-1"},
           {"triage_version", "0"},
           {"config_path", "c.yaml"}}},
         {"summary",
          {{"status", "ok"},
           {"counts", {{"ok", 0}, {"warning", 0}, {"critical", 0}, {"unknown", 0}, {"skipped", 0}}},
           {"message", nullptr}}},
         {"checks", Json::array()}};
  for (auto& c : checks) r["checks"].push_back(std::move(c));
  return r;
}

Diff diff(const Json& a, const Json& b, double min_change = 0.10) {
  DiffOptions options;
  options.min_change = min_change;
  return diff_reports(a, b, options);
}

std::size_t count(const Diff& d, const char* key) {
  return d.document.at("counts").at(key).get<std::size_t>();
}

// Which list of the JSON view a check's status change went to.
std::string where(const Diff& d, const std::string& id) {
  for (const char* list : {"new_failures", "status_changes", "recoveries"})
    for (const auto& e : d.document.at(list))
      if (e.at("id") == id)
        return std::string(list) + (e.contains("direction")
                                        ? ":" + e.at("direction").get<std::string>()
                                        : std::string());
  return "unchanged";
}

}  // namespace

TEST_CASE("the same report twice: no change, nothing worse", "[diff]") {
  const auto r = report(
      {check("a", "ok", Json::array({metric("m", 5)}), Json::array({finding("warning", "Slow")})),
       check("b", "critical")});
  const auto d = diff(r, r);
  CHECK_FALSE(d.worse);
  CHECK(d.document.at("worse") == false);
  CHECK(count(d, "unchanged") == 2);
  for (const char* key :
       {"new_failures", "status_changes", "recoveries", "checks_added", "checks_removed",
        "metrics_moved", "findings_appeared", "findings_gone"}) {
    INFO(key);
    CHECK(count(d, key) == 0);
    CHECK(d.document.at(key).empty());
  }
  const auto text = render_diff_text(d);
  CHECK(contains(text, "No change: 2 checks with the same status"));
  CHECK_FALSE(contains(text, "WORSE"));
}

TEST_CASE("every status change is classified, and 'worse' follows the rules", "[diff]") {
  struct Case {
    const char* from;
    const char* to;
    const char* list;
    bool worse;
  };
  const std::vector<Case> cases{
      {"ok", "warning", "new_failures", true},
      {"ok", "critical", "new_failures", true},
      {"unknown", "critical", "new_failures", true},
      {"skipped", "warning", "new_failures", true},
      {"warning", "critical", "status_changes:worse", true},
      {"ok", "unknown", "status_changes:worse", true},
      {"critical", "unknown", "status_changes:worse", true},
      {"skipped", "unknown", "status_changes:worse", true},
      {"critical", "warning", "status_changes:better", false},
      {"critical", "ok", "recoveries", false},
      {"warning", "ok", "recoveries", false},
      {"unknown", "ok", "recoveries", false},
      {"ok", "skipped", "status_changes:other", false},
      {"critical", "skipped", "status_changes:other", false},
      {"skipped", "ok", "status_changes:other", false},
      {"ok", "ok", "unchanged", false},
      {"critical", "critical", "unchanged", false},
  };
  for (const auto& c : cases) {
    INFO(c.from << " -> " << c.to);
    const auto d = diff(report({check("x", c.from), check("steady", "ok")}),
                        report({check("x", c.to), check("steady", "ok")}));
    CHECK(where(d, "x") == c.list);
    CHECK(d.worse == c.worse);
    CHECK(d.document.at("worse") == c.worse);
  }
}

TEST_CASE("a status change names the check, both statuses and the new summary", "[diff]") {
  const auto d =
      diff(report({check("api", "ok")}), report({check("api", "critical", {}, {}, "p99 612 ms")}));
  const auto& e = d.document.at("new_failures").at(0);
  CHECK(e.at("id") == "api");
  CHECK(e.at("from") == "ok");
  CHECK(e.at("to") == "critical");
  CHECK(e.at("summary") == "p99 612 ms");
  CHECK(e.at("error").is_null());
  const auto text = render_diff_text(d);
  CHECK(contains(text, "  api  ok → critical  p99 612 ms\n"));
  CHECK(contains(render_diff_text(d, {false, 20}), "  api  ok -> critical  p99 612 ms\n"));
}

TEST_CASE("new failures are listed critical first, and before everything else", "[diff]") {
  const auto d = diff(report({check("w", "ok"), check("c", "ok"), check("r", "critical")}),
                      report({check("w", "warning"), check("c", "critical"), check("r", "ok")}));
  REQUIRE(d.document.at("new_failures").size() == 2);
  CHECK(d.document.at("new_failures")[0].at("id") == "c");
  CHECK(d.document.at("new_failures")[1].at("id") == "w");
  const auto text = render_diff_text(d);
  const auto failures = text.find("New failures (2):");
  const auto recoveries = text.find("Recoveries (1):");
  REQUIRE(failures != std::string::npos);
  REQUIRE(recoveries != std::string::npos);
  CHECK(failures < recoveries);
  CHECK(text.find("  c  ") < text.find("  w  "));
  CHECK(contains(text, "WORSE: 2 new failures; also 1 recovery."));
}

TEST_CASE("checks added and removed; an added check that fails is worse", "[diff]") {
  const auto base = report({check("kept", "ok"), check("gone", "critical")});
  SECTION("added ok, removed critical: nothing worse") {
    const auto d = diff(base, report({check("kept", "ok"), check("new", "ok")}));
    CHECK_FALSE(d.worse);
    REQUIRE(count(d, "checks_added") == 1);
    CHECK(d.document.at("checks_added")[0].at("id") == "new");
    CHECK(d.document.at("checks_added")[0].at("status") == "ok");
    REQUIRE(count(d, "checks_removed") == 1);
    CHECK(d.document.at("checks_removed")[0].at("id") == "gone");
    CHECK(d.document.at("checks_removed")[0].at("status") == "critical");
    const auto text = render_diff_text(d);
    CHECK(contains(text, "Nothing got worse: 1 check added, 1 check removed."));
    CHECK(contains(text, "  gone  was critical  is critical"));
  }
  SECTION("added critical or unknown: worse") {
    for (const char* status : {"warning", "critical", "unknown"}) {
      INFO(status);
      const auto d = diff(base, report({check("kept", "ok"), check("new", status)}));
      CHECK(d.worse);
    }
  }
}

TEST_CASE("metrics move past a relative threshold; only those in both runs count",
          "[diff][metrics]") {
  const auto a = report({check(
      "c", "ok",
      Json::array({metric("up11", 100), metric("up10", 100), metric("down", 200), metric("zero", 0),
                   metric("zero_same", 0), metric("neg", -50), metric("only_before", 1)}))});
  const auto b =
      report({check("c", "ok",
                    Json::array({metric("up11", 111), metric("up10", 110), metric("down", 100),
                                 metric("zero", 0.001), metric("zero_same", 0), metric("neg", -60),
                                 metric("only_after", 1)}))});
  const auto d = diff(a, b, 0.10);
  CHECK_FALSE(d.worse);  // a metric moving is news, not "worse": its status says that
  std::vector<std::string> names;
  for (const auto& m : d.document.at("metrics_moved")) names.push_back(m.at("name"));
  // Sorted by the size of the move: from 0 first (no relative change), then
  // -50 %, +20 % (-50 -> -60), +11 %; exactly +10 % is not past 10 %.
  CHECK(names == std::vector<std::string>{"zero", "down", "neg", "up11"});
  const auto& zero = d.document.at("metrics_moved")[0];
  CHECK(zero.at("check") == "c");
  CHECK(zero.at("from") == 0.0);
  CHECK(zero.at("to") == 0.001);
  CHECK(zero.at("change").is_null());
  CHECK(d.document.at("metrics_moved")[1].at("change").get<double>() == Approx(-0.5));
  CHECK(d.document.at("metrics_moved")[2].at("change").get<double>() == Approx(-0.2));
  CHECK(d.document.at("metrics_moved")[3].at("unit") == "ms");

  SECTION("--min-change 0 reports every change, 50% fewer") {
    CHECK(count(diff(a, b, 0), "metrics_moved") == 5);    // not the 0 that stayed 0
    CHECK(count(diff(a, b, 0.5), "metrics_moved") == 1);  // only the move from 0
  }
  SECTION("the text view shows old and new value, the change and a status change") {
    const auto c =
        diff(report({check("api", "ok", Json::array({metric("p99", 140)}))}),
             report({check("api", "critical", Json::array({metric("p99", 612, "critical")}))}));
    const auto text = render_diff_text(c);
    CHECK(contains(text, "Metrics moved past 10% (1):"));
    CHECK(contains(text, "  api  p99  140 ms → 612 ms  +337%  ok → critical"));
    CHECK(c.document.at("metrics_moved")[0].at("status_from") == "ok");
    CHECK(c.document.at("metrics_moved")[0].at("status_to") == "critical");
  }
}

TEST_CASE("metrics of a check not in both runs, or without a finite value, are not compared",
          "[diff][metrics]") {
  Json nan_metric = metric("m", std::numeric_limits<double>::quiet_NaN());
  const auto d = diff(report({check("c", "ok", Json::array({nan_metric})),
                              check("gone", "ok", Json::array({metric("x", 1)}))}),
                      report({check("c", "ok", Json::array({metric("m", 5)})),
                              check("new", "ok", Json::array({metric("x", 100)}))}));
  CHECK(count(d, "metrics_moved") == 0);
}

TEST_CASE("findings are matched by check and title, counted with multiplicity",
          "[diff][findings]") {
  const auto a = report({check("c", "warning", Json::array(),
                               Json::array({finding("warning", "Slow", "old detail"),
                                            finding("info", "Twice"), finding("info", "Gone")}))});
  SECTION("a warning finding appeared: worse; a changed detail is the same finding") {
    const auto b = report(
        {check("c", "warning", Json::array(),
               Json::array({finding("warning", "Slow", "new detail"), finding("info", "Twice"),
                            finding("info", "Twice"), finding("critical", "Disk full")}))});
    const auto d = diff(a, b);
    CHECK(d.worse);
    REQUIRE(count(d, "findings_appeared") == 2);
    // critical first, then the second "Twice"
    CHECK(d.document.at("findings_appeared")[0].at("title") == "Disk full");
    CHECK(d.document.at("findings_appeared")[0].at("severity") == "critical");
    CHECK(d.document.at("findings_appeared")[0].at("remediation") == "fix it");
    CHECK(d.document.at("findings_appeared")[0].at("check") == "c");
    CHECK(d.document.at("findings_appeared")[1].at("title") == "Twice");
    REQUIRE(count(d, "findings_gone") == 1);
    CHECK(d.document.at("findings_gone")[0].at("title") == "Gone");
    const auto text = render_diff_text(d);
    CHECK(contains(text, "WORSE: 1 warning/critical finding appeared;"));
    CHECK(contains(text, "  c  critical  Disk full\n      fix: fix it\n"));
    CHECK(contains(text, "Findings gone (1):\n  c  info  Gone\n"));
  }
  SECTION("only an info finding appeared: not worse") {
    const auto b = report({check("c", "warning", Json::array(),
                                 Json::array({finding("warning", "Slow"), finding("info", "Twice"),
                                              finding("info", "Gone"), finding("info", "New")}))});
    const auto d = diff(a, b);
    CHECK_FALSE(d.worse);
    CHECK(count(d, "findings_appeared") == 1);
    CHECK(count(d, "findings_gone") == 0);
  }
}

TEST_CASE("the sides say where each report came from", "[diff]") {
  DiffOptions options;
  options.a = {"/var/lib/triage/history.db", 41};
  options.b = {"today.json", std::nullopt};
  const auto d = diff_reports(report({}), report({}, "2026-01-02T00:00:00.000Z"), options);
  const auto& a = d.document.at("a");
  const auto& b = d.document.at("b");
  CHECK(a.at("source") == "history");
  CHECK(a.at("run") == 41);
  CHECK(a.at("path") == "/var/lib/triage/history.db");
  CHECK(b.at("source") == "file");
  CHECK(b.at("run").is_null());
  CHECK(b.at("started_at") == "2026-01-02T00:00:00.000Z");
  CHECK(b.at("host") == "node-1");
  CHECK(d.document.at("diff_version") == 1);
  const auto text = render_diff_text(d);
  CHECK(contains(text, "triage diff: run 41 → today.json\n"));
  CHECK(contains(text, "Before: run 41, started 2026-01-01T00:00:00.000Z on node-1: ok, 0 checks"));
}

TEST_CASE("both views are bounded", "[diff][bounds]") {
  SECTION("text: at most max_lines per section, then how many more") {
    std::vector<Json> before, after;
    for (int i = 0; i < 30; ++i) {
      before.push_back(check("c" + std::to_string(i), "ok"));
      after.push_back(check("c" + std::to_string(i), "critical"));
    }
    const auto d = diff(report(before), report(after));
    CHECK(d.document.at("new_failures").size() == 30);
    const auto text = render_diff_text(d, {true, 5});
    CHECK(contains(text, "New failures (30):"));
    CHECK(contains(text, "  c4  "));
    CHECK_FALSE(contains(text, "  c5  "));
    CHECK(contains(text, "  … and 25 more (-f json lists them)\n"));
  }
  SECTION("JSON: at most kMaxDiffItems per list; counts keep the true number") {
    std::vector<Json> after;
    for (std::size_t i = 0; i < kMaxDiffItems + 5; ++i)
      after.push_back(check("n" + std::to_string(i), "ok"));
    const auto d = diff(report({}), report(after));
    CHECK(d.document.at("checks_added").size() == kMaxDiffItems);
    CHECK(count(d, "checks_added") == kMaxDiffItems + 5);
    CHECK(d.document.at("truncated") == true);
    CHECK(diff(report({}), report({check("x", "ok")})).document.at("truncated") == false);
  }
}

TEST_CASE("report text cannot drive the terminal and long text is cut", "[diff][security]") {
  const std::string evil = "pwned\x1b[2J\nFAKE LINE\r";
  const std::string long_summary(1000, 'x');
  const auto d = diff(report({check("id\x1b[31m", "ok"), check("long", "ok")}),
                      report({check("id\x1b[31m", "critical", {}, {}, evil),
                              check("long", "critical", {}, {}, long_summary)}));
  const auto text = render_diff_text(d);
  CHECK_FALSE(contains(text, "\x1b"));
  CHECK_FALSE(contains(text, "\r"));
  CHECK_FALSE(contains(text, "\nFAKE LINE"));
  CHECK(contains(text, "pwned\\x1b[2J\\nFAKE LINE\\r"));
  CHECK(contains(text, std::string(200, 'x') + "…"));
  CHECK_FALSE(contains(text, std::string(201, 'x')));
  // The JSON view keeps the text whole (it is escaped by the JSON encoding).
  CHECK(d.document.at("new_failures")[1].at("summary") == long_summary);
}

TEST_CASE("checks without a string id or a known status are ignored", "[diff]") {
  Json bad_status = check("weird", "ok");
  bad_status["status"] = "purple";
  Json no_id = check("x", "ok");
  no_id.erase("id");
  const auto d = diff(report({check("a", "ok"), bad_status, no_id}),
                      report({check("a", "ok"), check("a", "critical")}));  // repeated id
  CHECK_FALSE(d.worse);                                                     // the first "a" counts
  CHECK(count(d, "unchanged") == 1);
  CHECK(count(d, "checks_removed") == 0);
  CHECK(d.document.at("a").at("checks") == 1);
}
