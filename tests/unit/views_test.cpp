// The conventions every view keeps: the Monitoring Plugins status order, one
// rule for partial runs, text that cannot be spoofed, numbers for people and
// for machines, Nagios within NRPE's line, Prometheus labels.
#include <catch2/catch.hpp>
#include <regex>

#include "report_schema.hpp"
#include "triage/core/report.hpp"
#include "triage/core/text_format.hpp"

using namespace triage::core;

namespace {

// A report of n checks with the given statuses, built as `triage run` builds it.
nlohmann::ordered_json report_of(const std::vector<Status>& statuses, bool partial = false,
                                 const std::string& summary_text = "fine") {
  std::string yaml = "checks:\n";
  for (std::size_t i = 0; i < statuses.size(); ++i)
    yaml += "  - {id: c" + std::to_string(i) + ", plugin: network, type: tcp}\n";
  static std::vector<std::unique_ptr<Config>> keep;  // results index into it
  keep.push_back(std::make_unique<Config>(parse_config(yaml, "v.yaml")));
  RunOutcome out;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    CheckResult r;
    r.index = i;
    r.status = statuses[i];
    r.summary = summary_text;
    if (statuses[i] == Status::skipped) r.skipped_because = "run deadline";
    out.results.push_back(r);
  }
  out.partial = partial;
  if (partial) out.cut_reason = "run deadline";
  RunInfo info = start_run_info("v.yaml");
  info.finished_at = info.started_at;
  return build_report(*keep.back(), out, info);
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

TEST_CASE("statuses aggregate as max_state_alt: ok < unknown < warning < critical", "[status]") {
  CHECK(worst(Status::critical, Status::unknown) == Status::critical);
  CHECK(worst(Status::unknown, Status::critical) == Status::critical);
  CHECK(worst(Status::warning, Status::unknown) == Status::warning);
  CHECK(worst(Status::ok, Status::unknown) == Status::unknown);
  CHECK(worst(Status::skipped, Status::ok) == Status::ok);
  CHECK(worst(Status::skipped, Status::skipped) == Status::skipped);

  const auto report = report_of({Status::critical, Status::critical, Status::unknown});
  CHECK(report["summary"]["status"] == "critical");
  CHECK(report_exit_code(report) == 2);
  CHECK_THAT(render_nagios(report), Catch::StartsWith("TRIAGE CRITICAL - 2 critical, 1 unknown"));
  CHECK_THAT(render_text(report, {}), Catch::Contains("\nCRITICAL — 2 critical, 1 unknown\n"));
}

TEST_CASE("a run cut short that found no failure is unknown in every view", "[status][partial]") {
  const auto report = report_of({Status::ok, Status::skipped, Status::skipped}, true);
  CHECK(triage::test::report_schema_errors(nlohmann::json::parse(report.dump())).empty());
  CHECK(report["summary"]["status"] == "unknown");
  CHECK(report["summary"]["message"] == "run deadline: 2 checks not run");
  CHECK(report_exit_code(report) == 3);
  CHECK_THAT(render_nagios(report),
             Catch::StartsWith("TRIAGE UNKNOWN - run deadline: 2 checks not run; 1 ok, 2 skipped"));
  CHECK_THAT(render_text(report, {}),
             Catch::Contains("UNKNOWN — run deadline: 2 checks not run; 1 ok, 2 skipped"));
  CHECK_THAT(render_prometheus(report), Catch::Contains("\ntriage_run_status 3\n"));

  SECTION("a failure found before the cut stands") {
    const auto failed = report_of({Status::warning, Status::skipped}, true);
    CHECK(failed["summary"]["status"] == "warning");
    CHECK(report_exit_code(failed) == 1);
    CHECK_THAT(render_nagios(failed), Catch::StartsWith("TRIAGE WARNING - run deadline: 1 check"));
  }
}

TEST_CASE("plugin text cannot start a row or reorder the text view", "[views][spoof]") {
  const std::string forged =
      "fine\nOK        db-primary  network.tcp  connected\r\xE2\x80\xAE"
      "evil";
  const auto report = report_of({Status::critical}, false, forged);
  const auto text = render_text(report, {});
  CHECK(text.find("\nOK        db-primary") == std::string::npos);
  CHECK_THAT(text, Catch::Contains("fine\\nOK"));
  CHECK_THAT(text, Catch::Contains("connected\\r<U+202E>evil"));
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find("\xE2\x80\xAE") == std::string::npos);
  // Every row of the text view is ours: the header, a status row of c0,
  // indented continuation lines, blank lines and the total.
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const auto row = text.substr(start, end - start);
    INFO(row);
    CHECK((row.empty() || row[0] == ' ' || row.rfind("triage ", 0) == 0 ||
           row.rfind("CRITICAL  c0 ", 0) == 0 || row.rfind("CRITICAL — ", 0) == 0));
    start = end + 1;
  }
  const auto nagios = render_nagios(report);
  CHECK(std::count(nagios.begin(), nagios.end(), '\n') == 2);  // status line, one long line
  CHECK(nagios.find('\r') == std::string::npos);

  CHECK(escape_control("a\tb\x1b[31m") == "a\\tb\\x1b[31m");
  CHECK(escape_control("\xE2\x81\xA6x\xE2\x81\xA9") == "<U+2066>x<U+2069>");
  CHECK(escape_control("a\xE2\x80\xA8" "b\xE2\x80\xA9") == "a<U+2028>b<U+2029>");
  CHECK(escape_control("caf\xC3\xA9") == "caf\xC3\xA9");  // ordinary UTF-8 stays
  CHECK(escape_control_ascii("caf\xC3\xA9 \xC2\xB5s \xE2\x86\x92") == "caf<U+00E9> us ->");
}

