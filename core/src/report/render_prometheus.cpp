// The Prometheus text exposition format, as node_exporter's textfile
// collector reads it: one gauge family per kind of value, labels (never name
// suffixes) for checks and items, no timestamps.
#include <cstdio>
#include <ctime>
#include <set>

#include "triage/core/report.hpp"
#include "triage/core/text_format.hpp"

namespace triage::core {

namespace {

using Json = nlohmann::ordered_json;

// A label value: backslash, double quote and line feed escaped, as the
// exposition format requires.
std::string label_value(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string labels(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out = "{";
  for (const auto& [name, value] : pairs)
    out += (out.size() > 1 ? "," : "") + name + "=\"" + label_value(value) + "\"";
  return out + "}";
}

std::string text_of(const Json& value) {
  return value.is_string() ? value.get<std::string>() : std::string();
}

int status_value(const std::string& status) {
  if (status == "ok") return 0;
  if (status == "warning") return 1;
  if (status == "critical") return 2;
  return 3;
}

double epoch_seconds(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + ms / 1000.0;
}

struct Family {
  std::string name, help;
  std::vector<std::string> samples;
};

}  // namespace

std::string render_prometheus(const Json& report) {
  Family status{"triage_check_status",
                "Status of a check: 0 ok, 1 warning, 2 critical, 3 unknown (skipped checks have "
                "none; see triage_check_skipped).",
                {}};
  Family skipped{"triage_check_skipped",
                 "1 when a check was skipped (its dependency failed, or "
                 "the run deadline came first).",
                 {}};
  Family duration{
      "triage_check_duration_seconds", "Time a check took, retries and backoff included.", {}};
  Family metric{"triage_metric",
                "A metric a check reported; per-item metrics (name[item]) carry the item as a "
                "label.",
                {}};
  Family metric_status{"triage_metric_status",
                       "Status of a metric against its thresholds: 0 ok, 1 warning, 2 critical.",
                       {}};
  std::set<std::string> seen;  // a series appears once, whatever the report holds
  auto add = [&](Family& family, const std::string& label_text, const std::string& value) {
    const std::string series = family.name + label_text;
    if (seen.insert(series).second) family.samples.push_back(series + " " + value);
  };

  for (const auto& c : report.at("checks")) {
    const std::vector<std::pair<std::string, std::string>> check_labels{
        {"check", text_of(c.at("id"))},
        {"plugin", text_of(c.at("plugin"))},
        {"type", text_of(c.at("type"))},
        {"target", c.contains("target") ? text_of(c.at("target")) : std::string()}};
    const std::string st = c.at("status").get<std::string>();
    const std::string l = labels(check_labels);
    if (st == "skipped") {
      add(skipped, l, "1");
      continue;
    }
    add(status, l, std::to_string(status_value(st)));
    add(duration, l, plain_number(c.at("duration_ms").get<double>() / 1000.0));
    for (const auto& m : c.at("metrics")) {
      std::string name = m.at("name").get<std::string>();
      std::string item;
      const auto open = name.find('[');
      if (open != std::string::npos && !name.empty() && name.back() == ']') {
        item = name.substr(open + 1, name.size() - open - 2);
        name.resize(open);
      }
      std::vector<std::pair<std::string, std::string>> ml{{"check", text_of(c.at("id"))},
                                                          {"name", name}};
      if (!item.empty()) ml.emplace_back("item", item);
      ml.emplace_back("unit", text_of(m.value("unit", Json())));
      const std::string mlabels = labels(ml);
      add(metric, mlabels, plain_number(m.at("value").get<double>()));
      const std::string ms = m.at("status").get<std::string>();
      add(metric_status, mlabels, std::to_string(status_value(ms) == 3 ? 0 : status_value(ms)));
    }
  }

  const auto& run = report.at("run");
  const auto& summary = report.at("summary");
  std::string out;
  auto family_text = [&](const Family& f) {
    if (f.samples.empty()) return;
    out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " gauge\n";
    for (const auto& s : f.samples) out += s + "\n";
  };
  family_text(status);
  family_text(skipped);
  family_text(duration);
  family_text(metric);
  family_text(metric_status);
  out +=
      "# HELP triage_run_status Worst status of the run: 0 ok, 1 warning, 2 critical, 3 unknown.\n"
      "# TYPE triage_run_status gauge\ntriage_run_status " +
      std::to_string(status_value(summary.at("status").get<std::string>() == "skipped"
                                      ? "ok"
                                      : summary.at("status").get<std::string>())) +
      "\n";
  out += "# HELP triage_run_checks Checks of the run by status.\n# TYPE triage_run_checks gauge\n";
  for (const char* s : {"ok", "warning", "critical", "unknown", "skipped"})
    out += "triage_run_checks{status=\"" + std::string(s) + "\"} " +
           std::to_string(summary.at("counts").at(s).get<int>()) + "\n";
  out +=
      "# HELP triage_run_partial 1 when the run was cut short (deadline or interruption).\n"
      "# TYPE triage_run_partial gauge\ntriage_run_partial " +
      std::string(run.value("partial", false) ? "1" : "0") + "\n";
  out +=
      "# HELP triage_run_duration_seconds Wall time of the run.\n"
      "# TYPE triage_run_duration_seconds gauge\ntriage_run_duration_seconds " +
      plain_number(run.at("duration_ms").get<double>() / 1000.0) + "\n";
  out +=
      "# HELP triage_run_timestamp_seconds When the run finished, in seconds since the epoch.\n"
      "# TYPE triage_run_timestamp_seconds gauge\ntriage_run_timestamp_seconds " +
      plain_number(epoch_seconds(run.at("finished_at").get<std::string>())) + "\n";
  return out;
}

}  // namespace triage::core
