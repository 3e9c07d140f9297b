#include "sql/PostgresDb.h"

#include <libpq-fe.h>

#include "common/Log.h"

namespace annot::pg {
namespace {
PgError errorOf(const PGresult* result, pg_conn* conn, const std::string& sql) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return PgError(state ? state : "", message + (sql.empty() ? "" : " (in: " + sql + ")"));
}
}  // namespace

std::string numberedPlaceholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int next = 1;
  char quote = 0;  // ' or " while inside a literal or a quoted identifier
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      out += c;
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const size_t end = sql.find('\n', i);
      out += sql.substr(i, end == std::string::npos ? std::string::npos : end - i);
      if (end == std::string::npos) break;
      i = end - 1;
    } else if (c == '?') {
      out += "$" + std::to_string(next++);
    } else {
      out += c;
    }
  }
  return out;
}

Result::~Result() {
  if (result_) PQclear(result_);
}
int Result::rows() const { return PQntuples(result_); }
int Result::columns() const { return PQnfields(result_); }
std::string Result::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column), static_cast<size_t>(PQgetlength(result_, row, column)));
}
int64_t Result::integer(int row, int column) const {
  if (PQgetisnull(result_, row, column)) return 0;
  return std::stoll(PQgetvalue(result_, row, column));
}
bool Result::isNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
int64_t Result::affected() const {
  const char* n = PQcmdTuples(result_);
  return n && *n ? std::stoll(n) : 0;
}

Statement& Statement::bind(int index, const std::string& value) {
  if (index < 1) throw PgError("", "parameter index " + std::to_string(index) + " (they start at 1) in: " + sql_);
  if (values_.size() < static_cast<size_t>(index)) values_.resize(static_cast<size_t>(index));
  values_[static_cast<size_t>(index) - 1] = value;
  return *this;
}
Statement& Statement::bind(int index, int64_t value) { return bind(index, std::to_string(value)); }
Statement& Statement::bindNull(int index) {
  if (index < 1) throw PgError("", "parameter index " + std::to_string(index) + " (they start at 1) in: " + sql_);
  if (values_.size() < static_cast<size_t>(index)) values_.resize(static_cast<size_t>(index));
  values_[static_cast<size_t>(index) - 1] = std::nullopt;
  return *this;
}

void Statement::execute() {
  result_.emplace(connection_.query(sql_, values_));
  row_ = -1;
}

bool Statement::step() {
  if (!result_) execute();
  if (row_ + 1 >= result_->rows()) return false;
  ++row_;
  return true;
}

int64_t Statement::run() {
  execute();
  return result_->affected();
}

namespace {
// Bounds on a dead server or a half-open connection, unless the URI sets its own: a connect
// gives up after 10 s, and TCP keepalives find a vanished peer within about a minute, so a
// node answers 503 instead of hanging on a database that is gone.
std::string withTimeouts(const std::string& conninfo) {
  if (conninfo.rfind("postgresql://", 0) != 0 && conninfo.rfind("postgres://", 0) != 0) return conninfo;
  std::string out = conninfo;
  for (const char* setting : {"connect_timeout=10", "keepalives=1", "keepalives_idle=30", "keepalives_interval=10", "keepalives_count=3"}) {
    const std::string name = std::string(setting).substr(0, std::string(setting).find('=') + 1);
    if (out.find(name) != std::string::npos) continue;
    out += (out.find('?') == std::string::npos ? "?" : "&") + std::string(setting);
  }
  return out;
}
}  // namespace

Connection::Connection(const std::string& conninfo) : conn_(PQconnectdb(withTimeouts(conninfo).c_str())) {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("08001", "cannot connect to PostgreSQL: " + why);
  }
  // The server's notices ("relation ... already exists, skipping") go to the debug log, not to
  // stderr as libpq would print them.
  PQsetNoticeProcessor(conn_, [](void*, const char* message) { LOG_DEBUG("postgres", message); }, nullptr);
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

void Connection::exec(const std::string& sql) {
  // Several statements may go at once (schema scripts), without parameters.
  PGresult* result = PQexec(conn_, sql.c_str());
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    PgError error = errorOf(result, conn_, sql.size() > 200 ? sql.substr(0, 200) + "..." : sql);
    if (result) PQclear(result);
    throw error;
  }
  PQclear(result);
}

Result Connection::query(const std::string& sql, const std::vector<std::optional<std::string>>& values) {
  std::vector<const char*> raw;
  raw.reserve(values.size());
  for (const auto& v : values) raw.push_back(v ? v->c_str() : nullptr);
  const std::string numbered = numberedPlaceholders(sql);
  PGresult* result = PQexecParams(conn_, numbered.c_str(), static_cast<int>(raw.size()), nullptr, raw.data(), nullptr, nullptr, 0);
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    PgError error = errorOf(result, conn_, sql);
    if (result) PQclear(result);
    throw error;
  }
  Result out(result);
  changes_ = static_cast<int>(out.affected());
  return out;
}

int64_t Connection::lastInsertRowId() {
  Result r = query("SELECT lastval()", {});
  return r.integer(0, 0);
}

std::string Connection::describe() const {
  const auto part = [](const char* text) { return std::string(text ? text : ""); };
  return part(PQuser(conn_)) + "@" + part(PQhost(conn_)) + ":" + part(PQport(conn_)) + "/" + part(PQdb(conn_));
}

void Connection::reconnectIfBroken() {
  if (PQstatus(conn_) == CONNECTION_OK) return;
  LOG_WARN("postgres", "the connection to PostgreSQL was lost; reconnecting");
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) throw PgError("08006", std::string("cannot reconnect to PostgreSQL: ") + PQerrorMessage(conn_));
}

Transaction::Transaction(Connection& connection, bool, Isolation isolation) : connection_(connection) {
  connection_.exec(isolation == Isolation::Serializable    ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                   : isolation == Isolation::ReadCommitted ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                                           : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    connection_.exec("ROLLBACK");
  } catch (const std::exception& e) {
    LOG_ERROR("postgres", "rollback failed: " << e.what());
  }
}

void Transaction::commit() {
  connection_.exec("COMMIT");
  done_ = true;
}

void applyMigrations(Connection& db, const std::vector<const char*>& steps, const std::string& versionTable, int64_t lockKey,
                     const std::string& what) {
  Transaction tx(db, true, Transaction::Isolation::ReadCommitted);
  db.prepare("SELECT pg_advisory_xact_lock(?)").bind(1, lockKey).run();
  db.exec("CREATE TABLE IF NOT EXISTS " + versionTable + "(id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  db.exec("INSERT INTO " + versionTable + "(id, version) VALUES(1, 0) ON CONFLICT (id) DO NOTHING");
  auto st = db.prepare("SELECT version FROM " + versionTable + " WHERE id = 1");
  st.step();
  const int64_t version = st.integer(0);
  if (version > static_cast<int64_t>(steps.size())) {
    throw std::runtime_error("the PostgreSQL " + what + " schema is version " + std::to_string(version) + ", newer than this release knows (" +
                             std::to_string(steps.size()) + "): upgrade the product");
  }
  for (size_t i = static_cast<size_t>(version); i < steps.size(); ++i) db.exec(steps[i]);
  db.prepare("UPDATE " + versionTable + " SET version = ? WHERE id = 1").bind(1, static_cast<int64_t>(steps.size())).run();
  tx.commit();
}

}  // namespace annot::pg
