#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include <algorithm>
#include <string>

#include "storage/IncomingFile.h"
#include "storage/InstanceStore.h"
#include "support/TestSupport.h"

using annot::IncomingFile;
using annot::StorageError;
using annot::test::readFile;

namespace {
std::string patterned(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
  return bytes;
}

// Appends in irregular pieces, as PDVs arrive.
void appendInPieces(IncomingFile& file, const std::string& bytes) {
  const size_t sizes[] = {7, 16384, 1, 100000, 4096, 3};
  for (size_t at = 0, i = 0; at < bytes.size(); ++i) {
    const size_t n = std::min(sizes[i % 6], bytes.size() - at);
    file.append(bytes.data() + at, n);
    at += n;
  }
}

std::string joined(const std::vector<std::string_view>& pieces) {
  std::string out;
  for (auto p : pieces) out.append(p);
  return out;
}

void checkRoundTrip(const std::string& path, size_t size, IncomingFile::Caching caching) {
  const std::string bytes = patterned(size);
  IncomingFile file(path, 64ull << 20, caching);
  appendInPieces(file, bytes);
  file.finish();
  EXPECT_EQ(file.size(), size);
  // Compared as booleans: a failure must not print megabytes.
  EXPECT_TRUE(readFile(path) == bytes) << "file differs, size " << size;
  EXPECT_TRUE(joined(file.contents()) == bytes) << "kept bytes differ, size " << size;
}

const size_t kSizes[] = {0, 1, 4095, 4096, 4097, IncomingFile::kChunk - 1, IncomingFile::kChunk,
                         IncomingFile::kChunk + 1, 3 * IncomingFile::kChunk + 8191};
}  // namespace

TEST(IncomingFile, WritesEveryByteInOrderAcrossBlockAndChunkBoundaries) {
  annot::test::TempDir dir;
  for (const size_t size : kSizes) {
    checkRoundTrip(dir / ("direct" + std::to_string(size)), size, IncomingFile::Caching::DirectWherePossible);
  }
  // Whether the direct path ran depends on the test machine's filesystem.
  IncomingFile probe(dir / "probe", 0);
  probe.finish();
  std::cout << "[ INFO     ] " << dir.path() << (probe.direct() ? " takes" : " refuses") << " O_DIRECT\n";
}

TEST(IncomingFile, ThroughThePageCacheTheSameBytesArrive) {
  // The path taken where a filesystem refuses O_DIRECT (EINVAL), and on request.
  annot::test::TempDir dir;
  for (const size_t size : kSizes) {
    checkRoundTrip(dir / ("cached" + std::to_string(size)), size, IncomingFile::Caching::PageCache);
  }
  IncomingFile cached(dir / "probe", 0, IncomingFile::Caching::PageCache);
  EXPECT_FALSE(cached.direct());
}

TEST(IncomingFile, ObjectsPastTheLimitAreNotKeptInMemoryButWrittenWhole) {
  annot::test::TempDir dir;
  const std::string bytes = patterned(5 * IncomingFile::kChunk + 17);
  IncomingFile file(dir / "big", 2 * IncomingFile::kChunk);
  appendInPieces(file, bytes);
  file.finish();
  EXPECT_TRUE(file.contents().empty());
  EXPECT_TRUE(readFile(dir / "big") == bytes);

  IncomingFile small(dir / "small", 2 * IncomingFile::kChunk);
  appendInPieces(small, bytes.substr(0, 2 * IncomingFile::kChunk));
  small.finish();
  EXPECT_TRUE(joined(small.contents()) == bytes.substr(0, 2 * IncomingFile::kChunk)) << "exactly at the limit is kept";
}

