// The PostgreSQL layer against a real server (a private cluster per test): parameters never
// pasted into SQL, errors that say what failed with their SQLSTATE, transactions that roll back,
// and the claim primitive of the scale-out worklist (FOR UPDATE SKIP LOCKED) exclusive across
// connections.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "audit/AuditLog.h"
#include "auth/UserStore.h"
#include "catalog/PostgresCatalog.h"
#include "sql/PostgresDb.h"
#include "state/StateDatabase.h"
#include "support/PostgresCluster.h"

using namespace annot;
using annot::test::PostgresCluster;

TEST(PostgresPlaceholders, QuestionMarksBecomeNumberedOutsideQuotesAndComments) {
  EXPECT_EQ(pg::numberedPlaceholders("SELECT a FROM t WHERE b = ? AND c = ?"), "SELECT a FROM t WHERE b = $1 AND c = $2");
  EXPECT_EQ(pg::numberedPlaceholders("SELECT '?', \"x?\" FROM t WHERE b = ? -- why?\nAND c = ?"),
            "SELECT '?', \"x?\" FROM t WHERE b = $1 -- why?\nAND c = $2");
  EXPECT_EQ(pg::numberedPlaceholders("SELECT 'it''s ?' WHERE a = ?"), "SELECT 'it''s ?' WHERE a = $1");
}

