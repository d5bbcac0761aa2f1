// What changed between two reports (`triage diff`): the comparison that
// builds the JSON view, and the text view an operator reads in an incident,
// worst first. The rules ("new failure", "worse", what a metric move is) are
// documented in docs/sweeps.md; this file is their one implementation.
#include "triage/core/diff.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "triage/core/status.hpp"
#include "triage/core/text_format.hpp"

namespace triage::core {

namespace {

using Json = nlohmann::ordered_json;

// Longest piece of report text (a summary, an error, a title) the text view
// prints on one line; the JSON view keeps it whole.
constexpr std::size_t kMaxTextField = 200;

bool failing(Status s) {
  return s == Status::warning || s == Status::critical;
}

enum class Change { new_failure, recovery, worse, better, other };

// The one place that decides what a status change means (docs/sweeps.md).
Change classify(Status from, Status to) {
  if (!failing(from) && failing(to)) return Change::new_failure;
  if (to == Status::ok && (failing(from) || from == Status::unknown)) return Change::recovery;
  // The check can no longer judge: whatever it said before is no longer known.
  if (to == Status::unknown) return Change::worse;
  if (failing(from) && failing(to))
    return severity_rank(to) > severity_rank(from) ? Change::worse : Change::better;
  // Anything to or from skipped (a prerequisite failed, a deadline cut the
  // run): the prerequisite's own change is reported; this one says nothing.
  return Change::other;
}

const char* direction_name(Change c) {
  switch (c) {
    case Change::worse:
      return "worse";
    case Change::better:
      return "better";
    default:
      return "other";
  }
}

std::string string_or(const Json& object, const char* key, const std::string& fallback = {}) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

Json string_or_null(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? Json(it->get<std::string>()) : Json(nullptr);
}

// One check of a report, as the diff reads it.
struct CheckView {
  const Json* json = nullptr;
  std::string id;
  Status status = Status::unknown;
};

// The checks of a report with a string id and a known status, in report
// order; a repeated id keeps its first occurrence (ids are unique in a
// report triage wrote).
std::vector<CheckView> checks_of(const Json& report) {
  std::vector<CheckView> out;
  const auto it = report.find("checks");
  if (it == report.end() || !it->is_array()) return out;
  std::unordered_map<std::string, bool> seen;
  for (const auto& c : *it) {
    if (!c.is_object()) continue;
    const auto id = c.find("id");
    const auto status = c.find("status");
    if (id == c.end() || !id->is_string() || status == c.end() || !status->is_string()) continue;
    const auto s = parse_status(status->get<std::string>());
    if (!s) continue;
    if (!seen.emplace(id->get<std::string>(), true).second) continue;
    out.push_back({&c, id->get<std::string>(), *s});
  }
  return out;
}

Json side_json(const Json& report, const DiffSide& side, std::size_t checks) {
  const Json empty = Json::object();
  const auto run_it = report.find("run");
  const Json& run = run_it != report.end() && run_it->is_object() ? *run_it : empty;
  const auto summary_it = report.find("summary");
  const Json& summary = summary_it != report.end() && summary_it->is_object() ? *summary_it : empty;
  const auto partial = run.find("partial");
  return Json{{"source", side.run ? "history" : "file"},
              {"path", side.path},
              {"run", side.run ? Json(*side.run) : Json(nullptr)},
              {"run_id", string_or_null(run, "id")},
              {"started_at", string_or_null(run, "started_at")},
              {"host", string_or_null(run, "host")},
              {"config_path", string_or_null(run, "config_path")},
              {"status", string_or_null(summary, "status")},
              {"partial", partial != run.end() && partial->is_boolean() && partial->get<bool>()},
              {"checks", checks}};
}

Json check_entry(const CheckView& from, const CheckView& to) {
  return Json{{"id", to.id},
              {"from", std::string(to_string(from.status))},
              {"to", std::string(to_string(to.status))},
              {"summary", string_or(*to.json, "summary")},
              {"error", string_or_null(*to.json, "error")}};
}

Json lone_check_entry(const CheckView& c) {
  return Json{{"id", c.id},
              {"status", std::string(to_string(c.status))},
              {"summary", string_or(*c.json, "summary")},
              {"error", string_or_null(*c.json, "error")}};
}

// The metrics of a check with a string name and a finite value, by name
// (the first of a repeated name).
std::map<std::string, const Json*> metrics_of(const Json& check) {
  std::map<std::string, const Json*> out;
  const auto it = check.find("metrics");
  if (it == check.end() || !it->is_array()) return out;
  for (const auto& m : *it) {
    if (!m.is_object()) continue;
    const auto name = m.find("name");
    const auto value = m.find("value");
    if (name == m.end() || !name->is_string() || value == m.end() || !value->is_number()) continue;
    if (!std::isfinite(value->get<double>())) continue;
    out.emplace(name->get<std::string>(), &m);
  }
  return out;
}

struct FindingView {
  const Json* json;
  std::string title;
};

std::vector<FindingView> findings_of(const Json& check) {
  std::vector<FindingView> out;
  const auto it = check.find("findings");
  if (it == check.end() || !it->is_array()) return out;
  for (const auto& f : *it)
    if (f.is_object() && f.contains("title") && f.at("title").is_string())
      out.push_back({&f, f.at("title").get<std::string>()});
  return out;
}

// The findings of `mine` whose title is not matched by one of `theirs`,
// counted with multiplicity (two equal findings before and three now: one
// appeared).
std::vector<const Json*> unmatched(const std::vector<FindingView>& mine,
                                   const std::vector<FindingView>& theirs) {
  std::unordered_map<std::string, std::size_t> available;
  for (const auto& f : theirs) ++available[f.title];
  std::vector<const Json*> out;
  for (const auto& f : mine) {
    auto& n = available[f.title];
    if (n > 0)
      --n;
    else
      out.push_back(f.json);
  }
  return out;
}

Json finding_entry(const std::string& check, const Json& f) {
  return Json{{"check", check},
              {"severity", string_or(f, "severity", "info")},
              {"title", string_or(f, "title")},
              {"detail", string_or(f, "detail")},
              {"remediation", string_or(f, "remediation")}};
}

int severity_order(const std::string& s) {
  return s == "critical" ? 0 : s == "warning" ? 1 : 2;
}

// A list entry with the key it will be sorted by; sorts are stable so equal
// keys keep report order.
struct Item {
  double key = 0;
  Json json;
};

Json bounded(std::vector<Item> items, bool& truncated) {
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& x, const Item& y) { return x.key < y.key; });
  Json out = Json::array();
  for (auto& item : items) {
    if (out.size() == kMaxDiffItems) {
      truncated = true;
      break;
    }
    out.push_back(std::move(item.json));
  }
  return out;
}

}  // namespace

