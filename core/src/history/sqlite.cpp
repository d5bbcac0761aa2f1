// The SQLite wrappers of sqlite.hpp, and the words of every history error:
// what went wrong with which file, and what the operator can do about it.
#include "sqlite.hpp"

#include <unistd.h>

#include <cstring>

namespace triage::core::history_detail {

namespace {

std::string sqlite_says(sqlite3* db, int rc) {
  std::string what = db != nullptr ? ::sqlite3_errmsg(db) : ::sqlite3_errstr(rc);
  if (db != nullptr)
    if (const int e = ::sqlite3_system_errno(db); e != 0)
      what += ": " + std::string(std::strerror(e));
  return what;
}

}  // namespace

void fail(sqlite3* db, int rc, const std::filesystem::path& file, std::string_view doing) {
  const std::string where = "history " + file.string() + ": ";
  const std::string said = " (SQLite: " + sqlite_says(db, rc) + ")";
  std::string what;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      what = "is locked by another process (waited for it, then gave up while " +
             std::string(doing) + ")" + said +
             ": another triage may be writing it, or a program (the sqlite3 shell?) holds a lock "
             "on it; try again, or use another --history file";
      break;
    case SQLITE_READONLY:
      what = "cannot be written by this user (uid " + std::to_string(::geteuid()) + ")" + said +
             ": give it write access to the file and to its folder (SQLite keeps " +
             file.filename().string() + "-wal and " + file.filename().string() +
             "-shm beside it), or use another --history file";
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      what = "is not an SQLite database, or is corrupt" + said + ": move it aside (mv " +
             file.string() + " " + file.string() +
             ".broken) and the next run starts a new history there";
      break;
    case SQLITE_CANTOPEN:
      if (rc == SQLITE_CANTOPEN_SYMLINK)
        what =
            "is a symbolic link: refusing to follow it (a link planted there could point "
            "anywhere); name the real file";
      else
        what = "cannot be opened" + said +
               ": check that its folder exists and that this user may write there";
      break;
    case SQLITE_FULL:
      what = "cannot grow: the disk is full" + said + "; free space on its file system";
      break;
    case SQLITE_PERM:
    case SQLITE_AUTH:
      what = "permission denied" + said + ": give this user read and write access";
      break;
    case SQLITE_IOERR:
      what = "input/output error while " + std::string(doing) + said +
             ": check the disk and the file system it is on";
      break;
    default:
      what = "failed while " + std::string(doing) + said;
  }
  throw HistoryError(where + what);
}

void exec(sqlite3* db, const char* sql, const std::filesystem::path& file, std::string_view doing) {
  char* message = nullptr;
  const int rc = ::sqlite3_exec(db, sql, nullptr, nullptr, &message);
  ::sqlite3_free(message);  // fail() reads the same text from the connection
  if (rc != SQLITE_OK) fail(db, rc, file, doing);
}

Statement::Statement(sqlite3* db, std::string_view sql, const std::filesystem::path& file)
    : db_(db), file_(file) {
  const int rc =
      ::sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    ::sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    fail(db, rc, file, "preparing a statement");
  }
}

Statement& Statement::bind(int i, std::int64_t value) {
  if (const int rc = ::sqlite3_bind_int64(stmt_, i, value); rc != SQLITE_OK)
    fail(db_, rc, file_, "binding a value");
  return *this;
}

Statement& Statement::bind(int i, double value) {
  if (const int rc = ::sqlite3_bind_double(stmt_, i, value); rc != SQLITE_OK)
    fail(db_, rc, file_, "binding a value");
  return *this;
}

Statement& Statement::bind(int i, std::string_view text) {
  // SQLITE_TRANSIENT: SQLite copies the text, which may not outlive the call.
  if (const int rc =
          ::sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      rc != SQLITE_OK)
    fail(db_, rc, file_, "binding a value");
  return *this;
}

Statement& Statement::bind(int i, const std::optional<std::string>& text) {
  if (text) return bind(i, std::string_view(*text));
  if (const int rc = ::sqlite3_bind_null(stmt_, i); rc != SQLITE_OK)
    fail(db_, rc, file_, "binding a value");
  return *this;
}

bool Statement::step(std::string_view doing) {
  const int rc = ::sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, file_, doing);
}

void Statement::run(std::string_view doing) {
  while (step(doing)) {
  }
  reset();
}

void Statement::reset() {
  ::sqlite3_reset(stmt_);
  ::sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int col) const {
  const auto* data = ::sqlite3_column_text(stmt_, col);
  const int size = ::sqlite3_column_bytes(stmt_, col);
  return data == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::optional<std::string> Statement::optional_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

WriteTransaction::WriteTransaction(sqlite3* db, const std::filesystem::path& file)
    : db_(db), file_(file) {
  exec(db_, "BEGIN IMMEDIATE", file_, "starting a write");
}

WriteTransaction::~WriteTransaction() {
  // Nothing to report from here: the exception that brought us here says why.
  if (open_) ::sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTransaction::commit() {
  exec(db_, "COMMIT", file_, "committing a write");
  open_ = false;
}

}  // namespace triage::core::history_detail
