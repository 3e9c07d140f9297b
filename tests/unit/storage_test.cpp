#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>

#include "storage/FileInstanceStore.h"
#include "support/TestSupport.h"

using annot::FileInstanceStore;
using annot::test::readFile;
using annot::test::writeFile;

TEST(FileInstanceStore, KeysAreDigestsNeverPeerText) {
  const std::regex shape("^[0-9a-f]{2}/[0-9a-f]{64}\\.dcm$");
  for (const std::string& uid : std::vector<std::string>{"1.2.3", "../../../../etc/passwd", "/absolute", "a\\b", std::string("x\0y", 3)}) {
    const std::string key = FileInstanceStore::keyFor(uid);
    EXPECT_TRUE(std::regex_match(key, shape)) << key;
    EXPECT_EQ(key.find(".."), std::string::npos);
  }
  EXPECT_EQ(FileInstanceStore::keyFor("1.2.3"), FileInstanceStore::keyFor("1.2.3"));
  EXPECT_NE(FileInstanceStore::keyFor("1.2.3"), FileInstanceStore::keyFor("1.2.4"));
}

TEST(FileInstanceStore, PromotesIncomingFilesIntoPlace) {
  annot::test::TempDir dir;
  FileInstanceStore store(dir.path());
  const std::string incoming = store.newIncomingPath();
  EXPECT_EQ(incoming.rfind(dir / "incoming/", 0), 0u);
  EXPECT_NE(store.newIncomingPath(), incoming);
  writeFile(incoming, "DICM-data");
  const std::string key = store.promote(incoming, "1.2.3.4");
  store.syncPromoted({key});
  EXPECT_EQ(readFile(store.absolutePath(key)), "DICM-data");
  struct stat st{};
  EXPECT_NE(::stat(incoming.c_str(), &st), 0) << "scratch file must be gone";
  EXPECT_GT(store.availableBytes(), 0u);
}

TEST(FileInstanceStore, ClearsUnacknowledgedScratchFilesOnStart) {
  annot::test::TempDir dir;
  std::string leftover;
  {
    FileInstanceStore store(dir.path());
    leftover = store.newIncomingPath();
    writeFile(leftover, "partial");
  }
  FileInstanceStore reopened(dir.path());
  struct stat st{};
  EXPECT_NE(::stat(leftover.c_str(), &st), 0);
}

TEST(FileInstanceStore, DiscardRemovesScratch) {
  annot::test::TempDir dir;
  FileInstanceStore store(dir.path());
  const std::string incoming = store.newIncomingPath();
  writeFile(incoming, "x");
  store.discardIncoming(incoming);
  struct stat st{};
  EXPECT_NE(::stat(incoming.c_str(), &st), 0);
}
