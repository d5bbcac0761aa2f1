// What changed between two runs (two reports, from files or the history):
// new failures, recoveries, other status changes, checks added and removed,
// metrics that moved past a relative threshold, findings that appeared and
// went away. `triage diff` prints it and exits 1 when something got worse.
// The JSON view's schema and the rules for "worse" are in docs/sweeps.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace triage::core {

// The JSON view's version ("diff_version"): keys are only added within it.
inline constexpr int kDiffVersion = 1;

// Every list of the JSON view holds at most this many entries (its "counts"
// entry always has the full number, and "truncated" says a list was cut):
// two reports of 100,000 checks each must not make an unbounded document.
inline constexpr std::size_t kMaxDiffItems = 10'000;

// Where one side of the diff came from, for the document's "a" and "b".
struct DiffSide {
  std::string path;                 // the report file, or the history database
  std::optional<std::int64_t> run;  // the history's run number; nullopt for a file
};

struct DiffOptions {
  // A metric moved when |b - a| > min_change * |a|; when a is 0, any other
  // value is a move (no relative change exists). 0 reports every change.
  double min_change = 0.10;
  DiffSide a;  // the older run's source
  DiffSide b;  // the newer run's source
};

struct Diff {
  nlohmann::ordered_json document;  // the JSON view (schema in docs/sweeps.md)
  bool worse = false;               // a new failure, a worse status, a check now unknown, a
                                    // check added failing, a warning/critical finding appeared
};

// a: the older run, b: the newer (both docs/report.schema.json documents,
// as check_report_shape accepts them or as History::load_report rebuilds
// them). Checks are matched by id, metrics by (check id, name), findings by
// (check id, title) counted with multiplicity. Tolerant of missing keys: a
// check without a string id or status is ignored, a metric without a finite
// value too. Never throws for a shape problem of a single check.
Diff diff_reports(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b,
                  const DiffOptions& options);

// How the text view is laid out.
struct DiffTextOptions {
  bool utf8 = true;            // false: "->" instead of "→", "..." instead of "…"
  std::size_t max_lines = 20;  // per section; the rest as "… and K more"
};

// The text view of a diff, for a terminal or a log (plain text, no colour):
// a header naming both runs, one line saying whether anything got worse, then
// the sections worst first (new failures, worse statuses, findings appeared,
// checks added, metrics moved, recoveries, other status changes, checks
// removed, findings gone). Every string from a report goes through
// escape_control: a report is data and never drives the terminal.
std::string render_diff_text(const Diff& diff, const DiffTextOptions& options = {});

}  // namespace triage::core
