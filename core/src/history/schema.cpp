// Opening a history database: the file made safely (0600, never through a
// symbolic link), the connection's settings (WAL, busy timeout, foreign
// keys), and the schema brought up to kHistorySchemaVersion by migrations
// (docs/sweeps.md, "Schema"). A database from a newer triage is refused and
// left untouched.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <thread>

#include "sqlite.hpp"

namespace triage::core::history_detail {

namespace {

// PRAGMA application_id of a triage history: "Tria". A database with
// another id (or with tables and no id) is someone else's, never ours to
// migrate.
constexpr std::int64_t kApplicationId = 0x54726961;

// kMigrations[N] takes a database from schema version N to N + 1, inside
// one transaction with the user_version it reaches. Only ever append: a
// migration that shipped is never edited, and none drops data that an older
// version wrote.
constexpr const char* kMigrations[] = {
    // 0 -> 1: runs, their check results, metrics and findings.
    R"sql(
PRAGMA application_id = 1416784225;
CREATE TABLE runs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id         TEXT    NOT NULL UNIQUE,
  started_at     TEXT    NOT NULL,
  started_ms     INTEGER NOT NULL,
  finished_at    TEXT    NOT NULL,
  duration_ms    REAL    NOT NULL,
  host           TEXT    NOT NULL,
  triage_version TEXT    NOT NULL,
  config_path    TEXT,
  partial        INTEGER NOT NULL,
  status         TEXT    NOT NULL,
  message        TEXT,
  n_ok           INTEGER NOT NULL,
  n_warning      INTEGER NOT NULL,
  n_critical     INTEGER NOT NULL,
  n_unknown      INTEGER NOT NULL,
  n_skipped      INTEGER NOT NULL
);
CREATE INDEX runs_by_start ON runs (started_ms);
CREATE TABLE results (
  run             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  check_id        TEXT    NOT NULL,
  plugin          TEXT    NOT NULL,
  type            TEXT    NOT NULL,
  target          TEXT,
  tags            TEXT,
  status          TEXT    NOT NULL,
  summary         TEXT    NOT NULL,
  duration_ms     REAL    NOT NULL,
  attempts        INTEGER NOT NULL,
  error           TEXT,
  skipped_because TEXT,
  attributes      TEXT,
  truncated       INTEGER NOT NULL,
  PRIMARY KEY (run, seq)
) WITHOUT ROWID;
CREATE INDEX results_by_check ON results (check_id, run);
CREATE TABLE metrics (
  run         INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  name        TEXT    NOT NULL,
  value       REAL    NOT NULL,
  unit        TEXT    NOT NULL,
  warning     TEXT,
  critical    TEXT,
  status      TEXT,
  remediation TEXT,
  PRIMARY KEY (run, seq, n),
  FOREIGN KEY (run, seq) REFERENCES results (run, seq) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE findings (
  run         INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  severity    TEXT    NOT NULL,
  title       TEXT    NOT NULL,
  detail      TEXT    NOT NULL,
  remediation TEXT    NOT NULL,
  PRIMARY KEY (run, seq, n),
  FOREIGN KEY (run, seq) REFERENCES results (run, seq) ON DELETE CASCADE
) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql",
};
static_assert(std::size(kMigrations) == kHistorySchemaVersion, "one migration per schema version");

std::int64_t pragma_integer(sqlite3* db, const char* sql, const std::filesystem::path& file) {
  Statement s(db, sql, file);
  return s.step("reading the schema version") ? s.integer(0) : 0;
}

// SQLite opens only the main file with SQLITE_OPEN_NOFOLLOW; its companions
// are made by name. A link planted where one will be made is refused here
// (in a sticky folder such as /tmp the kernel's protected_symlinks also
// stops it being followed).
void refuse_planted_links(const std::filesystem::path& file) {
  // The database itself: SQLITE_OPEN_NOFOLLOW refuses a link too, but says
  // only "unable to open" for one that dangles.
  if (struct stat st{}; ::lstat(file.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      throw HistoryError("history " + file.string() +
                         ": is a symbolic link: refusing to follow it (a link planted there "
                         "could point anywhere); name the real file");
    if (!S_ISREG(st.st_mode))
      throw HistoryError("history " + file.string() +
                         ": is not a regular file (a folder, a device or a FIFO?); name a "
                         "database file");
  }
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const std::string companion = file.string() + suffix;
    struct stat st {};
    if (::lstat(companion.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      throw HistoryError("history " + file.string() + ": " + companion +
                         " is not a regular file (a symbolic link?): refusing to use it; remove "
                         "it, and keep the database's folder writable only by the user that "
                         "records the runs");
  }
}

// Makes the file when it is missing: 0600 (its owner records and reads; see
// docs/sweeps.md), O_EXCL so a link planted at its name is never followed.
void create_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  const int e = errno;
  if (e == EEXIST) return;  // there already (SQLite refuses it below if it is a link)
  const auto folder = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  if (e == ENOENT)
    throw HistoryError("history " + file.string() + ": its folder " + folder.string() +
                       " does not exist: create it (e.g. install -d -m 0700 " + folder.string() +
                       ") or name another file with --history");
  throw HistoryError("history " + file.string() + ": cannot create it (" + std::strerror(e) +
                     "): this user must be able to write its folder " + folder.string() +
                     ", or name another file with --history");
}

HistoryError newer(const std::filesystem::path& file, std::int64_t version) {
  return HistoryError("history " + file.string() +
                      ": was written by a newer triage (history "
                      "schema " +
                      std::to_string(version) +
                      "; this triage " TRIAGE_VERSION " knows versions up to " +
                      std::to_string(kHistorySchemaVersion) +
                      "): use that newer triage to read it, or name another file with "
                      "--history; the file was left as it is");
}

void migrate(sqlite3* db, const std::filesystem::path& file) {
  const auto foreign = HistoryError(
      "history " + file.string() +
      ": is an SQLite database but not a triage history (its application id or tables are "
      "another program's): name another file with --history; the file was left as it is");
  auto version = pragma_integer(db, "PRAGMA user_version", file);
  if (version > kHistorySchemaVersion) throw newer(file, version);
  if (version == kHistorySchemaVersion) {
    if (pragma_integer(db, "PRAGMA application_id", file) != kApplicationId) throw foreign;
    return;
  }
  WriteTransaction tx(db, file);
  // Another process may have migrated it while we waited for the lock.
  version = pragma_integer(db, "PRAGMA user_version", file);
  if (version > kHistorySchemaVersion) throw newer(file, version);
  if (version == 0 ? pragma_integer(db, "SELECT count(*) FROM sqlite_schema", file) != 0
                   : pragma_integer(db, "PRAGMA application_id", file) != kApplicationId)
    throw foreign;
  for (auto v = version; v < kHistorySchemaVersion; ++v)
    exec(db, kMigrations[v], file, "migrating the schema");
  tx.commit();
}

// Switches the file to WAL mode (a no-op once it is). The switch needs the
// file to itself for a moment, and SQLite answers "locked" at once, without
// its busy timeout, while another process opens or records: retried here,
// for as long as the busy timeout.
void use_wal(sqlite3* db, const std::filesystem::path& file,
             std::chrono::milliseconds busy_timeout) {
  const auto deadline = std::chrono::steady_clock::now() + busy_timeout;
  for (auto pause = std::chrono::milliseconds(1);;
       pause = std::min(pause * 2, std::chrono::milliseconds(50))) {
    Statement wal(db, "PRAGMA journal_mode = WAL", file);
    const int rc = wal.try_step();
    if (rc == SQLITE_ROW && wal.text(0) == "wal") return;
    const bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ||
                      rc == SQLITE_ROW;  // another mode returned: the lock was not ours
    if (!busy || std::chrono::steady_clock::now() >= deadline) {
      if (rc != SQLITE_ROW) fail(db, rc, file, "switching to WAL mode");
      throw HistoryError("history " + file.string() + ": cannot switch to WAL mode (journal mode " +
                         wal.text(0) +
                         "): its file system must support shared memory (not NFS), and no other "
                         "program may hold it open in another mode; name another file with "
                         "--history");
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace

DbHandle open_database(const std::filesystem::path& file, History::Open mode,
                       std::chrono::milliseconds busy_timeout) {
  if (mode == History::Open::create) {
    create_file(file);
  } else if (struct stat st{}; ::lstat(file.c_str(), &st) != 0) {
    throw HistoryError("history " + file.string() + ": " +
                       (errno == ENOENT ? std::string("no such file") : std::strerror(errno)) +
                       ": no run has been recorded there (triage run --history " + file.string() +
                       ", or history: in the config, records one); name "
                       "another file with --history");
  }
  refuse_planted_links(file);
  sqlite3* raw = nullptr;
  const int rc =
      ::sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr);
  DbHandle db(raw);  // closed on every path, also when the open failed
  if (rc != SQLITE_OK) fail(db.get(), rc, file, "opening it");
  ::sqlite3_extended_result_codes(db.get(), 1);
  ::sqlite3_busy_timeout(db.get(), static_cast<int>(busy_timeout.count()));
  // Read the header first: garbage is "not a database", and a newer
  // triage's file is refused, before anything writes.
  if (const auto version = pragma_integer(db.get(), "PRAGMA user_version", file);
      version > kHistorySchemaVersion)
    throw newer(file, version);
  use_wal(db.get(), file, busy_timeout);
  // NORMAL is durable against a crash of triage in WAL mode; a power cut may
  // lose the last runs, never corrupt the file.
  exec(db.get(), "PRAGMA synchronous = NORMAL", file, "setting it up");
  exec(db.get(), "PRAGMA foreign_keys = ON", file, "setting it up");
  migrate(db.get(), file);
  return db;
}

}  // namespace triage::core::history_detail
