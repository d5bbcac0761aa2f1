// The JUnit XML view, for CI dashboards: one testcase per check; warning and
// critical are failures, unknown is an error, skipped is skipped.
#include <cstdio>
#include <string_view>
#include <triage/evaluation.hpp>

#include "triage/core/report.hpp"
#include "triage/core/text_format.hpp"

namespace triage::core {

namespace {

// True for the characters XML 1.0 allows in a document (its Char production):
// #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
// The others (most C0 controls, surrogates, U+FFFE, U+FFFF) are not allowed
// even as character references: one of them makes the whole file invalid.
bool xml_char(char32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Text for an XML attribute value or element content: markup characters as
// entities, and every code point XML 1.0 forbids (or a byte that is not
// UTF-8) as U+FFFD, so that a reader sees something was there.
std::string xml(const std::string& s) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    const auto cp = evaluation::next_code_point(s, i);
    if (!cp || !xml_char(*cp)) {
      out += kReplacement;
      continue;
    }
    switch (*cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.append(s, start, i - start);
    }
  }
  return out;
}

std::string number(double v) {
  return plain_number(v);
}

std::string seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
  return buf;
}

}  // namespace

std::string render_junit(const nlohmann::ordered_json& report) {
  int failures = 0, errors = 0, skipped = 0;
  std::string cases;
  for (const auto& c : report.at("checks")) {
    const auto status = c.at("status").get<std::string>();
    const auto summary = c.at("summary").get<std::string>();
    cases += "    <testcase classname=\"" +
             xml(c.at("plugin").get<std::string>() + "." + c.at("type").get<std::string>()) +
             "\" name=\"" + xml(c.at("id").get<std::string>()) + "\" time=\"" +
             seconds(c.at("duration_ms").get<double>()) + "\"";
    if (status == "ok") {
      cases += "/>\n";
      continue;
    }
    cases += ">\n";
    std::string body;
    for (const auto& f : c.at("findings"))
      body += "[" + f.at("severity").get<std::string>() + "] " + f.at("title").get<std::string>() +
              ": " + f.at("detail").get<std::string>() +
              "\n  remediation: " + f.at("remediation").get<std::string>() + "\n";
    for (const auto& m : c.at("metrics"))
      if (m.at("status") != "ok") {
        body += m.at("name").get<std::string>() + " = " + number(m.at("value").get<double>()) +
                " (" + m.at("status").get<std::string>() + ")\n";
        const auto fix = m.find("remediation");
        if (fix != m.end() && fix->is_string() && !fix->get<std::string>().empty())
          body += "  remediation: " + fix->get<std::string>() + "\n";
      }
    if (status == "skipped") {
      ++skipped;
      cases += "      <skipped message=\"" + xml(summary) + "\"/>\n";
    } else if (status == "unknown") {
      ++errors;
      cases += "      <error type=\"unknown\" message=\"" + xml(summary) + "\">" + xml(body) +
               "</error>\n";
    } else {
      ++failures;
      cases += "      <failure type=\"" + xml(status) + "\" message=\"" + xml(summary) + "\">" +
               xml(body) + "</failure>\n";
    }
    cases += "    </testcase>\n";
  }
  const auto& run = report.at("run");
  // junit-10.xsd (Jenkins xunit): `skipped` is an attribute of <testsuite>
  // only; <testsuites> takes name, time, tests, failures and errors.
  const std::string totals =
      "name=\"triage\" tests=\"" + std::to_string(report.at("checks").size()) + "\" failures=\"" +
      std::to_string(failures) + "\" errors=\"" + std::to_string(errors) + "\"";
  const std::string time = " time=\"" + seconds(run.at("duration_ms").get<double>()) + "\"";
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites " + totals + time +
         ">\n  <testsuite " + totals + " skipped=\"" + std::to_string(skipped) + "\"" + time +
         " hostname=\"" + xml(run.at("host").get<std::string>()) + "\" timestamp=\"" +
         xml(run.at("started_at").get<std::string>()) + "\">\n" + cases +
         "  </testsuite>\n</testsuites>\n";
}

}  // namespace triage::core
