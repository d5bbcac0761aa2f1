// The run history of scheduled sweeps: every run's report kept in an SQLite
// database (runs, check results with their findings, metrics), so that a
// sweep knows what changed since the previous one and a check's timeline can
// be read back. Schema documented in docs/sweeps.md and versioned (PRAGMA
// user_version; migrations run on open, never a silent drop); WAL mode, so
// two runs writing at once both land.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace triage::core {

// The default database of `triage serve` and the commands that read history.
inline constexpr const char* kDefaultHistoryPath = "/var/lib/triage/history.db";

// A database that cannot be opened, migrated, read or written: the message
// names the file and says what to do (locked by another process, corrupt,
// read-only, made by a newer triage).
class HistoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One recorded run, as `triage history` lists them.
struct RunSummary {
  std::int64_t id = 0;         // the database's run number, increasing
  std::string run_id;          // the report's run.id (32 hex digits)
  std::string started_at;      // ISO 8601 UTC, as in the report
  double duration_s = 0;
  std::string status;          // ok, warning, critical, unknown
  std::string host;
  std::string config_path;
  nlohmann::json counts;       // {"ok":N,"warning":N,...} as the report's summary
};

// One check in one run, for a check's timeline.
struct CheckPoint {
  std::int64_t run = 0;        // RunSummary::id
  std::string started_at;      // the run's
  std::string status;
  std::string summary;
  double duration_ms = 0;
  nlohmann::json metrics;      // {"name": value, ...}
};

class History {
 public:
  // Opens (creating it and its folder's file, not the folder) and migrates
  // the database. Throws HistoryError.
  explicit History(const std::filesystem::path& file);
  ~History();
  History(History&&) noexcept;
  History& operator=(History&&) noexcept;

  // Records a report (docs/report.schema.json) in one transaction, and in
  // the same transaction removes the runs older than `keep` when given.
  // Returns the run's id. Throws HistoryError.
  std::int64_t record(const nlohmann::ordered_json& report,
                      std::optional<std::chrono::seconds> keep = std::nullopt);

  // The runs, newest first: at most `limit`, started at or after `since`.
  std::vector<RunSummary> runs(std::optional<std::chrono::system_clock::time_point> since,
                               std::size_t limit) const;

  // One check's results, newest first, as runs() bounds them.
  std::vector<CheckPoint> timeline(const std::string& check_id,
                                   std::optional<std::chrono::system_clock::time_point> since,
                                   std::size_t limit) const;

  // A recorded run rebuilt as a report document of the same shape (checks
  // with status, summary, error, duration, metrics and findings), for
  // `triage diff`; nullopt when there is no such run.
  std::optional<nlohmann::ordered_json> load_report(std::int64_t id) const;

  // The ids of the newest `n` runs, newest first.
  std::vector<std::int64_t> latest_runs(std::size_t n) const;

  const std::filesystem::path& file() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace triage::core
