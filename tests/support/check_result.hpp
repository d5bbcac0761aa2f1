// What the plugin tests read off a check's result (triage/testing.hpp): all
// of its text, for INFO() and for proving a secret is nowhere in it, and the
// value of a metric that must be there. Include after <catch2/catch.hpp>.
#pragma once

#include <sstream>
#include <string>

#include <triage/testing.hpp>

namespace triage::test {

// Summary, error, metrics, findings (title, detail, remediation),
// attributes and log lines, one per line.
inline std::string all_text(const triage::testing::Result& r) {
  std::ostringstream out;
  out << "summary: " << r.summary << "\nerror: " << r.error << "\n";
  for (const auto& m : r.metrics) out << "metric " << m.name << " = " << m.value << "\n";
  for (const auto& f : r.findings)
    out << "finding " << static_cast<int>(f.severity) << ": " << f.title << " | " << f.detail
        << " | " << f.remediation << "\n";
  for (const auto& [k, v] : r.attributes) out << "attribute " << k << " = " << v << "\n";
  for (const auto& l : r.logs) out << "log " << l << "\n";
  return out.str();
}

// The metric's value; fails the test when the result has no such metric.
inline double value(const triage::testing::Result& r, const std::string& name) {
  const auto* m = r.metric(name);
  INFO("metric " << name);
  REQUIRE(m != nullptr);
  return m->value;
}

inline bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace triage::test