Diff diff_reports(const Json& a, const Json& b, const DiffOptions& options) {
  const auto before = checks_of(a);
  const auto after = checks_of(b);
  std::unordered_map<std::string, const CheckView*> before_by_id;
  for (const auto& c : before) before_by_id.emplace(c.id, &c);
  std::unordered_map<std::string, bool> in_after;
  for (const auto& c : after) in_after.emplace(c.id, true);

  std::vector<Item> new_failures, changes, recoveries, added, removed, moved, appeared, gone;
  std::size_t unchanged = 0;
  bool worse = false;
  const double min_change = std::max(0.0, options.min_change);

  for (const auto& now : after) {
    const auto found = before_by_id.find(now.id);
    if (found == before_by_id.end()) {
      // A check that appears already failing (or unable to judge) is news.
      if (failing(now.status) || now.status == Status::unknown) worse = true;
      added.push_back({static_cast<double>(-severity_rank(now.status)), lone_check_entry(now)});
      continue;
    }
    const CheckView& was = *found->second;
    if (was.status == now.status) {
      ++unchanged;
    } else {
      const auto change = classify(was.status, now.status);
      auto entry = check_entry(was, now);
      const double rank = -severity_rank(now.status);  // critical first
      switch (change) {
        case Change::new_failure:
          worse = true;
          new_failures.push_back({rank, std::move(entry)});
          break;
        case Change::recovery:
          recoveries.push_back({0, std::move(entry)});
          break;
        default:
          if (change == Change::worse) worse = true;
          entry["direction"] = direction_name(change);
          changes.push_back({change == Change::worse    ? 0.0
                             : change == Change::better ? 1.0
                                                        : 2.0,
                             std::move(entry)});
      }
    }

    const auto old_metrics = metrics_of(*was.json);
    for (const auto& [name, m] : metrics_of(*now.json)) {
      const auto old = old_metrics.find(name);
      if (old == old_metrics.end()) continue;
      const double from = old->second->at("value").get<double>();
      const double to = m->at("value").get<double>();
      if (!(std::fabs(to - from) > min_change * std::fabs(from))) continue;
      const bool relative = from != 0;
      const double ratio = relative ? (to - from) / std::fabs(from) : 0;
      moved.push_back({relative ? -std::fabs(ratio) : -std::numeric_limits<double>::infinity(),
                       Json{{"check", now.id},
                            {"name", name},
                            {"unit", string_or(*m, "unit")},
                            {"from", from},
                            {"to", to},
                            {"change", relative ? Json(ratio) : Json(nullptr)},
                            {"status_from", string_or_null(*old->second, "status")},
                            {"status_to", string_or_null(*m, "status")}}});
    }

    const auto old_findings = findings_of(*was.json);
    const auto new_findings = findings_of(*now.json);
    for (const Json* f : unmatched(new_findings, old_findings)) {
      auto entry = finding_entry(now.id, *f);
      const int order = severity_order(entry["severity"].get<std::string>());
      if (order < 2) worse = true;
      appeared.push_back({static_cast<double>(order), std::move(entry)});
    }
    for (const Json* f : unmatched(old_findings, new_findings)) {
      auto entry = finding_entry(now.id, *f);
      const int order = severity_order(entry["severity"].get<std::string>());
      gone.push_back({static_cast<double>(order), std::move(entry)});
    }
  }
  for (const auto& was : before)
    if (!in_after.count(was.id))
      removed.push_back({static_cast<double>(-severity_rank(was.status)), lone_check_entry(was)});

  bool truncated = false;
  Json doc{{"diff_version", kDiffVersion},
           {"min_change", min_change},
           {"worse", worse},
           {"a", side_json(a, options.a, before.size())},
           {"b", side_json(b, options.b, after.size())},
           {"counts",
            {{"new_failures", new_failures.size()},
             {"status_changes", changes.size()},
             {"recoveries", recoveries.size()},
             {"checks_added", added.size()},
             {"checks_removed", removed.size()},
             {"metrics_moved", moved.size()},
             {"findings_appeared", appeared.size()},
             {"findings_gone", gone.size()},
             {"unchanged", unchanged}}}};
  doc["new_failures"] = bounded(std::move(new_failures), truncated);
  doc["status_changes"] = bounded(std::move(changes), truncated);
  doc["recoveries"] = bounded(std::move(recoveries), truncated);
  doc["checks_added"] = bounded(std::move(added), truncated);
  doc["checks_removed"] = bounded(std::move(removed), truncated);
  doc["metrics_moved"] = bounded(std::move(moved), truncated);
  doc["findings_appeared"] = bounded(std::move(appeared), truncated);
  doc["findings_gone"] = bounded(std::move(gone), truncated);
  doc["truncated"] = truncated;
  return Diff{std::move(doc), worse};
}

