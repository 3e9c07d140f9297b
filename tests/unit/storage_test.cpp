#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <regex>

#include "storage/FileInstanceStore.h"
#include "storage/FileSync.h"
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

TEST(FileInstanceStore, CreatesEveryShardFolderUpFront) {
  annot::test::TempDir dir;
  FileInstanceStore store(dir.path());
  // Storing must never create a folder on the acknowledgement path: all 256 exist at start.
  size_t shards = 0;
  for (int i = 0; i < 256; ++i) {
    char name[3];
    std::snprintf(name, sizeof name, "%02x", i);
    struct stat st{};
    if (::stat((dir / "instances/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) ++shards;
  }
  EXPECT_EQ(shards, 256u);
}

TEST(FileInstanceStore, RecreatesAShardFolderRemovedUnderIt) {
  annot::test::TempDir dir;
  FileInstanceStore store(dir.path());
  const std::string key = FileInstanceStore::keyFor("1.2.3.4");
  const std::string shard = dir / ("instances/" + key.substr(0, 2));
  ASSERT_EQ(::rmdir(shard.c_str()), 0);
  const std::string incoming = store.newIncomingPath();
  writeFile(incoming, "DICM-data");
  EXPECT_EQ(store.promote(incoming, "1.2.3.4"), key);
  EXPECT_EQ(readFile(store.absolutePath(key)), "DICM-data");
}

TEST(FileSync, WriteFileWritesTheWholeBuffer) {
  annot::test::TempDir dir;
  std::string bytes(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31);
  annot::filesync::writeFile(dir / "blob", bytes);
  EXPECT_EQ(readFile(dir / "blob"), bytes);
  annot::filesync::writeFile(dir / "blob", "short");
  EXPECT_EQ(readFile(dir / "blob"), "short") << "an existing file is truncated";
  EXPECT_THROW(annot::filesync::writeFile(dir / "missing/blob", "x"), annot::StorageError);
}
