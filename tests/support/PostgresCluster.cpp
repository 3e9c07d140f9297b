#include "support/PostgresCluster.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "support/TestSupport.h"

namespace annot::test {
namespace {
constexpr uid_t kNobody = 65534;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

PostgresCluster::PostgresCluster() {
  const CommandResult bindir = runCommand({"pg_config", "--bindir"});
  if (bindir.exitCode != 0) throw std::runtime_error("pg_config not found (libpq-dev): " + bindir.output);
  bin_ = trimmed(bindir.output);
  std::string pattern = "/tmp/annot-pg.XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  dir_ = pattern;
  asNobody_ = ::geteuid() == 0;
  if (asNobody_ && ::chown(dir_.c_str(), kNobody, kNobody) != 0) {
    throw std::runtime_error("cannot give " + dir_ + " to nobody: " + std::strerror(errno));
  }
  run({bin_ + "/initdb", "-D", dir_ + "/data", "-U", "annot", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"});
  port_ = freePort();
  run({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w", "-t", "60", "-o",
       "-p " + std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
       "start"});
  started_ = true;
}

PostgresCluster::~PostgresCluster() {
  if (started_) {
    try {
      run({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"});
    } catch (const std::exception&) {
      // Nothing else to do in a destructor: the folder goes anyway.
    }
  }
  runCommand({"rm", "-rf", dir_});
}

std::string PostgresCluster::run(const std::vector<std::string>& argv) {
  std::vector<std::string> full;
  if (asNobody_) full = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  const CommandResult r = runCommand(full, std::chrono::seconds(90));
  if (r.exitCode != 0) throw std::runtime_error(argv.front() + " failed: " + r.output + "\n" + log());
  return r.output;
}

std::string PostgresCluster::uri(const std::string& database) {
  static const std::set<char> allowed = {'_'};
  for (char c : database) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && !allowed.count(c)) throw std::invalid_argument("database name " + database);
  }
  const CommandResult exists = runCommand({bin_ + "/psql", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "annot", "-d", "postgres",
                                           "-tAc", "SELECT 1 FROM pg_database WHERE datname = '" + database + "'"});
  if (trimmed(exists.output) != "1") {
    const CommandResult made = runCommand({bin_ + "/createdb", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "annot", database});
    if (made.exitCode != 0) throw std::runtime_error("createdb " + database + ": " + made.output);
  }
  return "postgresql://annot@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string testDatabaseFor(const std::string& key) {
  const char* wanted = std::getenv("ANNOT_TEST_DATABASE");
  if (!wanted || std::string(wanted).empty() || std::string(wanted) == "sqlite") return "";
  if (std::string(wanted) != "postgres") throw std::invalid_argument("ANNOT_TEST_DATABASE must be sqlite or postgres");
  static PostgresCluster cluster;  // stopped when the test process exits
  return cluster.uri("d" + std::to_string(std::hash<std::string>{}(key)));
}

std::string stateSql(const std::string& location, const std::string& statements) {
  if (location.rfind("postgresql://", 0) == 0) {
    const CommandResult r = runCommand({"psql", location, "-v", "ON_ERROR_STOP=1", "-tAc", statements});
    if (r.exitCode != 0) throw std::runtime_error("psql: " + r.output);
    return r.output;
  }
  const CommandResult r = runCommand({"sqlite3", location, statements});
  if (r.exitCode != 0) throw std::runtime_error("sqlite3: " + r.output);
  return r.output;
}

std::string PostgresCluster::log() const {
  std::ifstream in(dir_ + "/server.log");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace annot::test
