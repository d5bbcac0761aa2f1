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
#include <string_view>
#include <vector>

#include "triage/core/config.hpp"

namespace triage::core {

// The default database of `triage serve` and the commands that read history.
inline constexpr const char* kDefaultHistoryPath = "/var/lib/triage/history.db";

// The schema version this triage writes (PRAGMA user_version). A database
// with a higher one was made by a newer triage and is refused, never
// rewritten.
inline constexpr int kHistorySchemaVersion = 1;

// How long a write waits for another writer (another sweep, a `triage run
// --history` at the same time) before it gives up with "locked". A record
// is one short transaction: 5 s is hundreds of them.
inline constexpr std::chrono::milliseconds kHistoryBusyTimeout{5000};

// Bounds of the reading side: `--limit` at most this many runs or points.
inline constexpr std::size_t kMaxHistoryLimit = 100'000;

// A database that cannot be opened, migrated, read or written: the message
// names the file and says what to do (locked by another process, corrupt,
// read-only, made by a newer triage).
class HistoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One recorded run, as `triage history` lists them.
struct RunSummary {
  std::int64_t id = 0;     // the database's run number, increasing, never reused
  std::string run_id;      // the report's run.id (32 hex digits)
  std::string started_at;  // ISO 8601 UTC, as in the report
  double duration_s = 0;
  std::string status;  // ok, warning, critical, unknown
  bool partial = false;
  std::string host;
  std::string config_path;  // "" for the built-in default
  nlohmann::json counts;    // {"ok":N,"warning":N,...} as the report's summary
};

// One check in one run, for a check's timeline.
struct CheckPoint {
  std::int64_t run = 0;    // RunSummary::id
  std::string started_at;  // the run's
  std::string status;
  std::string summary;
  std::string error;  // "" when none
  double duration_ms = 0;
  nlohmann::json metrics;  // {"name": value, ...}
};

class History {
 public:
  // create: the file is made when missing (mode 0600, never through a
  // symbolic link; its folder must exist). open_existing: a missing file is
  // a HistoryError ("no history at FILE"), for the commands that only read.
  enum class Open { create, open_existing };

  // Opens and migrates the database. Throws HistoryError.
  explicit History(const std::filesystem::path& file, Open mode = Open::create,
                   std::chrono::milliseconds busy_timeout = kHistoryBusyTimeout);
  ~History();
  History(History&&) noexcept;
  History& operator=(History&&) noexcept;

  // Records a report (docs/report.schema.json) in one transaction, and in
  // the same transaction removes the runs that started more than `keep`
  // before now (never the run just recorded) when given. A report already
  // recorded (same run.id) is not recorded twice: its id is returned.
  // Returns the run's id. Throws HistoryError (a document that is not a
  // report included).
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

// An age for --keep, --since and the config's history.keep: a duration as
// parse_duration reads it ("90s", "12h") or whole days ("30d") or weeks
// ("2w"); nullopt when text is none of these, is 0, or is more than 100
// years.
std::optional<std::chrono::seconds> parse_age(std::string_view text);

// The history file a command uses: --history when given, else the config's
// `history:` when a config is given and sets one, else kDefaultHistoryPath.
std::filesystem::path choose_history_path(const std::string& flag, const Config* config);

}  // namespace triage::core