TEST(Postgres, StatementsBindByPositionAndErrorsCarryTheirSqlState) {
  PostgresCluster cluster;
  pg::Connection db(cluster.uri());
  db.exec("CREATE TABLE notes(id BIGSERIAL PRIMARY KEY, uid TEXT NOT NULL UNIQUE, body TEXT)");
  const std::string tricky = "Robert'); DROP TABLE notes; --";
  EXPECT_EQ(db.prepare("INSERT INTO notes(uid, body) VALUES(?, ?)").bind(1, "2.25.1").bind(2, tricky).run(), 1);
  db.prepare("INSERT INTO notes(uid, body) VALUES(?, ?)").bind(1, "2.25.2").bindNull(2).run();
  auto st = db.prepare("SELECT id, body FROM notes WHERE uid = ? OR uid = ? ORDER BY id");
  st.bind(1, "2.25.1").bind(2, "2.25.2");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.integer(0), 1);
  EXPECT_EQ(st.text(1), tricky) << "a value is a value, never SQL";
  ASSERT_TRUE(st.step());
  EXPECT_TRUE(st.isNull(1));
  EXPECT_FALSE(st.step());

  try {
    db.prepare("INSERT INTO notes(uid) VALUES(?)").bind(1, "2.25.1").run();
    FAIL() << "a duplicate was accepted";
  } catch (const pg::PgError& e) {
    EXPECT_TRUE(e.uniqueViolation()) << e.sqlState();
    EXPECT_NE(std::string(e.what()).find("INSERT INTO notes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pg::Connection("postgresql://annot@127.0.0.1:1/annot"), pg::PgError);

  {
    pg::Transaction tx(db);
    db.prepare("DELETE FROM notes").run();
  }  // not committed: rolled back
  auto count = db.prepare("SELECT COUNT(*) FROM notes");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.integer(0), 2);
}

// Eight connections claim from one queue of 200 tasks at once: every task is claimed exactly
// once, none twice, and nobody waits on another's lock.
TEST(Postgres, SkipLockedClaimsAreExclusiveAcrossConnections) {
  PostgresCluster cluster;
  const std::string uri = cluster.uri();
  {
    pg::Connection db(uri);
    db.exec("CREATE TABLE tasks(id BIGSERIAL PRIMARY KEY, state TEXT NOT NULL DEFAULT 'SCHEDULED', assignee TEXT NOT NULL DEFAULT '')");
    db.exec("INSERT INTO tasks(state) SELECT 'SCHEDULED' FROM generate_series(1, 200)");
  }
  std::mutex mutex;
  std::multiset<int64_t> claimed;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      try {
        pg::Connection db(uri);
        for (;;) {
          // A queue's claim at READ COMMITTED, as the outbox takes its items (the store's
          // SERIALIZABLE transactions would abort the losers instead of skipping past them).
          pg::Transaction tx(db, true, pg::Transaction::Isolation::ReadCommitted);
          auto next = db.prepare("SELECT id FROM tasks WHERE state = 'SCHEDULED' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED");
          if (!next.step()) break;
          const int64_t id = next.integer(0);
          db.prepare("UPDATE tasks SET state = 'IN PROGRESS', assignee = ? WHERE id = ?").bind(1, "reader" + std::to_string(w)).bind(2, id).run();
          tx.commit();
          std::lock_guard<std::mutex> lock(mutex);
          claimed.insert(id);
        }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << "worker " << w << ": " << e.what();
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(claimed.size(), 200u);
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(), 200u) << "no task claimed twice";
  pg::Connection db(uri);
  auto left = db.prepare("SELECT COUNT(*) FROM tasks WHERE state = 'SCHEDULED' OR assignee = ''");
  ASSERT_TRUE(left.step());
  EXPECT_EQ(left.integer(0), 0);
}

// Two nodes on one PostgreSQL, four threads each recording at once (changes and queued views):
// the audit trail is one chain that verifies, with every entry once, in the order each node
// recorded its own.
TEST(Postgres, TheAuditTrailOfSeveralNodesIsOneVerifiableChain) {
  PostgresCluster cluster;
  const std::string uri = cluster.uri();
  StateDatabase first(uri), second(uri);
  EXPECT_TRUE(first.onPostgres());
  EXPECT_GT(first.schemaVersion(), 0);
  EXPECT_THROW(first.with([](sqlite::Database&) { return 0; }), std::logic_error) << "SQLite-only access to a PostgreSQL state database says so";
  {
    AuditLog a(first), b(second);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        AuditLog& log = t % 2 ? b : a;
        for (int i = 0; i < 40; ++i) {
          const AuditEvent e{"user" + std::to_string(t), "annotator", i % 4 ? "view-task" : "save-annotation", "task",
                             std::to_string(t) + "." + std::to_string(i), "success", "", "test"};
          if (i % 4) log.recordView(e);
          else log.record(e);
        }
      });
    }
    for (auto& th : threads) th.join();
    a.flush();
    b.flush();
    const AuditLog::Verification v = a.verify();
    EXPECT_TRUE(v.intact) << "first broken at " << v.firstBrokenId;
    EXPECT_EQ(v.entries, 320);
    AuditQuery q;
    q.user = "user3";
    q.limit = 1000;
    const auto mine = b.query(q);
    ASSERT_EQ(mine.size(), 40u);
    for (size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(mine[i].event.objectId, "3." + std::to_string(i)) << "in the order recorded";
    EXPECT_EQ(a.lastId(), b.lastId());
  }
  // The database refuses edits; one made around it (a superuser disabling the guard) is found,
  // whichever node checks.
  pg::Connection db(uri);
  EXPECT_THROW(db.exec("UPDATE audit SET detail = 'edited' WHERE id = 100"), pg::PgError) << "append-only";
  EXPECT_THROW(db.exec("DELETE FROM audit WHERE id = 100"), pg::PgError) << "append-only";
  db.exec("ALTER TABLE audit DISABLE TRIGGER audit_no_change; UPDATE audit SET detail = 'edited' WHERE id = 100");
  AuditLog checker(second);
  const AuditLog::Verification broken = checker.verify();
  EXPECT_FALSE(broken.intact);
  EXPECT_EQ(broken.firstBrokenId, 100);
}