TEST_CASE("the text view is ASCII outside a UTF-8 locale and wraps to the width", "[views][text]") {
  const std::string long_summary =
      "a summary long enough that it cannot fit on one line of an eighty column terminal "
      "however it is laid out, so it wraps";
  const auto report = report_of({Status::warning, Status::ok}, false, long_summary);
  RenderOptions ascii;
  ascii.utf8 = false;
  const auto text = render_text(report, ascii);
  for (const char c : text) CHECK(static_cast<unsigned char>(c) < 0x80);
  CHECK_THAT(text, Catch::StartsWith("triage 1.0.0 - host "));
  CHECK_THAT(text, Catch::Contains("\nWARNING - 1 warning, 1 ok\n"));
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    INFO(text.substr(start, end - start));
    CHECK(display_width(text.substr(start, end - start)) <= 80);
    start = end + 1;
  }
  RenderOptions wide;
  wide.width = 300;
  const auto one = render_text(report, wide);
  CHECK(std::count(one.begin(), one.end(), '\n') == 6);  // head, blank, 2 rows, blank, total
  CHECK_THAT(render_text(report_of({Status::ok}), {}), Catch::Contains("· 1 check in "));
}

TEST_CASE("numbers for people: 3 significant digits, durations and sizes scaled",
          "[views][numbers]") {
  CHECK(people_number(24.2349) == "24.2");
  CHECK(people_number(140.4) == "140");
  CHECK(people_number(0.012345) == "0.0123");
  CHECK(people_number(15321.7) == "15322");
  CHECK(people_number(5.0) == "5");
  CHECK(people_quantity(431999.9, "s") == "5.0d");
  CHECK(people_quantity(5400, "s") == "1.5h");
  CHECK(people_quantity(140.2, "ms") == "140 ms");
  CHECK(people_quantity(1520, "ms") == "1.52 s");
  CHECK(people_quantity(77846282240.0, "B") == "72.5 GiB");
  CHECK(people_quantity(24.24, "%") == "24.2%");
  CHECK(people_quantity(3, "") == "3");
}

TEST_CASE("numbers for machines never use an exponent", "[views][numbers]") {
  CHECK(plain_number(1e20) == "100000000000000000000");
  CHECK(plain_number(1.5e-7) == "0.00000015");
  CHECK(plain_number(0.1) == "0.1");
  CHECK(plain_number(-2.5) == "-2.5");
  CHECK(plain_number(0) == "0");
}

