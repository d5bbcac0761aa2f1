// The Nagios view: one status line with perfdata, per the Monitoring Plugins
// development guidelines ('label'=value[UOM];[warn];[crit];[min];[max]).
#include <cstdio>
#include <set>

#include "triage/core/report.hpp"

namespace triage::core {

namespace {

// The status line and perfdata must stay on one line and must not contain '|'.
std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '|') c = ' ';
  return s;
}

std::string label(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    if (c == '=' || c == '\n' || c == '|') c = '_';
    out += c;
  }
  return out + "'";
}

std::string uom(const std::string& unit) {
  static const std::set<std::string> kAllowed{"s",  "ms", "us", "%",  "B",
                                              "KB", "MB", "GB", "TB", "c"};
  return kAllowed.count(unit) != 0 ? unit : "";
}

}  // namespace

std::string render_nagios(const nlohmann::ordered_json& report) {
  const auto& summary = report.at("summary");
  std::string status = summary.at("status").get<std::string>();
  std::string word = status == "skipped" ? "OK" : status;
  for (auto& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  std::string counts;
  for (const char* s : {"critical", "unknown", "warning", "ok", "skipped"}) {
    const int n = summary.at("counts").at(s).get<int>();
    if (n > 0) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + s;
  }
  std::string problems;
  std::string perf;
  for (const auto& c : report.at("checks")) {
    const auto st = c.at("status").get<std::string>();
    const auto id = c.at("id").get<std::string>();
    if (st != "ok" && st != "skipped")
      problems += (problems.empty() ? "" : "; ") + id + ": " + c.at("summary").get<std::string>();
    for (const auto& m : c.at("metrics")) {
      char value[48];
      std::snprintf(value, sizeof value, "%.6g", m.at("value").get<double>());
      auto range = [&](const char* key) {
        return m.at(key).is_null() ? std::string() : m.at(key).get<std::string>();
      };
      perf += " " + label(id + "." + m.at("name").get<std::string>()) + "=" + value +
              uom(m.at("unit").get<std::string>()) + ";" + range("warning") + ";" +
              range("critical") + ";;";
    }
  }
  std::string line = "TRIAGE " + word + " - " + (counts.empty() ? "no checks" : counts);
  if (!problems.empty()) line += ": " + problems;
  line = one_line(line);
  if (!perf.empty()) line += " |" + one_line(perf);
  return line + "\n";
}

}  // namespace triage::core
