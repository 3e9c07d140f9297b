// The audit trail: views are batched, changes are immediate, and the chain stays in the order
// things happened either way.
#include <gtest/gtest.h>

#include <thread>

#include "audit/AuditLog.h"
#include "support/TestSupport.h"

using namespace annot;

namespace {
AuditEvent event(const std::string& action, const std::string& object) {
  AuditEvent e;
  e.user = "u";
  e.role = "admin";
  e.action = action;
  e.objectType = "study";
  e.objectId = object;
  return e;
}

std::vector<std::string> actions(AuditLog& log) {
  std::vector<std::string> out;
  for (const auto& e : log.query(AuditQuery{})) out.push_back(e.event.action + ":" + e.event.objectId);
  return out;
}
}  // namespace

TEST(AuditLog, QueuedViewsComeBeforeALaterChangeAndTheChainHolds) {
  test::TempDir dir;
  StateDatabase db(dir / "state.sqlite");
  AuditLog log(db);
  log.recordView(event("view-study", "1"));
  log.recordView(event("view-study", "2"));
  const AuditEntry saved = log.record(event("save-annotation", "3"));  // writes the views first
  log.recordView(event("view-study", "4"));
  EXPECT_EQ(actions(log), (std::vector<std::string>{"view-study:1", "view-study:2", "save-annotation:3", "view-study:4"}));
  const auto all = log.query(AuditQuery{});
  EXPECT_EQ(saved.id, all[2].id);
  EXPECT_EQ(saved.hash, all[2].hash);
  EXPECT_EQ(saved.previousHash, all[1].hash);
  const auto v = log.verify();
  EXPECT_TRUE(v.intact);
  EXPECT_EQ(v.entries, 4u);
}

TEST(AuditLog, TheWriterCommitsViewsOnItsOwnAndNothingIsLostAtShutdown) {
  test::TempDir dir;
  {
    StateDatabase db(dir / "state.sqlite");
    AuditLog log(db);
    log.recordView(event("list-studies", "a"));
    // Without any flush the writer thread commits within its batch window.
    ASSERT_TRUE(test::eventually([&] {
      return db.with([](sqlite::Database& d) {
        auto st = d.prepare("SELECT count(*) FROM audit");
        st.step();
        return st.integer(0) == 1;
      });
    }, std::chrono::seconds(5)));
    log.recordView(event("list-studies", "b"));
  }  // destroyed with one view queued
  StateDatabase db(dir / "state.sqlite");
  AuditLog reopened(db);
  EXPECT_EQ(actions(reopened), (std::vector<std::string>{"list-studies:a", "list-studies:b"}));
  EXPECT_TRUE(reopened.verify().intact);
}

TEST(AuditLog, ABatchThatCannotBeWrittenIsKeptInOrderForTheNextAttempt) {
  test::TempDir dir;
  StateDatabase db(dir / "state.sqlite");
  AuditLog log(db);
  // The database refuses audit rows for a while (as a full or failing disk would).
  db.with([](sqlite::Database& d) {
    d.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
  });
  log.recordView(event("view-study", "1"));
  log.recordView(event("view-study", "2"));
  EXPECT_THROW(log.flush(), std::exception);
  log.recordView(event("view-study", "3"));
  EXPECT_THROW(log.flush(), std::exception);
  EXPECT_THROW(log.record(event("save-annotation", "4")), std::exception);  // refused, views kept
  db.with([](sqlite::Database& d) { d.exec("DROP TRIGGER refuse_audit"); });
  // Nothing was lost and nothing was reordered; the chain is whole.
  EXPECT_EQ(actions(log), (std::vector<std::string>{"view-study:1", "view-study:2", "view-study:3"}));
  EXPECT_TRUE(log.verify().intact);
}
