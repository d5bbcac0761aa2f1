// The Nagios view, per the Monitoring Plugins development guidelines: one
// status line with perfdata ('label'=value[UOM];[warn];[crit];[min];[max]),
// short enough for NRPE, then the failing checks' evidence and remediation
// as long output.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <set>

#include "triage/core/report.hpp"
#include "triage/core/text_format.hpp"

namespace triage::core {

namespace {

using Json = nlohmann::ordered_json;

// NRPE (v2, and v3/v4 talking to older agents) carries 1,024 bytes of
// output; the first line, newline included, must fit in it on its own.
constexpr std::size_t kMaxFirstLine = 1023;

// Plugin text on a Nagios line: no line breaks or controls (escaped), and
// no '|', which would start the perfdata.
std::string nagios_text(std::string_view text) {
  std::string out = escape_control_ascii(text);
  std::replace(out.begin(), out.end(), '|', '/');
  return out;
}

std::string nagios_field(const Json& value) {
  return value.is_string() ? nagios_text(std::string_view(value.get<std::string>()))
                           : std::string();
}

// A perfdata label: always quoted (a label may hold spaces), a quote doubled,
// '=' (which ends the label) replaced.
std::string label(std::string_view text) {
  std::string out = "'";
  for (char c : nagios_text(text)) {
    if (c == '\'') out += '\'';
    if (c == '=') c = '_';
    out += c;
  }
  return out + "'";
}

std::string uom(const std::string& unit) {
  static const std::set<std::string> kAllowed{"s",  "ms", "us", "%",  "B",
                                              "KB", "MB", "GB", "TB", "c"};
  return kAllowed.count(unit) != 0 ? unit : "";
}

// A perfdata value: 6 significant digits (whole numbers kept whole), never
// an exponent, which Nagios' and many graphers' parsers refuse.
std::string perf_number(double value) {
  if (!std::isfinite(value) || value == 0) return plain_number(value);
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  const int decimals = std::clamp(5 - magnitude, 0, 15);
  std::array<char, 400> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f", decimals, value);
  std::string text = buf.data();
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

std::string perf_token(const std::string& id, const Json& m) {
  auto range = [&](const char* key) {
    const auto it = m.find(key);
    return it == m.end() || !it->is_string() ? std::string() : nagios_field(*it);
  };
  const std::string unit = m.value("unit", std::string());
  std::string token = label(id + "." + m.at("name").get<std::string>()) + "=" +
                      perf_number(m.at("value").get<double>()) + uom(unit) + ";" +
                      range("warning") + ";" + range("critical") + ";";
  if (unit == "%") token += "0;100";
  // Trailing empty fields may be dropped (guidelines): keep the line short.
  while (!token.empty() && token.back() == ';') token.pop_back();
  return token;
}

int failing_rank(std::string_view status) {
  if (status == "critical") return 0;
  if (status == "warning") return 1;
  if (status == "unknown") return 2;
  return 3;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string nagios_unknown_line(std::string_view why) {
  std::string line = "TRIAGE UNKNOWN - " + nagios_text(why);
  if (line.size() > kMaxFirstLine) line.resize(kMaxFirstLine - 3), line += "...";
  return line + "\n";
}

std::string render_nagios(const Json& report) {
  const auto& summary = report.at("summary");
  const std::string status = summary.at("status").get<std::string>();
  const std::string word = upper(status == "skipped" ? "ok" : status);

  std::vector<const Json*> checks;
  for (const auto& c : report.at("checks")) checks.push_back(&c);
  std::stable_sort(checks.begin(), checks.end(), [](const Json* a, const Json* b) {
    return failing_rank(a->at("status").get<std::string>()) <
           failing_rank(b->at("status").get<std::string>());
  });

  std::string counts;
  for (const char* s : {"critical", "warning", "unknown", "ok", "skipped"}) {
    const int n = summary.at("counts").at(s).get<int>();
    if (n > 0) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + s;
  }
  std::string head = "TRIAGE " + word + " - ";
  const auto message = summary.find("message");
  if (message != summary.end() && message->is_string()) head += nagios_field(*message) + "; ";
  head += counts.empty() ? "no checks" : counts;

  // Perfdata: failing checks' first, so that a cut keeps the evidence.
  std::vector<std::string> perf;
  for (const auto* c : checks)
    for (const auto& m : c->at("metrics")) perf.push_back(perf_token(c->at("id"), m));

  // Problems: "id: summary" per failing check, cut at a whole entry.
  std::vector<std::string> problems;
  for (const auto* c : checks)
    if (failing_rank(c->at("status").get<std::string>()) < 3)
      problems.push_back(nagios_field(c->at("id")) + ": " + nagios_field(c->at("summary")));

  // The text may use up to half of the line when there is perfdata to show.
  const std::size_t text_budget = perf.empty() ? kMaxFirstLine : kMaxFirstLine / 2;
  std::string line = head;
  std::size_t shown = 0;
  for (const auto& p : problems) {
    const std::string sep = shown == 0 ? ": " : "; ";
    const std::string more = " (+" + std::to_string(problems.size() - shown) + " more)";
    if (line.size() + sep.size() + p.size() + more.size() > text_budget) break;
    line += sep + p;
    ++shown;
  }
  if (shown == 0 && !problems.empty()) {
    // Even the first entry is too long: cut it at a character boundary.
    std::string first = problems.front();
    const std::size_t room = text_budget > line.size() + 20 ? text_budget - line.size() - 20 : 0;
    if (first.size() > room) {
      first.resize(room);
      while (!first.empty() && (static_cast<unsigned char>(first.back()) & 0xC0) == 0x80)
        first.pop_back();
      if (!first.empty() && static_cast<unsigned char>(first.back()) >= 0xC0) first.pop_back();
      first += "...";
    }
    line += ": " + first;
    shown = 1;
  }
  if (shown < problems.size()) line += " (+" + std::to_string(problems.size() - shown) + " more)";

  std::size_t perf_shown = 0;
  std::string perf_text;
  if (!perf.empty()) {
    // Reserve room for the note in case not every token fits.
    const std::string note_room = " (perfdata: " + std::to_string(perf.size()) + " of " +
                                  std::to_string(perf.size()) + " metrics)";
    std::size_t all = 0;
    for (const auto& token : perf) all += token.size() + 1;
    const bool fits_all = line.size() + 3 + all - 1 <= kMaxFirstLine;
    const std::size_t budget =
        fits_all ? kMaxFirstLine : kMaxFirstLine - std::min(kMaxFirstLine, note_room.size());
    for (const auto& token : perf) {
      const std::size_t after =
          line.size() + 3 + perf_text.size() + (perf_text.empty() ? 0 : 1) + token.size();
      if (after > budget) break;
      perf_text += (perf_text.empty() ? "" : " ") + token;
      ++perf_shown;
    }
    if (perf_shown < perf.size())
      line += " (perfdata: " + std::to_string(perf_shown) + " of " + std::to_string(perf.size()) +
              " metrics)";
    if (!perf_text.empty()) line += " | " + perf_text;
  }

  // Long output: each failing check's evidence and remediation, one per line.
  std::string long_output;
  for (const auto* c : checks) {
    const std::string st = c->at("status").get<std::string>();
    if (failing_rank(st) == 3) continue;
    long_output +=
        upper(st) + " " + nagios_field(c->at("id")) + ": " + nagios_field(c->at("summary")) + "\n";
    for (const auto& m : c->at("metrics")) {
      const auto ms = m.at("status").get<std::string>();
      if (ms == "ok" || ms == "skipped") continue;
      const auto& range = m.at(ms == "critical" ? "critical" : "warning");
      long_output += "  " + nagios_field(m.at("name")) + " = " +
                     nagios_text(people_quantity(m.at("value").get<double>(),
                                                 m.value("unit", std::string()))) +
                     " (" + ms + " threshold " + nagios_field(range) + ")\n";
      const auto fix = m.find("remediation");
      if (fix != m.end() && fix->is_string() && !fix->get<std::string>().empty())
        long_output += "    fix: " + nagios_field(*fix) + "\n";
    }
    for (const auto& f : c->at("findings")) {
      std::string text =
          "  [" + f.at("severity").get<std::string>() + "] " + nagios_field(f.at("title"));
      const std::string detail = nagios_field(f.at("detail"));
      if (!detail.empty()) text += ": " + detail;
      long_output += text + "\n";
      const std::string fix = nagios_field(f.at("remediation"));
      if (!fix.empty()) long_output += "    fix: " + fix + "\n";
    }
    if (c->contains("error") && c->at("error").is_string())
      long_output += "  error: " + nagios_field(c->at("error")) + "\n";
  }
  return line + "\n" + long_output;
}

}  // namespace triage::core
