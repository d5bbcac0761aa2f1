// RAII over the SQLite C API, private to the history: a connection that is
// always closed, prepared statements that are always finalized, bound
// parameters only (no value is ever spliced into SQL), and every failure
// turned into a HistoryError that names the file and says what to do.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "triage/core/history.hpp"

namespace triage::core::history_detail {

struct CloseDb {
  void operator()(sqlite3* db) const noexcept { ::sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, CloseDb>;

// "history FILE: what is wrong; what to do", from an SQLite result code.
[[noreturn]] void fail(sqlite3* db, int rc, const std::filesystem::path& file,
                       std::string_view doing);

// Runs SQL that takes no parameters and returns no rows we need (pragmas,
// BEGIN/COMMIT, the schema's CREATE statements). Throws HistoryError.
void exec(sqlite3* db, const char* sql, const std::filesystem::path& file, std::string_view doing);

// One prepared statement. Parameters are numbered from 1, columns from 0.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql, const std::filesystem::path& file);
  ~Statement() { ::sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::int64_t value);
  Statement& bind(int i, double value);
  Statement& bind(int i, std::string_view text);
  Statement& bind(int i, const std::string& text) { return bind(i, std::string_view(text)); }
  // NULL when absent.
  Statement& bind(int i, const std::optional<std::string>& text);

  // Steps once: true when a row is ready, false when done. Throws.
  bool step(std::string_view doing);
  // Steps once and returns SQLite's result code (SQLITE_ROW, SQLITE_DONE or
  // the error), for a caller that retries some errors itself.
  int try_step() { return ::sqlite3_step(stmt_); }
  // Steps to the end of a statement that returns no rows. Throws.
  void run(std::string_view doing);
  // Makes the statement ready to bind and run again.
  void reset();

  std::int64_t integer(int col) const { return ::sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return ::sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return ::sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::optional<std::string> optional_text(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  const std::filesystem::path& file_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when left by an exception.
// IMMEDIATE takes the write lock up front: two writers queue on the busy
// timeout instead of one failing at its first write (WAL cannot upgrade a
// read transaction whose snapshot another writer has moved past).
class WriteTransaction {
 public:
  WriteTransaction(sqlite3* db, const std::filesystem::path& file);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();

 private:
  sqlite3* db_;
  const std::filesystem::path& file_;
  bool open_ = true;
};

// Opens the connection and brings the schema to kHistorySchemaVersion
// (schema.cpp). Throws HistoryError.
DbHandle open_database(const std::filesystem::path& file, History::Open mode,
                       std::chrono::milliseconds busy_timeout);

}  // namespace triage::core::history_detail