// ---- the text view ----

namespace {

// Report text for one line of a terminal: cut to kMaxTextField bytes (at a
// UTF-8 boundary) and escaped.
std::string shown(const std::string& text, const DiffTextOptions& options) {
  std::string cut = text;
  bool clipped = false;
  if (cut.size() > kMaxTextField) {
    std::size_t end = kMaxTextField;
    while (end > 0 && (static_cast<unsigned char>(cut[end]) & 0xC0) == 0x80) --end;
    cut.resize(end);
    clipped = true;
  }
  std::string out = options.utf8 ? escape_control(cut) : escape_control_ascii(cut);
  if (clipped) out += options.utf8 ? "…" : "...";
  return out;
}

std::string shown(const Json& value, const DiffTextOptions& options) {
  return value.is_string() ? shown(value.get<std::string>(), options) : std::string();
}

std::string pad(std::string text, std::size_t width) {
  const auto w = display_width(text);
  if (w < width) text.append(width - w, ' ');
  return text;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string percent(double fraction) {
  return people_number(fraction * 100) + "%";
}

// Rows of one section, as columns; padded to the widest cell of the shown
// rows (ids at most 40 columns wide, so one long id does not push the rest).
class Section {
 public:
  Section(std::string title, std::size_t total) : title_(std::move(title)), total_(total) {}
  void row(std::vector<std::string> cells, std::string extra = {}) {
    rows_.push_back({std::move(cells), std::move(extra)});
  }
  void print(std::ostringstream& out, const DiffTextOptions& options) const {
    if (total_ == 0) return;
    out << "\n" << title_ << " (" << total_ << "):\n";
    std::vector<std::size_t> widths;
    const std::size_t shown_rows = std::min(rows_.size(), options.max_lines);
    for (std::size_t r = 0; r < shown_rows; ++r)
      for (std::size_t i = 0; i < rows_[r].cells.size(); ++i) {
        if (widths.size() <= i) widths.push_back(0);
        widths[i] =
            std::max(widths[i], std::min<std::size_t>(display_width(rows_[r].cells[i]), 40));
      }
    for (std::size_t r = 0; r < shown_rows; ++r) {
      const auto& cells = rows_[r].cells;
      std::string line;
      for (std::size_t i = 0; i < cells.size(); ++i)
        line += "  " + (i + 1 < cells.size() ? pad(cells[i], widths[i]) : cells[i]);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << "\n";
      if (!rows_[r].extra.empty()) out << "      " << rows_[r].extra << "\n";
    }
    if (total_ > shown_rows)
      out << "  " << (options.utf8 ? "… and " : "... and ") << (total_ - shown_rows)
          << " more (-f json lists them)\n";
  }

 private:
  struct Row {
    std::vector<std::string> cells;
    std::string extra;
  };
  std::string title_;
  std::size_t total_;
  std::vector<Row> rows_;
};

std::size_t count_of(const Json& doc, const char* key) {
  return doc.at("counts").value(key, std::size_t{0});
}

// "run 42" for a run of the history, else the report file's path.
std::string side_name(const Json& side, const DiffTextOptions& options) {
  return side.at("run").is_number_integer()
             ? "run " + std::to_string(side.at("run").get<std::int64_t>())
             : shown(side.at("path"), options);
}

std::string side_line(const char* label, const Json& side, const DiffTextOptions& options) {
  std::string line = std::string(label) + side_name(side, options) + ", started " +
                     shown(side.at("started_at"), options) + " on " +
                     shown(side.at("host"), options) + ": " + shown(side.at("status"), options);
  if (side.value("partial", false)) line += " (partial run)";
  line += ", " + plural(side.value("checks", std::size_t{0}), "check", "checks");
  return line;
}

std::string check_summary(const Json& entry, const DiffTextOptions& options) {
  std::string text = shown(entry.at("summary"), options);
  const auto& error = entry.at("error");
  if (error.is_string() && !error.get<std::string>().empty() &&
      entry.at("summary").get<std::string>().find(error.get<std::string>()) == std::string::npos)
    text += (text.empty() ? "" : " ") + std::string("(error: ") + shown(error, options) + ")";
  return text;
}

std::string arrow(const DiffTextOptions& options) {
  return options.utf8 ? " → " : " -> ";
}

void status_rows(Section& section, const Json& list, const DiffTextOptions& options,
                 const char* only_direction = nullptr, bool skip_direction = false) {
  for (const auto& e : list) {
    if (only_direction != nullptr) {
      const bool match = e.value("direction", "") == only_direction;
      if (match == skip_direction) continue;
    }
    section.row({shown(e.at("id"), options),
                 shown(e.at("from"), options) + arrow(options) + shown(e.at("to"), options),
                 check_summary(e, options)});
  }
}

}  // namespace

std::string render_diff_text(const Diff& diff, const DiffTextOptions& options) {
  const Json& doc = diff.document;
  std::ostringstream out;
  const auto& a = doc.at("a");
  const auto& b = doc.at("b");
  out << "triage diff: " << side_name(a, options) << arrow(options) << side_name(b, options);
  if (a.at("run").is_number_integer() && b.at("run").is_number_integer() &&
      a.at("path") == b.at("path"))
    out << " (history " << shown(a.at("path"), options) << ")";
  out << "\n"
      << side_line("Before: ", a, options) << "\n"
      << side_line("After:  ", b, options) << "\n";

  const std::string min_change = percent(doc.at("min_change").get<double>());
  std::size_t worse_changes = 0, other_changes = 0;
  for (const auto& e : doc.at("status_changes"))
    (e.value("direction", "") == "worse" ? worse_changes : other_changes) += 1;
  // The lists may be cut at kMaxDiffItems: the counts are the true numbers.
  const std::size_t listed_changes = worse_changes + other_changes;
  const std::size_t all_changes = count_of(doc, "status_changes");
  if (all_changes > listed_changes) other_changes += all_changes - listed_changes;
  std::size_t bad_findings = 0;
  for (const auto& f : doc.at("findings_appeared"))
    if (f.value("severity", "") != "info") ++bad_findings;
  std::size_t failing_added = 0;
  for (const auto& c : doc.at("checks_added"))
    if (c.value("status", "") != "ok" && c.value("status", "") != "skipped") ++failing_added;

  std::vector<std::string> bad, rest;
  const auto note = [](std::vector<std::string>& to, std::size_t n, const char* one,
                       const char* many) {
    if (n > 0) to.push_back(plural(n, one, many));
  };
  note(bad, count_of(doc, "new_failures"), "new failure", "new failures");
  note(bad, worse_changes, "status worse", "statuses worse");
  note(bad, bad_findings, "warning/critical finding appeared",
       "warning/critical findings appeared");
  note(bad, failing_added, "check added failing or unknown", "checks added failing or unknown");
  note(rest, count_of(doc, "recoveries"), "recovery", "recoveries");
  note(rest, other_changes, "other status change", "other status changes");
  note(rest, count_of(doc, "checks_added") - failing_added, "check added", "checks added");
  note(rest, count_of(doc, "checks_removed"), "check removed", "checks removed");
  note(rest, count_of(doc, "metrics_moved"), ("metric moved past " + min_change).c_str(),
       ("metrics moved past " + min_change).c_str());
  note(rest, count_of(doc, "findings_appeared") - bad_findings, "info finding appeared",
       "info findings appeared");
  note(rest, count_of(doc, "findings_gone"), "finding gone", "findings gone");
  const auto join = [](const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
    return s;
  };
  if (diff.worse)
    out << "WORSE: " << join(bad) << (rest.empty() ? "" : "; also " + join(rest)) << ".\n";
  else if (!rest.empty())
    out << "Nothing got worse: " << join(rest) << ".\n";
  else
    out << "No change: " << plural(count_of(doc, "unchanged"), "check", "checks")
        << " with the same status, no metric moved past " << min_change
        << ", no finding appeared or went away.\n";

  Section failures("New failures", count_of(doc, "new_failures"));
  status_rows(failures, doc.at("new_failures"), options);
  failures.print(out, options);

  Section worse("Worse", worse_changes);
  status_rows(worse, doc.at("status_changes"), options, "worse");
  worse.print(out, options);

  Section appeared("Findings appeared", count_of(doc, "findings_appeared"));
  for (const auto& f : doc.at("findings_appeared")) {
    const std::string fix = f.value("remediation", "");
    appeared.row({shown(f.at("check"), options), shown(f.at("severity"), options),
                  shown(f.at("title"), options)},
                 fix.empty() ? std::string() : "fix: " + shown(fix, options));
  }
  appeared.print(out, options);

  Section added("Checks added", count_of(doc, "checks_added"));
  for (const auto& c : doc.at("checks_added"))
    added.row(
        {shown(c.at("id"), options), shown(c.at("status"), options), check_summary(c, options)});
  added.print(out, options);

  Section moved("Metrics moved past " + min_change, count_of(doc, "metrics_moved"));
  for (const auto& m : doc.at("metrics_moved")) {
    const std::string unit = m.value("unit", "");
    std::string change =
        m.at("change").is_number()
            ? (m.at("change").get<double>() > 0 ? "+" : "") + percent(m.at("change").get<double>())
            : std::string("(was 0)");
    std::string values = people_quantity(m.at("from").get<double>(), unit) + arrow(options) +
                         people_quantity(m.at("to").get<double>(), unit);
    if (m.at("status_from") != m.at("status_to") && m.at("status_to").is_string())
      change += "  " + shown(m.at("status_from"), options) + arrow(options) +
                shown(m.at("status_to"), options);
    moved.row({shown(m.at("check"), options), shown(m.at("name"), options), shown(values, options),
               change});
  }
  moved.print(out, options);

  Section recovered("Recoveries", count_of(doc, "recoveries"));
  status_rows(recovered, doc.at("recoveries"), options);
  recovered.print(out, options);

  Section others("Other status changes", other_changes);
  status_rows(others, doc.at("status_changes"), options, "worse", true);
  others.print(out, options);

  Section removed("Checks removed", count_of(doc, "checks_removed"));
  for (const auto& c : doc.at("checks_removed"))
    removed.row({shown(c.at("id"), options), "was " + shown(c.at("status"), options),
                 check_summary(c, options)});
  removed.print(out, options);

  Section gone("Findings gone", count_of(doc, "findings_gone"));
  for (const auto& f : doc.at("findings_gone"))
    gone.row({shown(f.at("check"), options), shown(f.at("severity"), options),
              shown(f.at("title"), options)});
  gone.print(out, options);
  return out.str();
}

}  // namespace triage::core
