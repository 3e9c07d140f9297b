// IOCM rejection notes: what the product writes reads back as the same reason and instances;
// other key object selections and other objects are not rejections.
#include <gtest/gtest.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include "dicom/DatasetAccess.h"
#include "sr/RejectionNote.h"

using namespace annot;

namespace {
DcmDataset studySource() {
  DcmDataset ds;
  ds.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
  ds.putAndInsertString(DCM_PatientName, "Doe^Jane");
  ds.putAndInsertString(DCM_PatientID, "P-1");
  ds.putAndInsertString(DCM_StudyInstanceUID, "1.2.3");
  ds.putAndInsertString(DCM_StudyDate, "20261207");
  ds.putAndInsertString(DCM_AccessionNumber, "A-9");
  return ds;
}
const std::vector<RejectedInstance> kWithdrawn = {
    {"1.2.3", "1.2.3.9", UID_EnhancedSRStorage, "1.2.3.9.1"},
    {"1.2.3", "1.2.3.8", UID_SegmentationStorage, "1.2.3.8.1"},
};
}  // namespace

TEST(RejectionNote, WhatIsWrittenReadsBackAsTheSameReasonAndInstances) {
  DcmDataset source = studySource();
  for (const auto reason : {RejectionReason::Quality, RejectionReason::PatientSafety, RejectionReason::IncorrectWorklistEntry,
                            RejectionReason::RetentionExpired}) {
    DcmFileFormat file;
    RejectionNoteOptions options;
    options.reason = reason;
    options.description = "withdrawn";
    const std::string uid = writeRejectionNote(source, kWithdrawn, options, file);
    DcmDataset& ds = *file.getDataset();
    EXPECT_EQ(getString(ds, DCM_SOPInstanceUID), uid);
    EXPECT_EQ(getString(ds, DCM_SOPClassUID), UID_KeyObjectSelectionDocumentStorage);
    EXPECT_EQ(getString(ds, DCM_Modality), "KO");
    EXPECT_EQ(getString(ds, DCM_PatientID), "P-1") << "identity copied, never invented";
    EXPECT_EQ(getString(ds, DCM_StudyInstanceUID), "1.2.3");
    EXPECT_EQ(getString(ds, DCM_AccessionNumber), "A-9");
    const auto read = readRejectionNote(ds);
    ASSERT_TRUE(read) << rejectionReasonName(reason);
    EXPECT_EQ(read->reason, reason);
    ASSERT_EQ(read->instances.size(), 2u);
    EXPECT_EQ(read->instances[0].sopInstanceUid, "1.2.3.9.1");
    EXPECT_EQ(read->instances[1].sopClassUid, UID_SegmentationStorage);
    EXPECT_EQ(read->instances[1].seriesInstanceUid, "1.2.3.8");
  }
  EXPECT_STREQ(rejectionCode(RejectionReason::Quality).value, "113001");
  EXPECT_EQ(rejectionReasonFromName("worklist-entry"), RejectionReason::IncorrectWorklistEntry);
  EXPECT_FALSE(rejectionReasonFromName("Quality"));
}

TEST(RejectionNote, OtherObjectsAreNoRejectionAndBadRequestsAreRefused) {
  DcmDataset source = studySource();
  DcmFileFormat file;
  writeRejectionNote(source, kWithdrawn, {}, file);
  DcmDataset& ds = *file.getDataset();
  // A key image note ("Of Interest", 113000) is a KOS but rejects nothing.
  DcmItem* title = nullptr;
  ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_ConceptNameCodeSequence, title, 0).good());
  title->putAndInsertString(DCM_CodeValue, "113000");
  EXPECT_FALSE(readRejectionNote(ds));
  EXPECT_FALSE(readRejectionNote(source)) << "not a KOS";
  EXPECT_THROW(writeRejectionNote(source, {}, {}, file), RejectionNoteError);
  std::vector<RejectedInstance> twoStudies = kWithdrawn;
  twoStudies[1].studyInstanceUid = "1.2.4";
  EXPECT_THROW(writeRejectionNote(source, twoStudies, {}, file), RejectionNoteError);
}
