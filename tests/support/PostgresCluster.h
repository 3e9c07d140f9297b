#pragma once
// A private PostgreSQL server for one test: a fresh cluster (initdb) in a temporary folder,
// started with pg_ctl on a free port (TCP on 127.0.0.1 and a socket in the folder), trust
// authentication for its one user, fsync off (a test's data need not survive a power cut).
// PostgreSQL refuses to run as root: under root the cluster belongs to `nobody` and its
// commands run through setpriv. Stopped and removed on destruction.
#include <cstdint>
#include <string>
#include <vector>

namespace annot::test {

class PostgresCluster {
 public:
  PostgresCluster();
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  uint16_t port() const { return port_; }
  // A libpq URI for a database of the cluster (created on first use).
  std::string uri(const std::string& database = "annot");
  std::string log() const;

 private:
  std::string run(const std::vector<std::string>& argv);  // as the cluster's owner; throws on failure

  std::string dir_;
  std::string bin_;
  uint16_t port_ = 0;
  bool asNobody_ = false;
  bool started_ = false;
};

// The database the suites run their deployments on: empty (each node's and plugin's own SQLite
// files) unless ANNOT_TEST_DATABASE=postgres, when one cluster is started for the whole test
// process and each deployment gets a database of its own, named after `key` (its data folder:
// a restarted node finds its database again).
std::string testDatabaseFor(const std::string& key);
// Runs SQL against a deployment's state database, SQLite file or PostgreSQL URI (for tests that
// set up what only time would, like a lapsed claim); the output, one row per line.
std::string stateSql(const std::string& location, const std::string& statements);

}  // namespace annot::test
