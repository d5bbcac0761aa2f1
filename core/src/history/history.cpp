// triage::core::History: recording a report in one transaction (with the
// retention prune in the same one), and reading runs, a check's timeline and
// a whole run back as a report document. The schema is in schema.cpp.
#include "triage/core/history.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <mutex>

#include "sqlite.hpp"
#include "triage/core/report.hpp"

namespace triage::core {

using history_detail::Statement;

struct History::Impl {
  std::filesystem::path file;
  history_detail::DbHandle db;
  // One connection, one transaction at a time: calls from several threads
  // (a sweep recording while the HTTP side reads) take turns.
  std::mutex mutex;
};

namespace {

using Json = nlohmann::ordered_json;

// "2026-11-27T21:03:04.123Z" (iso8601() in report.hpp) → ms since the epoch.
std::optional<std::int64_t> epoch_ms(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0, used = 0;
  if (text.size() != 24 ||
      std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &s, &ms,
                  &used) != 7 ||
      used != 24)
    return std::nullopt;
  const std::chrono::year_month_day day{std::chrono::year(y), std::chrono::month(unsigned(mo)),
                                        std::chrono::day(unsigned(d))};
  if (!day.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  const auto t = std::chrono::sys_days(day) + std::chrono::hours(h) + std::chrono::minutes(mi) +
                 std::chrono::seconds(s) + std::chrono::milliseconds(ms);
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t to_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::optional<std::string> optional_string(const Json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

// A JSON column (tags, attributes): NULL when empty, to keep rows small.
std::optional<std::string> json_column(const Json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->empty()) return std::nullopt;
  return it->dump();
}

Json parse_column(const std::optional<std::string>& text, Json empty,
                  const std::filesystem::path& file) {
  if (!text) return empty;
  auto value = Json::parse(*text, nullptr, false);
  if (value.is_discarded())
    throw HistoryError("history " + file.string() +
                       ": a stored value is not valid JSON: the database is corrupt; move it "
                       "aside (mv " +
                       file.string() + " " + file.string() + ".broken)");
  return value;
}

Json text_or_null(const std::optional<std::string>& text) {
  return text ? Json(*text) : Json(nullptr);
}

std::int64_t bounded(std::size_t limit) {
  return static_cast<std::int64_t>(std::min(limit, kMaxHistoryLimit));
}

std::int64_t since_ms(std::optional<std::chrono::system_clock::time_point> since) {
  return since ? to_ms(*since) : LLONG_MIN;
}

std::int64_t insert_run(sqlite3* db, const std::filesystem::path& file, const Json& report,
                        std::int64_t started) {
  const auto& run = report.at("run");
  const auto& summary = report.at("summary");
  const auto& counts = summary.at("counts");
  Statement s(db,
              "INSERT INTO runs (run_id, started_at, started_ms, finished_at, duration_ms, host, "
              "triage_version, config_path, partial, status, message, n_ok, n_warning, "
              "n_critical, n_unknown, n_skipped) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
              file);
  s.bind(1, run.at("id").get<std::string>())
      .bind(2, run.at("started_at").get<std::string>())
      .bind(3, started)
      .bind(4, run.at("finished_at").get<std::string>())
      .bind(5, run.at("duration_ms").get<double>())
      .bind(6, run.at("host").get<std::string>())
      .bind(7, run.at("triage_version").get<std::string>())
      .bind(8, optional_string(run, "config_path"))
      .bind(9, std::int64_t{run.value("partial", false) ? 1 : 0})
      .bind(10, summary.at("status").get<std::string>())
      .bind(11, optional_string(summary, "message"));
  int i = 12;
  for (const char* status : {"ok", "warning", "critical", "unknown", "skipped"})
    s.bind(i++, counts.at(status).get<std::int64_t>());
  s.run("recording a run");
  return ::sqlite3_last_insert_rowid(db);
}

void insert_checks(sqlite3* db, const std::filesystem::path& file, const Json& checks,
                   std::int64_t run) {
  Statement result(db,
                   "INSERT INTO results (run, seq, check_id, plugin, type, target, tags, status, "
                   "summary, duration_ms, attempts, error, skipped_because, attributes, "
                   "truncated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                   "?14, ?15)",
                   file);
  Statement metric(db,
                   "INSERT INTO metrics (run, seq, n, name, value, unit, warning, critical, "
                   "status, remediation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                   file);
  Statement finding(db,
                    "INSERT INTO findings (run, seq, n, severity, title, detail, remediation) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    file);
  std::int64_t seq = 0;
  for (const auto& c : checks) {
    result.bind(1, run)
        .bind(2, seq)
        .bind(3, c.at("id").get<std::string>())
        .bind(4, c.at("plugin").get<std::string>())
        .bind(5, c.at("type").get<std::string>())
        .bind(6, optional_string(c, "target"))
        .bind(7, json_column(c, "tags"))
        .bind(8, c.at("status").get<std::string>())
        .bind(9, c.at("summary").get<std::string>())
        .bind(10, c.value("duration_ms", 0.0))
        .bind(11, c.value("attempts", std::int64_t{0}))
        .bind(12, optional_string(c, "error"))
        .bind(13, optional_string(c, "skipped_because"))
        .bind(14, json_column(c, "attributes"))
        .bind(15, std::int64_t{c.value("truncated", false) ? 1 : 0});
    result.run("recording a check result");
    std::int64_t n = 0;
    for (const auto& m : c.at("metrics")) {
      metric.bind(1, run)
          .bind(2, seq)
          .bind(3, n++)
          .bind(4, m.at("name").get<std::string>())
          .bind(5, m.at("value").get<double>())
          .bind(6, m.value("unit", std::string()))
          .bind(7, optional_string(m, "warning"))
          .bind(8, optional_string(m, "critical"))
          .bind(9, optional_string(m, "status"))
          .bind(10, optional_string(m, "remediation"));
      metric.run("recording a metric");
    }
    n = 0;
    for (const auto& f : c.at("findings")) {
      finding.bind(1, run)
          .bind(2, seq)
          .bind(3, n++)
          .bind(4, f.at("severity").get<std::string>())
          .bind(5, f.at("title").get<std::string>())
          .bind(6, f.at("detail").get<std::string>())
          .bind(7, f.at("remediation").get<std::string>());
      finding.run("recording a finding");
    }
    ++seq;
  }
}

}  // namespace

History::History(const std::filesystem::path& file, Open mode,
                 std::chrono::milliseconds busy_timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = file;
  impl_->db = history_detail::open_database(file, mode, busy_timeout);
}

History::~History() = default;
History::History(History&&) noexcept = default;
History& History::operator=(History&&) noexcept = default;

const std::filesystem::path& History::file() const {
  return impl_->file;
}

std::int64_t History::record(const nlohmann::ordered_json& report,
                             std::optional<std::chrono::seconds> keep) {
  const auto& file = impl_->file;
  std::optional<std::int64_t> started;
  try {
    check_report_shape(report);
    started = epoch_ms(report.at("run").at("started_at").get<std::string>());
    if (!started) throw std::invalid_argument("run.started_at is not an ISO 8601 UTC time");
  } catch (const std::exception& e) {
    throw HistoryError("history " + file.string() +
                       ": not recorded: the document is not a triage report (" + e.what() + ")");
  }
  const std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db.get();
  history_detail::WriteTransaction tx(db, file);
  {
    Statement seen(db, "SELECT id FROM runs WHERE run_id = ?1", file);
    seen.bind(1, report.at("run").at("id").get<std::string>());
    if (seen.step("looking the run up")) return seen.integer(0);  // recorded already
  }
  std::int64_t id = 0;
  try {
    id = insert_run(db, file, report, *started);
    insert_checks(db, file, report.at("checks"), id);
  } catch (const nlohmann::json::exception& e) {
    // What check_report_shape does not look at (a metric's value, a
    // finding's fields) is of the wrong type: nothing of it is kept.
    throw HistoryError("history " + file.string() +
                       ": not recorded: the document is not a triage report (" + e.what() + ")");
  }
  if (keep) {
    // The same transaction: a prune never runs without the insert, nor the
    // insert without its prune. Foreign keys cascade to results, metrics
    // and findings.
    Statement prune(db, "DELETE FROM runs WHERE started_ms < ?1 AND id <> ?2", file);
    const auto cutoff = to_ms(std::chrono::system_clock::now()) -
                        std::chrono::duration_cast<std::chrono::milliseconds>(*keep).count();
    prune.bind(1, cutoff).bind(2, id).run("removing runs older than the retention");
  }
  tx.commit();
  return id;
}

std::vector<RunSummary> History::runs(std::optional<std::chrono::system_clock::time_point> since,
                                      std::size_t limit) const {
  const std::lock_guard lock(impl_->mutex);
  Statement s(impl_->db.get(),
              "SELECT id, run_id, started_at, duration_ms, status, partial, host, config_path, "
              "n_ok, n_warning, n_critical, n_unknown, n_skipped FROM runs "
              "WHERE started_ms >= ?1 ORDER BY started_ms DESC, id DESC LIMIT ?2",
              impl_->file);
  s.bind(1, since_ms(since)).bind(2, bounded(limit));
  std::vector<RunSummary> out;
  while (s.step("listing the runs")) {
    RunSummary r;
    r.id = s.integer(0);
    r.run_id = s.text(1);
    r.started_at = s.text(2);
    r.duration_s = s.real(3) / 1000.0;
    r.status = s.text(4);
    r.partial = s.integer(5) != 0;
    r.host = s.text(6);
    r.config_path = s.optional_text(7).value_or("");
    r.counts = {{"ok", s.integer(8)},
                {"warning", s.integer(9)},
                {"critical", s.integer(10)},
                {"unknown", s.integer(11)},
                {"skipped", s.integer(12)}};
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<CheckPoint> History::timeline(
    const std::string& check_id, std::optional<std::chrono::system_clock::time_point> since,
    std::size_t limit) const {
  const std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db.get();
  Statement s(db,
              "SELECT r.id, r.started_at, c.status, c.summary, c.error, c.duration_ms, c.seq "
              "FROM results c JOIN runs r ON r.id = c.run "
              "WHERE c.check_id = ?1 AND r.started_ms >= ?2 "
              "ORDER BY r.started_ms DESC, r.id DESC LIMIT ?3",
              impl_->file);
  Statement metrics(db, "SELECT name, value FROM metrics WHERE run = ?1 AND seq = ?2 ORDER BY n",
                    impl_->file);
  s.bind(1, std::string_view(check_id)).bind(2, since_ms(since)).bind(3, bounded(limit));
  std::vector<CheckPoint> out;
  while (s.step("reading a check's timeline")) {
    CheckPoint p;
    p.run = s.integer(0);
    p.started_at = s.text(1);
    p.status = s.text(2);
    p.summary = s.text(3);
    p.error = s.optional_text(4).value_or("");
    p.duration_ms = s.real(5);
    p.metrics = nlohmann::json::object();
    metrics.bind(1, p.run).bind(2, s.integer(6));
    while (metrics.step("reading metrics")) p.metrics[metrics.text(0)] = metrics.real(1);
    metrics.reset();
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<nlohmann::ordered_json> History::load_report(std::int64_t id) const {
  const std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db.get();
  const auto& file = impl_->file;
  Statement run(db,
                "SELECT run_id, started_at, finished_at, duration_ms, host, triage_version, "
                "config_path, partial, status, message, n_ok, n_warning, n_critical, n_unknown, "
                "n_skipped FROM runs WHERE id = ?1",
                file);
  run.bind(1, id);
  if (!run.step("reading a run")) return std::nullopt;
  Json report{{"schema_version", kReportSchemaVersion},
              {"run",
               {{"id", run.text(0)},
                {"started_at", run.text(1)},
                {"finished_at", run.text(2)},
                {"duration_ms", run.real(3)},
                {"host", run.text(4)},
                {"triage_version", run.text(5)},
                {"config_path", text_or_null(run.optional_text(6))},
                {"partial", run.integer(7) != 0}}},
              {"summary",
               {{"status", run.text(8)},
                {"counts",
                 {{"ok", run.integer(10)},
                  {"warning", run.integer(11)},
                  {"critical", run.integer(12)},
                  {"unknown", run.integer(13)},
                  {"skipped", run.integer(14)}}},
                {"message", text_or_null(run.optional_text(9))}}},
              {"checks", Json::array()}};
  Statement results(db,
                    "SELECT seq, check_id, plugin, type, target, tags, status, summary, "
                    "duration_ms, attempts, error, skipped_because, attributes, truncated "
                    "FROM results WHERE run = ?1 ORDER BY seq",
                    file);
  Statement metrics(db,
                    "SELECT name, value, unit, warning, critical, status, remediation "
                    "FROM metrics WHERE run = ?1 AND seq = ?2 ORDER BY n",
                    file);
  Statement findings(db,
                     "SELECT severity, title, detail, remediation FROM findings "
                     "WHERE run = ?1 AND seq = ?2 ORDER BY n",
                     file);
  results.bind(1, id);
  auto& checks = report["checks"];
  while (results.step("reading a run's checks")) {
    const auto seq = results.integer(0);
    Json m = Json::array();
    metrics.bind(1, id).bind(2, seq);
    while (metrics.step("reading metrics")) {
      Json metric{{"name", metrics.text(0)},
                  {"value", metrics.real(1)},
                  {"unit", metrics.text(2)},
                  {"warning", text_or_null(metrics.optional_text(3))},
                  {"critical", text_or_null(metrics.optional_text(4))}};
      if (!metrics.is_null(5)) metric["status"] = metrics.text(5);
      metric["remediation"] = text_or_null(metrics.optional_text(6));
      m.push_back(std::move(metric));
    }
    metrics.reset();
    Json f = Json::array();
    findings.bind(1, id).bind(2, seq);
    while (findings.step("reading findings"))
      f.push_back({{"severity", findings.text(0)},
                   {"title", findings.text(1)},
                   {"detail", findings.text(2)},
                   {"remediation", findings.text(3)}});
    findings.reset();
    checks.push_back({{"id", results.text(1)},
                      {"plugin", results.text(2)},
                      {"type", results.text(3)},
                      {"target", text_or_null(results.optional_text(4))},
                      {"tags", parse_column(results.optional_text(5), Json::array(), file)},
                      {"status", results.text(6)},
                      {"summary", results.text(7)},
                      {"duration_ms", results.real(8)},
                      {"attempts", results.integer(9)},
                      {"metrics", std::move(m)},
                      {"findings", std::move(f)},
                      {"attributes", parse_column(results.optional_text(12), Json::object(), file)},
                      {"error", text_or_null(results.optional_text(10))},
                      {"skipped_because", text_or_null(results.optional_text(11))},
                      {"truncated", results.integer(13) != 0}});
  }
  return report;
}

std::vector<std::int64_t> History::latest_runs(std::size_t n) const {
  const std::lock_guard lock(impl_->mutex);
  Statement s(impl_->db.get(), "SELECT id FROM runs ORDER BY started_ms DESC, id DESC LIMIT ?1",
              impl_->file);
  s.bind(1, bounded(n));
  std::vector<std::int64_t> out;
  while (s.step("listing the runs")) out.push_back(s.integer(0));
  return out;
}

}  // namespace triage::core
