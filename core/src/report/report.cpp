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
                       {"status", to_string(m.status)},
                       {"remediation", text_or_null(m.remediation)}});
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

void redact_free_text(nlohmann::ordered_json& report, const Secrets& secrets) {
  if (secrets.empty()) return;
  auto text = [&](nlohmann::ordered_json& value) {
    if (value.is_string()) value = secrets.redact(value.get_ref<const std::string&>());
  };
  auto fields = [&](nlohmann::ordered_json& object, std::initializer_list<const char*> keys) {
    for (const char* key : keys)
      if (const auto it = object.find(key); it != object.end()) text(*it);
  };
  if (const auto run = report.find("run"); run != report.end())
    fields(*run, {"host", "config_path"});
  if (const auto summary = report.find("summary"); summary != report.end())
    fields(*summary, {"message"});
  const auto checks = report.find("checks");
  if (checks == report.end() || !checks->is_array()) return;
  for (auto& check : *checks) {
    fields(check, {"id", "target", "summary", "error", "skipped_because"});
    for (const char* list : {"tags", "depends_on"})
      if (const auto it = check.find(list); it != check.end() && it->is_array())
        for (auto& item : *it) text(item);
    if (const auto it = check.find("metrics"); it != check.end() && it->is_array())
      for (auto& metric : *it) fields(metric, {"name", "unit", "remediation"});
    if (const auto it = check.find("findings"); it != check.end() && it->is_array())
      for (auto& finding : *it) fields(finding, {"title", "detail", "remediation"});
    if (const auto it = check.find("attributes"); it != check.end() && it->is_object()) {
      auto attributes = nlohmann::ordered_json::object();
      for (auto& [key, value] : it->items()) {
        text(value);
        attributes[secrets.redact(key)] = std::move(value);
      }
      *it = std::move(attributes);
    }
  }
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
  // One rule for every view and the exit code: a run cut short that found
  // no failure cannot vouch for what it did not check, so it is unknown.
  nlohmann::ordered_json message = nullptr;
  if (outcome.partial) {
    const std::string reason = outcome.cut_reason.empty() ? "run cut short" : outcome.cut_reason;
    std::size_t not_run = 0;
    for (const auto& r : outcome.results)
      if (r.status == Status::skipped && r.skipped_because.rfind(reason, 0) == 0) ++not_run;
    std::string what = std::to_string(not_run) + (not_run == 1 ? " check" : " checks") + " not run";
    if (outcome.cut_running > 0) what += ", " + std::to_string(outcome.cut_running) + " cut short";
    message = reason + ": " + what;
    status = worst(status, Status::unknown);
  }
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
      {"summary", {{"status", to_string(status)}, {"counts", count_json}, {"message", message}}},
      {"checks", checks}};
  // Every view is rendered from this document: redacting it once covers
  // them all (summaries, findings, attributes, errors, skip reasons, metric
  // names, targets, and the ids of instances fanned out over a secret).
  redact_free_text(report, config.secrets);
  return report;
}

namespace {

struct FormatName {
  Format format;
  std::string_view name;
  std::string_view extension;
};

constexpr std::array<FormatName, 6> kFormats{{{Format::text, "text", ".txt"},
                                              {Format::json, "json", ".json"},
                                              {Format::ndjson, "ndjson", ".ndjson"},
                                              {Format::nagios, "nagios", ".nagios"},
                                              {Format::junit, "junit", ".xml"},
                                              {Format::prometheus, "prometheus", ".prom"}}};

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  for (const auto& f : kFormats)
    if (f.name == name) return f.format;
  return std::nullopt;
}

std::string_view to_string(Format format) {
  for (const auto& f : kFormats)
    if (f.format == format) return f.name;
  return "text";
}

std::optional<Format> format_for_file(const std::string& path) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return std::nullopt;
  const std::string_view ext = std::string_view(path).substr(dot);
  for (const auto& f : kFormats)
    if (f.extension == ext) return f.format;
  return std::nullopt;
}