// Users and tokens shared by two nodes: a token issued on one works on the other, and what one
// node ends (a revoked token, a disabled user) the other refuses at once.
TEST(Postgres, UsersAndTokensAreTheSameOnEveryNode) {
  PostgresCluster cluster;
  const std::string uri = cluster.uri();
  StateDatabase first(uri), second(uri);
  EXPECT_EQ(first.schemaVersion(), second.schemaVersion()) << "one schema, applied once";
  UserStore a(first), b(second);
  const IssuedToken rita = a.addUser("rita", Role::Annotator);
  EXPECT_THROW(b.addUser("rita", Role::Admin), UserError) << "one name across the nodes";
  const TokenCheck seen = b.check(rita.token);
  ASSERT_TRUE(seen.user) << static_cast<int>(seen.problem.value_or(TokenProblem::Unknown));
  EXPECT_EQ(seen.user->name, "rita");
  EXPECT_EQ(seen.user->role, Role::Annotator);
  EXPECT_EQ(b.check(rita.token.substr(0, rita.token.size() - 1) + "0").problem, TokenProblem::WrongSecret);

  const IssuedToken second_token = b.issueToken("rita");
  b.flushLastUse();
  const auto tokens = a.tokensOf("rita");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_GT(tokens[1].lastUsedMs, 0) << "the use on the other node is recorded";

  a.revoke("rita", rita.info.id);
  EXPECT_EQ(b.check(rita.token).problem, TokenProblem::Revoked);
  EXPECT_TRUE(b.check(second_token.token).user);
  EXPECT_TRUE(a.setDisabled("rita", true));
  EXPECT_EQ(b.check(second_token.token).problem, TokenProblem::Disabled);
  EXPECT_EQ(b.revokeAll("rita"), 1u);

  const User directory = b.ensureDirectoryUser("dr.house", Role::Reviewer);
  EXPECT_EQ(a.ensureDirectoryUser("dr.house", Role::Admin).id, directory.id) << "the same account, its role updated";
  EXPECT_EQ(b.find("dr.house")->role, Role::Admin);
  b.setIdentifiedAccess("dr.house", true);
  EXPECT_TRUE(a.find("dr.house")->identifiedAccess);
  EXPECT_THROW(a.setIdentifiedAccess("nobody", true), UserError);
  EXPECT_EQ(a.list().size(), 2u);
}

// Two nodes creating the same user at the same moment: one succeeds, the others are told the
// name exists (never a database error), and first sign-ins of one directory user make one row.
TEST(Postgres, AUserCreatedOnTwoNodesAtOnceExistsOnce) {
  PostgresCluster cluster;
  const std::string uri = cluster.uri();
  StateDatabase first(uri), second(uri), third(uri), fourth(uri);
  std::vector<std::unique_ptr<UserStore>> stores;
  for (StateDatabase* db : {&first, &second, &third, &fourth}) stores.push_back(std::make_unique<UserStore>(*db));
  std::atomic<int> created{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int round = 0; round < 10; ++round) {
    threads.clear();
    for (auto& store : stores) {
      threads.emplace_back([&, s = store.get()] {
        try {
          s->addUser("same" + std::to_string(round), Role::Annotator);
          ++created;
        } catch (const UserError& e) {
          if (e.kind() == UserError::Kind::Conflict) ++conflicts;
          else ++other;
        } catch (const std::exception&) {
          ++other;
        }
        s->ensureDirectoryUser("directory" + std::to_string(round), Role::Reviewer);
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(created, 10);
  EXPECT_EQ(conflicts, 30);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(stores[0]->list().size(), 20u);
}

// Nodes started together on an empty database: the first makes the schema under the advisory
// lock, the others wait for it and find it made; none fails to start.
TEST(Postgres, NodesStartingTogetherOnAnEmptyDatabaseAllStart) {
  PostgresCluster cluster;
  const std::string uri = cluster.uri();
  constexpr int kNodes = 6;
  std::atomic<int> ready{0}, failures{0};
  std::vector<std::thread> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes.emplace_back([&, n] {
      ++ready;
      while (ready < kNodes) std::this_thread::yield();
      try {
        StateDatabase state(uri);
        PostgresCatalog catalog(uri);
        EXPECT_EQ(state.schemaVersion(), 3);
        EXPECT_EQ(catalog.schemaVersion(), 1);
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << "node " << n << ": " << e.what();
      }
    });
  }
  for (auto& t : nodes) t.join();
  EXPECT_EQ(failures, 0);
}
