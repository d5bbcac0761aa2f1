// What changed between two runs (two reports, from files or the history):
// new failures, recoveries, other status changes, checks added and removed,
// metrics that moved past a relative threshold, findings that appeared.
// `triage diff` prints it and exits 1 when something got worse.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace triage::core {

struct DiffOptions {
  double min_change = 0.10;  // a metric moved when |b - a| > min_change * |a|
};

struct Diff {
  nlohmann::ordered_json document;  // the JSON view (schema in docs/sweeps.md)
  bool worse = false;               // a new failure, a worse status, a new finding
};

// a: the older run, b: the newer (both docs/report.schema.json documents).
Diff diff_reports(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b,
                  const DiffOptions& options);

// The text view of a diff, for a terminal (plain text; no colour).
std::string render_diff_text(const Diff& diff);

}  // namespace triage::core
