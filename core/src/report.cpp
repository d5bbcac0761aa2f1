#include "triage/core/report.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <random>

namespace triage::core {

namespace {

nlohmann::ordered_json range_json(const std::optional<Range>& r) {
  return r ? nlohmann::ordered_json(r->text()) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json text_or_null(const std::string& s) {
  return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
}

nlohmann::ordered_json check_json(const CheckSpec& spec, const CheckResult& r) {
  nlohmann::ordered_json metrics = nlohmann::ordered_json::array();
  for (const auto& m : r.metrics)
    metrics.push_back({{"name", m.name},
                       {"value", m.value},
                       {"unit", m.unit},
                       {"warning", range_json(m.warning)},
                       {"critical", range_json(m.critical)},
                       {"status", to_string(m.status)}});
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const auto& f : r.findings)
    findings.push_back({{"severity", to_string(f.severity)},
                        {"title", f.title},
                        {"detail", f.detail},
                        {"remediation", f.remediation}});
  nlohmann::ordered_json attributes = nlohmann::ordered_json::object();
  for (const auto& [k, v] : r.attributes) attributes[k] = v;
  return {{"id", spec.id},
          {"plugin", spec.plugin},
          {"type", spec.type},
          {"target", text_or_null(spec.target)},
          {"tags", spec.tags},
          {"status", to_string(r.status)},
          {"summary", r.summary},
          {"duration_ms", r.duration_ms},
          {"attempts", r.attempts},
          {"metrics", metrics},
          {"findings", findings},
          {"attributes", attributes},
          {"error", text_or_null(r.error)},
          {"skipped_because", text_or_null(r.skipped_because)},
          {"truncated", r.truncated}};
}

}  // namespace

std::string iso8601(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 96> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf.data();
}

RunInfo start_run_info(std::string config_path) {
  RunInfo info;
  std::random_device rd;
  std::array<char, 33> id{};
  for (int i = 0; i < 4; ++i)
    std::snprintf(id.data() + i * 8, 9, "%08x", static_cast<unsigned>(rd()));
  info.id = id.data();
  info.started_at = std::chrono::system_clock::now();
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0) info.host = host.data();
  info.config_path = std::move(config_path);
  return info;
}

nlohmann::ordered_json build_report(const Config& config, const RunOutcome& outcome,
                                    const RunInfo& info) {
  std::array<int, 5> counts{};
  Status status = Status::ok;
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const auto& r : outcome.results) {
    ++counts[static_cast<std::size_t>(r.status)];
    status = worst(status, r.status);
    checks.push_back(check_json(config.checks[r.index], r));
  }
  nlohmann::ordered_json count_json = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < counts.size(); ++i)
    count_json[std::string(to_string(static_cast<Status>(i)))] = counts[i];
  const double duration =
      std::chrono::duration<double, std::milli>(info.finished_at - info.started_at).count();
  nlohmann::ordered_json report{
      {"schema_version", kReportSchemaVersion},
      {"run",
       {{"id", info.id},
        {"started_at", iso8601(info.started_at)},
        {"finished_at", iso8601(info.finished_at)},
        {"duration_ms", duration},
        {"host", info.host},
        {"triage_version", TRIAGE_VERSION},
        {"config_path", text_or_null(info.config_path)},
        {"partial", outcome.partial}}},
      {"summary", {{"status", to_string(status)}, {"counts", count_json}}},
      {"checks", checks}};
  // Every view is rendered from this document: redacting it once covers
  // them all (summaries, findings, attributes, errors, skip reasons, metric
  // names, targets, and the ids of instances fanned out over a secret).
  config.secrets.redact(report);
  return report;
}

std::optional<Format> parse_format(std::string_view name) {
  if (name == "text") return Format::text;
  if (name == "json") return Format::json;
  if (name == "nagios") return Format::nagios;
  if (name == "junit") return Format::junit;
  return std::nullopt;
}

std::string render_json(const nlohmann::ordered_json& report) {
  return report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string render(const nlohmann::ordered_json& report, Format format, bool color) {
  switch (format) {
    case Format::json:
      return render_json(report);
    case Format::nagios:
      return render_nagios(report);
    case Format::junit:
      return render_junit(report);
    default:
      return render_text(report, color);
  }
}

int report_exit_code(const nlohmann::ordered_json& report) {
  const auto s = parse_status(report.at("summary").at("status").get<std::string>());
  return exit_code(s.value_or(Status::unknown));
}

}  // namespace triage::core
