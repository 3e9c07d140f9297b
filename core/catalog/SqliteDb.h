#pragma once
// Thin RAII layer over the SQLite C API: a connection, prepared statements, transactions.
// Errors throw SqliteError carrying SQLite's message and the SQL that failed.
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace annot::sqlite {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }
 private:
  int code_;
};

class Statement;
class CachedStatement;
class Transaction;

class Database {
 public:
  using Transaction = sqlite::Transaction;  // what generic store code opens (as pg::Connection's)
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql);
  Statement prepare(const std::string& sql);
  // The statement for `sql`, prepared on first use and kept with the connection: preparing
  // cost more than running the one-row lookups of the ingest path.
  CachedStatement cached(const std::string& sql);
  int64_t lastInsertRowId() const;
  int changes() const;
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::map<std::string, std::unique_ptr<Statement>> cache_;  // finalized before db_ is closed
};

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, int64_t value);
  Statement& bindNull(int index);
  // Returns true while a row is available.
  bool step();
  void reset();
  // Runs a statement that returns no rows.
  void run();

  std::string text(int column) const;
  int64_t integer(int column) const;
  bool isNull(int column) const;
  int columnCount() const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// A use of a connection's cached statement, reset when it ends so that no read snapshot is
// held between uses (an open one would keep WAL checkpoints from completing).
class CachedStatement {
 public:
  explicit CachedStatement(Statement& statement) : statement_(statement) {}
  ~CachedStatement();
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;
  Statement* operator->() { return &statement_; }
  Statement& operator*() { return statement_; }

 private:
  Statement& statement_;
};

// Commits on commit(), rolls back when destroyed without it.
class Transaction {
 public:
  explicit Transaction(Database& db, bool immediate = true);
  ~Transaction();
  void commit();
 private:
  Database& db_;
  bool done_ = false;
};

// Brings a database to the newest schema one numbered step at a time (steps[N] moves version N
// to N+1), recording the version in PRAGMA user_version. Refuses a database newer than the
// steps know. Never edit a released step: append a new one. Returns the version in place.
int applyMigrations(Database& db, const std::vector<const char*>& steps, const std::string& what);

}  // namespace annot::sqlite
