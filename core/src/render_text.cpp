// The human view: failures first with their evidence and remediation.
#include <algorithm>
#include <cstdio>

#include "triage/core/report.hpp"

namespace triage::core {

namespace {

struct Style {
  bool on;
  std::string paint(std::string_view code, std::string_view text) const {
    if (!on) return std::string(text);
    return "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m";
  }
};

std::string_view colour_of(std::string_view status) {
  if (status == "ok") return "32";
  if (status == "warning") return "33";
  if (status == "critical") return "1;31";
  if (status == "unknown") return "35";
  return "2";
}

int rank(std::string_view status) {
  if (status == "critical") return 0;
  if (status == "unknown") return 1;
  if (status == "warning") return 2;
  if (status == "ok") return 3;
  return 4;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string format_ms(double ms) {
  char buf[32];
  if (ms >= 1000)
    std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000);
  else
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  return buf;
}

std::string format_value(const nlohmann::ordered_json& m) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6g", m.at("value").get<double>());
  const auto unit = m.at("unit").get<std::string>();
  return std::string(buf) + (unit.empty() ? "" : " " + unit);
}

}  // namespace

std::string render_text(const nlohmann::ordered_json& report, bool color) {
  const Style style{color};
  std::vector<const nlohmann::ordered_json*> checks;
  for (const auto& c : report.at("checks")) checks.push_back(&c);
  std::stable_sort(checks.begin(), checks.end(), [](const auto* a, const auto* b) {
    return rank(a->at("status").template get<std::string>()) <
           rank(b->at("status").template get<std::string>());
  });
  std::size_t id_width = 2, type_width = 4;
  for (const auto* c : checks) {
    id_width = std::max(id_width, c->at("id").get<std::string>().size());
    type_width = std::max(type_width, c->at("plugin").get<std::string>().size() + 1 +
                                          c->at("type").get<std::string>().size());
  }
  id_width = std::min<std::size_t>(id_width, 40);

  const auto& run = report.at("run");
  std::string out;
  out += style.paint("1", "triage") + " " + run.at("triage_version").get<std::string>() +
         " · host " + run.at("host").get<std::string>() + " · " + std::to_string(checks.size()) +
         " checks in " + format_ms(run.at("duration_ms").get<double>()) + "\n\n";

  for (const auto* c : checks) {
    const auto status = c->at("status").get<std::string>();
    const bool failing = status != "ok" && status != "skipped";
    out += style.paint(colour_of(status), pad(upper(status), 9)) + " " +
           pad(c->at("id").get<std::string>(), id_width) + "  " +
           pad(c->at("plugin").get<std::string>() + "." + c->at("type").get<std::string>(),
               type_width) +
           "  " + c->at("summary").get<std::string>();
    if (status != "skipped") out += style.paint("2", "  (" + format_ms(c->at("duration_ms")) + ")");
    out += "\n";
    if (!failing) continue;
    for (const auto& m : c->at("metrics")) {
      const auto ms = m.at("status").get<std::string>();
      if (ms == "ok") continue;
      const auto& range = m.at(ms == "critical" ? "critical" : "warning");
      out += "          " + style.paint(colour_of(ms), "▲ ") + m.at("name").get<std::string>() +
             " = " + format_value(m) + "  (" + ms + " threshold " + range.get<std::string>() +
             ")\n";
    }
    for (const auto& f : c->at("findings")) {
      const auto sev = f.at("severity").get<std::string>();
      const std::string mark = sev == "critical" ? "✗ " : sev == "warning" ? "! " : "i ";
      out += "          " + style.paint(colour_of(sev == "info" ? "skipped" : sev), mark) +
             style.paint("1", f.at("title").get<std::string>());
      const auto detail = f.at("detail").get<std::string>();
      if (!detail.empty()) out += ": " + detail;
      out += "\n";
      const auto fix = f.at("remediation").get<std::string>();
      if (!fix.empty()) out += "            " + style.paint("36", "→ " + fix) + "\n";
    }
    if (!c->at("error").is_null())
      out += "          error: " + c->at("error").get<std::string>() + "\n";
  }

  const auto& summary = report.at("summary");
  std::string counts;
  for (const char* s : {"critical", "unknown", "warning", "ok", "skipped"}) {
    const int n = summary.at("counts").at(s).get<int>();
    if (n > 0) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + s;
  }
  const auto worst = summary.at("status").get<std::string>();
  out += "\n" + style.paint(colour_of(worst), upper(worst)) + " — " +
         (counts.empty() ? "no checks" : counts) + "\n";
  return out;
}

}  // namespace triage::core
