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

}  // namespace annot::test