namespace {
// Receives three chunks into a file the kernel caps at one chunk (EFBIG, refused as a full disk
// would refuse it) and returns what finish() threw; `failedEarly` tells whether the failure was
// already known before finish().
std::string finishCapped(const std::string& path, annot::AsyncWriter* writer, bool& failedEarly) {
  struct rlimit old{};
  EXPECT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto previous = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = old;
  limited.rlim_cur = IncomingFile::kChunk;
  EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::string message;
  {
    IncomingFile file(path, 64ull << 20, IncomingFile::Caching::DirectWherePossible, nullptr, writer);
    appendInPieces(file, patterned(3 * IncomingFile::kChunk));  // no throw while receiving
    failedEarly = !file.failure().empty();
    try {
      file.finish();
    } catch (const StorageError& e) {
      message = e.what();
    }
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, previous);
  return message;
}
}  // namespace

TEST(IncomingFile, AWriteFailureIsHeldUntilFinishAndNamesTheFile) {
  annot::test::TempDir dir;
  bool failedEarly = false;
  const std::string message = finishCapped(dir / "capped", nullptr, failedEarly);
  EXPECT_TRUE(failedEarly);
  EXPECT_NE(message.find("cannot write"), std::string::npos) << message;
  EXPECT_NE(message.find("capped"), std::string::npos) << message;
}

TEST(IncomingFile, ChunksGoBackToThePoolAndCarryNothingIntoTheNextObject) {
  annot::test::TempDir dir;
  annot::ChunkPool pool(4);
  const std::string first = patterned(3 * IncomingFile::kChunk + 100);
  std::vector<const char*> used;
  {
    IncomingFile file(dir / "first", 64ull << 20, IncomingFile::Caching::DirectWherePossible, &pool);
    appendInPieces(file, first);
    file.finish();
    for (auto piece : file.contents()) used.push_back(piece.data());
    EXPECT_EQ(pool.spareCount(), 0u) << "chunks stay with the file while its contents are read";
  }
  EXPECT_EQ(pool.spareCount(), 4u) << "all four chunks of the first object are back";

  // The next object reuses those chunks; none of the first object's bytes may show through.
  std::string second = patterned(IncomingFile::kChunk + 5000);
  for (auto& c : second) c = static_cast<char>(~c);
  IncomingFile file(dir / "second", 64ull << 20, IncomingFile::Caching::DirectWherePossible, &pool);
  appendInPieces(file, second);
  file.finish();
  EXPECT_EQ(pool.spareCount(), 2u);
  const auto pieces = file.contents();
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_NE(std::find(used.begin(), used.end(), pieces[0].data()), used.end()) << "a pooled chunk was reused";
  EXPECT_TRUE(readFile(dir / "second") == second);
  EXPECT_TRUE(joined(pieces) == second);
}

TEST(IncomingFile, AnObjectTooLargeToKeepReturnsItsEarlierChunksAtOnce) {
  annot::test::TempDir dir;
  annot::ChunkPool pool(8);
  const std::string bytes = patterned(6 * IncomingFile::kChunk + 1);
  IncomingFile file(dir / "big", 2 * IncomingFile::kChunk, IncomingFile::Caching::DirectWherePossible, &pool);
  appendInPieces(file, bytes);
  // Past the limit only one chunk circulates; the two kept before it went back to the pool.
  EXPECT_EQ(pool.spareCount(), 1u);
  file.finish();
  EXPECT_TRUE(readFile(dir / "big") == bytes);
}