std::string_view format_names() {
  return "text, json, ndjson, nagios, junit or prometheus";
}

std::string render_json(const nlohmann::ordered_json& report) {
  return report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string render(const nlohmann::ordered_json& report, Format format,
                   const RenderOptions& options) {
  switch (format) {
    case Format::json:
      return render_json(report);
    case Format::ndjson:
      return render_ndjson(report);
    case Format::nagios:
      return render_nagios(report);
    case Format::junit:
      return render_junit(report);
    case Format::prometheus:
      return render_prometheus(report);
    default:
      return render_text(report, options);
  }
}

void check_report_shape(const nlohmann::ordered_json& report) {
  using nlohmann::ordered_json;
  const auto need = [](const ordered_json& object, const char* key, ordered_json::value_t type,
                       const std::string& where) -> const ordered_json& {
    const auto it = object.find(key);
    const bool number_ok =
        type == ordered_json::value_t::number_float && it != object.end() && it->is_number();
    if (it == object.end() ||
        (!number_ok && it->type() != type &&
         !(type == ordered_json::value_t::number_unsigned && it->is_number_integer())))
      throw std::invalid_argument(where + "." + key + " is missing or of the wrong type");
    return *it;
  };
  if (!report.is_object()) throw std::invalid_argument("not a JSON object");
  const auto version = report.find("schema_version");
  if (version == report.end() || !version->is_number_integer())
    throw std::invalid_argument("no schema_version: not a triage report");
  if (version->get<int>() != kReportSchemaVersion)
    throw std::invalid_argument("schema_version " + version->dump() + " (this triage reads " +
                                std::to_string(kReportSchemaVersion) + ")");
  using T = ordered_json::value_t;
  const auto& run = need(report, "run", T::object, "report");
  for (const char* key : {"id", "started_at", "finished_at", "host", "triage_version"})
    need(run, key, T::string, "run");
  need(run, "duration_ms", T::number_float, "run");
  const auto& summary = need(report, "summary", T::object, "report");
  const auto& status = need(summary, "status", T::string, "summary");
  if (!parse_status(status.get<std::string>()))
    throw std::invalid_argument("summary.status '" + status.get<std::string>() +
                                "' is not a status");
  const auto& counts = need(summary, "counts", T::object, "summary");
  for (const char* key : {"ok", "warning", "critical", "unknown", "skipped"})
    need(counts, key, T::number_unsigned, "summary.counts");
  const auto& checks = need(report, "checks", T::array, "report");
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const std::string where = "checks[" + std::to_string(i) + "]";
    const auto& c = checks[i];
    if (!c.is_object()) throw std::invalid_argument(where + " is not an object");
    for (const char* key : {"id", "plugin", "type", "status", "summary"})
      need(c, key, T::string, where);
    if (!parse_status(c.at("status").get<std::string>()))
      throw std::invalid_argument(where + ".status is not a status");
    need(c, "duration_ms", T::number_float, where);
    need(c, "metrics", T::array, where);
    need(c, "findings", T::array, where);
    for (const auto& m : c.at("metrics")) {
      if (!m.is_object()) throw std::invalid_argument(where + ".metrics: not an object");
      need(m, "name", T::string, where + ".metrics[]");
      need(m, "value", T::number_float, where + ".metrics[]");
      need(m, "status", T::string, where + ".metrics[]");
    }
    for (const auto& f : c.at("findings")) {
      if (!f.is_object()) throw std::invalid_argument(where + ".findings: not an object");
      for (const char* key : {"severity", "title", "detail", "remediation"})
        need(f, key, T::string, where + ".findings[]");
    }
  }
}

int report_exit_code(const nlohmann::ordered_json& report) {
  const auto s = parse_status(report.at("summary").at("status").get<std::string>());
  return exit_code(s.value_or(Status::unknown));
}

}  // namespace triage::core