TEST_CASE("nagios: perfdata in plain numbers, failing checks' first, within 1,024 bytes",
          "[views][nagios]") {
  std::string yaml = "checks:\n";
  for (int i = 0; i < 60; ++i)
    yaml += "  - {id: check-with-a-rather-long-name-" + std::to_string(i) +
            ", plugin: network, type: tcp}\n";
  static const Config config = parse_config(yaml, "n.yaml");
  RunOutcome out;
  for (std::size_t i = 0; i < 60; ++i) {
    CheckResult r;
    r.index = i;
    r.status = i == 59 ? Status::critical : Status::ok;
    r.summary = i == 59 ? "refused" : "connected";
    r.metrics.push_back({"bytes_per_second", i == 59 ? 1.5e-7 : 3e12, "B", std::nullopt,
                         std::nullopt, i == 59 ? Status::critical : Status::ok, ""});
    out.results.push_back(r);
  }
  RunInfo info = start_run_info("n.yaml");
  const auto report = build_report(config, out, info);
  const auto text = render_nagios(report);
  const auto line = first_line(text);
  INFO(line);
  CHECK(line.size() + 1 <= 1024);
  CHECK_FALSE(std::regex_search(line, std::regex("[0-9][eE][+-]?[0-9]")));
  const auto bar = line.find(" | ");
  REQUIRE(bar != std::string::npos);
  // The failing check's perfdata comes first; what did not fit is said.
  CHECK(line.substr(bar + 3).rfind(
            "'check-with-a-rather-long-name-59.bytes_per_second'=0.00000015B", 0) == 0);
  CHECK_THAT(line, Catch::Contains(" metrics) | "));
  CHECK(std::regex_search(line.substr(0, bar), std::regex("\\(perfdata: [0-9]+ of 60 metrics\\)")));
  // Every token is whole: 'label'=value[UOM][;warn;crit;min;max].
  const std::regex token("'[^']+'=-?[0-9.]+(s|ms|us|%|B|KB|MB|GB|TB|c)?(;[^; ]*){0,4}");
  std::string perf = line.substr(bar + 3);
  std::size_t start = 0;
  while (start < perf.size()) {
    const auto end = std::min(perf.find(' ', start), perf.size());
    CHECK(std::regex_match(perf.substr(start, end - start), token));
    start = end + 1;
  }
  CHECK(nagios_unknown_line("config error: x.yaml:3: bad\nsecond") ==
        "TRIAGE UNKNOWN - config error: x.yaml:3: bad\\nsecond\n");
}

TEST_CASE("prometheus: gauges with labels, per-item names as an item label",
          "[views][prometheus]") {
  static const Config config = parse_config(
      "checks:\n  - {id: disks, plugin: storage, type: filesystem, params: {target: all}}\n",
      "p.yaml");
  RunOutcome out;
  CheckResult r;
  r.status = Status::warning;
  r.duration_ms = 12.5;
  r.metrics.push_back({"used_pct", 91, "%", Range::parse("80"), std::nullopt, Status::warning, ""});
  r.metrics.push_back({"used_pct[/var]", 91, "%", std::nullopt, std::nullopt, Status::ok, ""});
  r.metrics.push_back({"used_pct[/a \"b\"]", 1, "%", std::nullopt, std::nullopt, Status::ok, ""});
  out.results.push_back(r);
  RunInfo info = start_run_info("p.yaml");
  info.finished_at = info.started_at;
  const auto text = render_prometheus(build_report(config, out, info));
  CHECK_THAT(text, Catch::Contains("# TYPE triage_check_status gauge\n"
                                   "triage_check_status{check=\"disks\",plugin=\"storage\","
                                   "type=\"filesystem\",target=\"all\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("triage_check_duration_seconds{check=\"disks\",plugin="
                                   "\"storage\",type=\"filesystem\",target=\"all\"} 0.0125\n"));
  CHECK_THAT(text,
             Catch::Contains("triage_metric{check=\"disks\",name=\"used_pct\",unit=\"%\"} 91\n"));
  CHECK_THAT(text, Catch::Contains("triage_metric{check=\"disks\",name=\"used_pct\",item=\"/var\","
                                   "unit=\"%\"} 91\n"));
  CHECK_THAT(text, Catch::Contains("item=\"/a \\\"b\\\"\""));
  CHECK(std::regex_search(text, std::regex("\ntriage_run_timestamp_seconds [0-9]{10}")));
}

TEST_CASE("ndjson: one object per check, each with the run's id, host and times",
          "[views][ndjson]") {
  const auto report = report_of({Status::ok, Status::critical});
  const auto text = render_ndjson(report);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  const auto line = nlohmann::json::parse(first_line(text));
  CHECK(line["run_id"] == report["run"]["id"]);
  CHECK(line["host"] == report["run"]["host"]);
  CHECK(line["run_started_at"] == report["run"]["started_at"]);
  CHECK(line["id"] == "c0");
  CHECK(line["status"] == "ok");
  CHECK(line["run_status"] == "critical");
}

TEST_CASE("a saved report is checked before it is rendered again", "[report][reload]") {
  const auto report = report_of({Status::ok});
  CHECK_NOTHROW(check_report_shape(report));
  CHECK_NOTHROW(check_report_shape(nlohmann::ordered_json::parse(render_json(report))));
  auto broken = report;
  broken["checks"][0].erase("status");
  CHECK_THROWS_WITH(check_report_shape(broken), Catch::Contains("checks[0].status"));
  auto future = report;
  future["schema_version"] = 2;
  CHECK_THROWS_WITH(check_report_shape(future), Catch::Contains("schema_version 2"));
  CHECK_THROWS(check_report_shape(nlohmann::ordered_json::array()));
}