TEST(IncomingFile, WrittenAsynchronouslyEveryByteArrivesInOrder) {
  annot::test::TempDir dir;
  auto writer = annot::AsyncWriter::open();
  ASSERT_TRUE(writer) << "this kernel offers no AIO";
  annot::ChunkPool pool;
  for (const auto caching : {IncomingFile::Caching::DirectWherePossible, IncomingFile::Caching::PageCache}) {
    for (size_t size : kSizes) {
      const std::string bytes = patterned(size);
      const std::string path = dir / ("bg" + std::to_string(size) + (caching == IncomingFile::Caching::PageCache ? "c" : "d"));
      IncomingFile file(path, 64ull << 20, caching, &pool, writer.get());
      // Half of the objects are handed over early, as the node does once the data is complete,
      // one of them before its last bytes arrive.
      if (size % 2) {
        appendInPieces(file, bytes);
        file.writeWholeBlocks();
      } else if (size > 8192) {
        appendInPieces(file, bytes.substr(0, size - 8192 + 1));
        file.writeWholeBlocks();
        file.append(bytes.data() + size - 8192 + 1, 8192 - 1);
      } else {
        appendInPieces(file, bytes);
      }
      file.finish();
      EXPECT_TRUE(readFile(path) == bytes) << "file differs, size " << size;
      EXPECT_TRUE(joined(file.contents()) == bytes) << "kept bytes differ, size " << size;
    }
  }
  // Past the memory limit one chunk is refilled; each refill waits for its earlier writes.
  const std::string big = patterned(7 * IncomingFile::kChunk + 3);
  IncomingFile file(dir / "bigbg", IncomingFile::kChunk, IncomingFile::Caching::DirectWherePossible, &pool,
                    writer.get());
  appendInPieces(file, big);
  file.finish();
  EXPECT_TRUE(readFile(dir / "bigbg") == big);
}

TEST(IncomingFile, AnAsynchronousWriteFailureIsReportedByFinish) {
  annot::test::TempDir dir;
  auto writer = annot::AsyncWriter::open();
  ASSERT_TRUE(writer);
  bool failedEarly = false;
  const std::string message = finishCapped(dir / "capped", writer.get(), failedEarly);
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_NE(message.find("capped"), std::string::npos) << message;
}

TEST(AsyncWriter, MoreWritesThanItsDepthAllLandAndDrainReportsSuccess) {
  annot::test::TempDir dir;
  auto writer = annot::AsyncWriter::open(2);
  ASSERT_TRUE(writer);
  const std::string path = dir / "queued";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0640);
  ASSERT_GE(fd, 0);
  std::vector<std::string> parts;
  std::string expected;
  for (int i = 0; i < 7; ++i) {
    parts.push_back(std::string(4096, static_cast<char>('a' + i)));
    expected += parts.back();
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(writer->submit(fd, parts[i].data(), parts[i].size(), i * 4096), 0);
    EXPECT_LE(writer->inFlight(), 2u);
  }
  EXPECT_EQ(writer->drain(), 0);
  EXPECT_EQ(writer->inFlight(), 0u);
  ::close(fd);
  EXPECT_EQ(readFile(path), expected);
}

TEST(AsyncWriter, AWriteToADescriptorNotOpenForWritingIsRefusedWithItsErrno) {
  annot::test::TempDir dir;
  auto writer = annot::AsyncWriter::open();
  ASSERT_TRUE(writer);
  const std::string path = dir / "readonly";
  { std::ofstream(path) << "x"; }
  const int readOnly = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(readOnly, 0);
  const std::string data(4096, 'z');
  EXPECT_EQ(writer->submit(readOnly, data.data(), data.size(), 0), EBADF);
  EXPECT_EQ(writer->drain(), 0) << "nothing was queued";
  ::close(readOnly);
  EXPECT_EQ(readFile(path), "x");
}

TEST(AsyncWriterPool, LendsTheSameWriterAgainOnceReturned) {
  annot::AsyncWriterPool pool;
  annot::AsyncWriter* first = nullptr;
  annot::AsyncWriter* second = nullptr;
  {
    const auto a = pool.lease();
    const auto b = pool.lease();
    ASSERT_NE(a.get(), nullptr);
    first = a.get();
    second = b.get();
    EXPECT_NE(second, first) << "a lent writer is not lent twice";
  }
  EXPECT_EQ(pool.idleCount(), 2u);
  const auto again = pool.lease();
  EXPECT_TRUE(again.get() == first || again.get() == second) << "no new writer while one is idle";
  EXPECT_EQ(pool.idleCount(), 1u);
}
