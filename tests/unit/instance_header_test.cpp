#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "dicom/InstanceHeader.h"
#include "dicom/PatientStudyModules.h"
#include "dicom/PiecesInputStream.h"
#include "dicom/SourceImages.h"
#include "support/DicomFixtures.h"
#include "support/TestSupport.h"

using namespace annot;
using annot::test::TestInstance;

namespace {
InstanceHeaderError::Kind kindOf(const std::string& path, std::string* message = nullptr) {
  try {
    readInstanceHeader(path);
  } catch (const InstanceHeaderError& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  throw std::logic_error("expected an InstanceHeaderError");
}

// Writes a test instance of the given size as `path` and returns its spec.
TestInstance writeInstance(const std::string& path, unsigned rows, unsigned columns) {
  TestInstance spec;
  spec.rows = rows;
  spec.columns = columns;
  annot::test::writeTestInstance(path, spec);
  return spec;
}
}  // namespace

TEST(InstanceHeader, ReadsEveryIndexedAttribute) {
  annot::test::TempDir dir;
  const TestInstance spec = writeInstance(dir / "a.dcm", 10, 12);
  const InstanceRecord r = readInstanceHeader(dir / "a.dcm");
  EXPECT_EQ(r.instance.sopInstanceUid, spec.sopUid);
  EXPECT_EQ(r.instance.sopClassUid, spec.sopClassUid);
  EXPECT_EQ(r.study.studyInstanceUid, spec.studyUid);
  EXPECT_EQ(r.series.seriesInstanceUid, spec.seriesUid);
  EXPECT_EQ(r.patient.patientId, "PAT1");
  EXPECT_EQ(r.patient.patientName, "Doe^Jane");
  EXPECT_EQ(r.study.patientAge, "040Y");
  EXPECT_EQ(r.series.modality, "CT");
  EXPECT_EQ(r.series.bodyPart, "CHEST");
  EXPECT_EQ(r.instance.rows, 10u);
  EXPECT_EQ(r.instance.columns, 12u);
  EXPECT_EQ(r.instance.numberOfFrames, 1u);
  EXPECT_EQ(r.instance.transferSyntaxUid, "1.2.840.10008.1.2.1");
}

TEST(InstanceHeader, TruncatedDataIsUnreadable) {
  annot::test::TempDir dir;
  writeInstance(dir / "a.dcm", 64, 64);
  const std::string bytes = annot::test::readFile(dir / "a.dcm");
  annot::test::writeFile(dir / "half.dcm", bytes.substr(0, bytes.size() / 2));
  annot::test::writeFile(dir / "garbage.dcm", std::string(2000, '\x5a'));
  std::string message;
  EXPECT_EQ(kindOf(dir / "half.dcm", &message), InstanceHeaderError::Kind::Unreadable);
  EXPECT_NE(message.find("cannot parse DICOM data"), std::string::npos);
  EXPECT_EQ(kindOf(dir / "garbage.dcm"), InstanceHeaderError::Kind::Unreadable);
}

namespace {
// Cuts bytes into pieces of irregular sizes, as a network receiver's buffers would.
std::vector<std::string_view> piecesOf(const std::string& bytes) {
  std::vector<std::string_view> pieces;
  const size_t sizes[] = {1000, 7, 65536, 3, 200000};
  for (size_t at = 0, i = 0; at < bytes.size(); ++i) {
    const size_t n = std::min(sizes[i % 5], bytes.size() - at);
    pieces.emplace_back(bytes.data() + at, n);
    at += n;
  }
  return pieces;
}
}  // namespace

TEST(InstanceHeader, ParsedFromMemoryInPiecesAsFromTheFile) {
  annot::test::TempDir dir;
  const TestInstance spec = writeInstance(dir / "a.dcm", 300, 300);
  const std::string bytes = annot::test::readFile(dir / "a.dcm");
  const InstanceRecord fromFile = readInstanceHeader(dir / "a.dcm");
  const InstanceRecord fromMemory = readInstanceHeader(piecesOf(bytes));
  EXPECT_EQ(fromMemory.instance.sopInstanceUid, spec.sopUid);
  EXPECT_EQ(fromMemory.instance.sopInstanceUid, fromFile.instance.sopInstanceUid);
  EXPECT_EQ(fromMemory.series.seriesInstanceUid, fromFile.series.seriesInstanceUid);
  EXPECT_EQ(fromMemory.study.studyInstanceUid, fromFile.study.studyInstanceUid);
  EXPECT_EQ(fromMemory.patient.patientName, fromFile.patient.patientName);
  EXPECT_EQ(fromMemory.instance.transferSyntaxUid, fromFile.instance.transferSyntaxUid);
  EXPECT_EQ(fromMemory.instance.numberOfFrames, fromFile.instance.numberOfFrames);

  // Cut short anywhere, in the header or in the pixel data: unreadable, as from a file.
  for (const size_t cut : {size_t{100}, size_t{700}, bytes.size() / 2, bytes.size() - 2}) {
    const std::string part = bytes.substr(0, cut);
    try {
      readInstanceHeader(piecesOf(part));
      ADD_FAILURE() << "accepted " << cut << " of " << bytes.size() << " bytes";
    } catch (const InstanceHeaderError& e) {
      EXPECT_EQ(e.kind(), InstanceHeaderError::Kind::Unreadable) << cut;
    }
  }
  EXPECT_THROW(readInstanceHeader(std::vector<std::string_view>{}), InstanceHeaderError);
}

TEST(InstanceHeader, MissingUidsAreNamed) {
  annot::test::TempDir dir;
  TestInstance noStudy;
  noStudy.omitStudyUid = true;
  annot::test::writeTestInstance(dir / "a.dcm", noStudy);
  std::string message;
  EXPECT_EQ(kindOf(dir / "a.dcm", &message), InstanceHeaderError::Kind::MissingAttribute);
  EXPECT_NE(message.find("Study Instance UID (0020,000D) is missing"), std::string::npos);

  TestInstance badUid;
  badUid.seriesUid = "1.2.abc";
  annot::test::writeTestInstance(dir / "b.dcm", badUid);
  EXPECT_EQ(kindOf(dir / "b.dcm", &message), InstanceHeaderError::Kind::MissingAttribute);
  EXPECT_NE(message.find("not a valid UID"), std::string::npos);
}

TEST(InstanceHeader, CommandMismatchIsDetected) {
  annot::test::TempDir dir;
  TestInstance spec;
  annot::test::writeTestInstance(dir / "a.dcm", spec);
  const InstanceRecord r = readInstanceHeader(dir / "a.dcm");
  EXPECT_NO_THROW(checkMatchesCommand(r, spec.sopClassUid, spec.sopUid));
  EXPECT_THROW(checkMatchesCommand(r, "1.2.840.10008.5.1.4.1.1.4", spec.sopUid), InstanceHeaderError);
  EXPECT_THROW(checkMatchesCommand(r, spec.sopClassUid, "1.2.3"), InstanceHeaderError);
}

TEST(PiecesInputStream, SkippedValuesAreReadLaterFromTheBytesItShares) {
  annot::test::TempDir dir;
  writeInstance(dir / "a.dcm", 300, 300);  // 180,000 bytes of pixel data: skipped at 4 KiB
  DcmFileFormat reference;
  ASSERT_TRUE(reference.loadFile((dir / "a.dcm").c_str()).good());
  const Uint8* expected = nullptr;
  unsigned long expectedCount = 0;
  ASSERT_TRUE(reference.getDataset()->findAndGetUint8Array(DCM_PixelData, expected, &expectedCount).good());

  DcmFileFormat file;
  {
    // The stream and the caller's string go away; the skipped value's factory keeps the bytes.
    auto bytes = std::make_shared<const std::string>(annot::test::readFile(dir / "a.dcm"));
    annot::PiecesInputStream in(std::move(bytes));
    file.transferInit();
    ASSERT_TRUE(file.read(in, EXS_Unknown, EGL_noChange, 4096).good());
    file.transferEnd();
  }
  DcmElement* pixels = nullptr;
  ASSERT_TRUE(file.getDataset()->findAndGetElement(DCM_PixelData, pixels).good());
  EXPECT_FALSE(pixels->valueLoaded()) << "pixel data was copied while parsing";
  ASSERT_TRUE(file.loadAllDataIntoMemory().good());
  const Uint8* loaded = nullptr;
  unsigned long count = 0;
  ASSERT_TRUE(file.getDataset()->findAndGetUint8Array(DCM_PixelData, loaded, &count).good());
  ASSERT_EQ(count, expectedCount);
  EXPECT_TRUE(std::equal(loaded, loaded + count, expected));
}

TEST(PiecesInputStream, ParsingACopiedStringReadsEveryValueBeforeReturning) {
  annot::test::TempDir dir;
  writeInstance(dir / "a.dcm", 300, 300);
  DcmFileFormat file;
  std::string bytes = annot::test::readFile(dir / "a.dcm");
  annot::parsePart10(bytes, "test object", file);
  // Nothing may still point into the caller's string: DCMTK's own default read limit (4096)
  // would leave the pixel data there.
  DcmElement* pixels = nullptr;
  ASSERT_TRUE(file.getDataset()->findAndGetElement(DCM_PixelData, pixels).good());
  EXPECT_TRUE(pixels->valueLoaded());
  const std::string original = bytes;
  bytes.assign(bytes.size(), '\0');
  const Uint8* loaded = nullptr;
  unsigned long count = 0;
  ASSERT_TRUE(file.getDataset()->findAndGetUint8Array(DCM_PixelData, loaded, &count).good());
  ASSERT_EQ(count, 300u * 300u * 2u);
  EXPECT_TRUE(std::search(original.begin(), original.end(), loaded, loaded + count) != original.end());
}

// SR and SEG declare UTF-8 (ISO_IR 192): a Latin-1 source's names must arrive converted, not as
// the same bytes under a new label.
TEST(PatientStudyModules, ASourceInAnotherCharacterSetIsCopiedAsUtf8) {
  DcmDataset source;
  source.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 100");
  source.putAndInsertString(DCM_PatientName, "M\xfcller^J\xfcrgen");
  source.putAndInsertString(DCM_StudyDescription, "Th\xf6rax");
  source.putAndInsertString(DCM_PatientID, "MRN-1");
  source.putAndInsertString(DCM_Modality, "CT");  // not a Patient or Study attribute
  DcmDataset target;
  target.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
  copyPatientAndStudyModules(source, target);
  OFString name, description, id, charset;
  target.findAndGetOFStringArray(DCM_PatientName, name);
  target.findAndGetOFStringArray(DCM_StudyDescription, description);
  target.findAndGetOFStringArray(DCM_PatientID, id);
  target.findAndGetOFStringArray(DCM_SpecificCharacterSet, charset);
  EXPECT_EQ(std::string(name.c_str()), "M\xc3\xbcller^J\xc3\xbcrgen");
  EXPECT_EQ(std::string(description.c_str()), "Th\xc3\xb6rax");
  EXPECT_EQ(std::string(id.c_str()), "MRN-1");
  EXPECT_EQ(std::string(charset.c_str()), "ISO_IR 192") << "the target's own character set stays";
  EXPECT_FALSE(target.tagExists(DCM_Modality));
  // The source is left as it was.
  OFString original;
  source.findAndGetOFStringArray(DCM_PatientName, original);
  EXPECT_EQ(std::string(original.c_str()), "M\xfcller^J\xfcrgen");
}

TEST(PatientStudyModules, AnUnconvertibleSourceIsRefusedNotCopiedAsItWas) {
  DcmDataset source;
  source.putAndInsertString(DCM_SpecificCharacterSet, "NOT A CHARSET");
  source.putAndInsertString(DCM_PatientName, "M\xfcller");
  DcmDataset target;
  EXPECT_THROW(copyPatientAndStudyModules(source, target), std::runtime_error);
}
