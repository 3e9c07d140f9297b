#pragma once
// Thin RAII layer over libpq (PostgreSQL's C client), shaped like the SQLite layer
// (catalog/SqliteDb.h) so that a store can run on either: a connection, statements with `?`
// placeholders bound by position, rows read by column, transactions. Errors throw PgError
// carrying the server's SQLSTATE (23505: unique violation, 40001: serialization failure...),
// its message and the SQL that failed.
//
// libpq rather than libpqxx: it is the C API every PostgreSQL tool uses, in Debian as
// libpq-dev with no C++ ABI of its own to track, and the product wraps C libraries the same way
// (SQLite, DCMTK, OpenLDAP). Statements go as parameterised queries (PQexecParams), never
// with values pasted into SQL.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct pg_conn;
struct pg_result;

namespace annot::pg {

class PgError : public std::runtime_error {
 public:
  PgError(std::string sqlState, const std::string& message) : std::runtime_error(message), sqlState_(std::move(sqlState)) {}
  const std::string& sqlState() const { return sqlState_; }
  bool uniqueViolation() const { return sqlState_ == "23505"; }
  // A serialization failure or a deadlock: the transaction lost a race with another one and
  // may run again from the start.
  bool retryable() const { return sqlState_ == "40001" || sqlState_ == "40P01"; }

 private:
  std::string sqlState_;
};

// `?` placeholders as PostgreSQL's `$1`, `$2`...; question marks inside quoted strings,
// identifiers and line comments stay as they are. Not for SQL with dollar-quoted bodies or
// the JSON `?` operators (the product's SQL has neither).
std::string numberedPlaceholders(const std::string& sql);

class Connection;
class Transaction;

// A query's rows, owned until destruction.
class Result {
 public:
  explicit Result(pg_result* result) : result_(result) {}
  ~Result();
  Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  int columns() const;
  std::string text(int row, int column) const;
  int64_t integer(int row, int column) const;
  bool isNull(int row, int column) const;
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t affected() const;

 private:
  pg_result* result_;
};

// A statement being prepared: values bound by position (1-based, as in SQLite), then run.
// step() walks the rows of its result like sqlite::Statement does.
class Statement {
 public:
  Statement(Connection& connection, std::string sql) : connection_(connection), sql_(std::move(sql)) {}
  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, int64_t value);
  Statement& bindNull(int index);
  // Runs it (on the first call) and moves to the next row; false when there is none.
  bool step();
  // Runs a statement that returns no rows; returns how many it changed.
  int64_t run();
  // Ready to run again (with the same or new values), as sqlite::Statement::reset.
  void reset() {
    result_.reset();
    row_ = -1;
  }

  // The current row's values; only after step() returned true.
  std::string text(int column) const { return current().text(row_, column); }
  int64_t integer(int column) const { return current().integer(row_, column); }
  bool isNull(int column) const { return current().isNull(row_, column); }

 private:
  void execute();
  const Result& current() const {
    if (!result_ || row_ < 0) throw PgError("", "no row to read (step() first) in: " + sql_);
    return *result_;
  }

  Connection& connection_;
  std::string sql_;
  std::vector<std::optional<std::string>> values_;
  std::optional<Result> result_;
  int row_ = -1;
};

class Connection {
 public:
  using Transaction = pg::Transaction;  // what generic store code opens (as sqlite::Database's)
  // `conninfo`: a libpq connection string or URI ("postgresql://user@host:port/db").
  explicit Connection(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const std::string& sql);
  Statement prepare(const std::string& sql) { return Statement(*this, sql); }
  Result query(const std::string& sql, const std::vector<std::optional<std::string>>& values);
  // The id the last INSERT into a table with a serial key made (this session's lastval()).
  int64_t lastInsertRowId();
  // Rows the last statement changed.
  int changes() const { return changes_; }
  // Reconnects when the server closed the connection (a restart, a failover); throws when it
  // is still unreachable. Statements of the broken session are not replayed.
  void reconnectIfBroken();
  // "user@host:port/database", for logs (never the password).
  std::string describe() const;
  pg_conn* handle() const { return conn_; }

 private:
  pg_conn* conn_ = nullptr;
  int changes_ = 0;
};

// BEGIN on construction, ROLLBACK on destruction unless committed: an exception between them
// leaves nothing half-written.
//
// Transactions are SERIALIZABLE: store code written for SQLite (one writer at a time) reads,
// decides and writes, and on PostgreSQL several nodes do that at once. Serializable isolation
// keeps those read-decide-write steps correct without a lock per decision; the loser of a race
// gets SQLSTATE 40001 and StateDatabase runs it again. Code that serialises itself (the audit
// chain, under an advisory lock) lowers the level as its first statement.
class Transaction {
 public:
  // Snapshot: one consistent read-only view (REPEATABLE READ READ ONLY) for reads that must agree.
  enum class Isolation { Serializable, ReadCommitted, Snapshot };
  // `immediate` is SQLite's notion (take the write lock at once); PostgreSQL locks rows as it goes.
  // ReadCommitted: for code written for PostgreSQL that relies on its constraints instead (the
  // catalog's ingest: ON CONFLICT, counters updated in place).
  explicit Transaction(Connection& connection, bool immediate = true, Isolation isolation = Isolation::Serializable);
  ~Transaction();
  void commit();

 private:
  Connection& connection_;
  bool done_ = false;
};

// Brings a schema to its latest version: `steps[i]` moves it from version i to i + 1, the version
// kept in the one-row table `versionTable`. Several nodes may start at once: the steps run under
// the advisory lock `lockKey`, at READ COMMITTED, so a node that waited for the lock reads the
// version the first one wrote (a SERIALIZABLE snapshot would be taken by the lock's own
// statement, before the wait). Throws when the database is newer than `steps` (`what` names the
// schema in the message).
void applyMigrations(Connection& db, const std::vector<const char*>& steps, const std::string& versionTable, int64_t lockKey,
                     const std::string& what);

}  // namespace annot::pg
