// PS3.15 Annex E as the researcher view applies it, on a dataset built here attribute by attribute.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include "deid/Deidentifier.h"
#include "support/TestSupport.h"

using namespace annot;

namespace {
std::string get(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  item.findAndGetOFStringArray(tag, v);
  return v.c_str();
}

// A de-identifier over its own state database, and an empty file to apply it to.
class DeidentifierTest : public ::testing::Test {
 protected:
  test::TempDir dir;
  StateDatabase db{dir / "state.sqlite"};
  deid::Deidentifier deid{db};
  DcmFileFormat file;
  DcmDataset& ds = *file.getDataset();
};
}  // namespace

TEST_F(DeidentifierTest, AppliesTheProfileAndRemapsUidsConsistently) {
  ds.putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
  ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5.6");
  ds.putAndInsertString(DCM_StudyInstanceUID, "1.2.3.4");
  ds.putAndInsertString(DCM_PatientID, "MRN-123");
  ds.putAndInsertString(DCM_IssuerOfPatientID, "HOSP");
  ds.putAndInsertString(DCM_PatientName, "Doe^Jane");
  ds.putAndInsertString(DCM_PatientBirthDate, "19500101");
  ds.putAndInsertString(DCM_PatientSex, "F");
  ds.putAndInsertString(DCM_PatientAge, "074Y");
  ds.putAndInsertString(DCM_InstitutionName, "General Hospital");
  ds.putAndInsertString(DCM_AccessionNumber, "ACC9");
  ds.putAndInsertString(DCM_ContentDate, "20240101");
  ds.putAndInsertString(DCM_TransferSyntaxUID, "1.2.840.10008.1.2.1");  // a standard UID, kept
  ds.putAndInsertString(DcmTagKey(0x0009, 0x0010), "ACME");             // private creator
  ds.putAndInsertString(DcmTagKey(0x0009, 0x1001), "secret");
  DcmItem* ref = nullptr;
  ASSERT_TRUE(ds.findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, ref, -2).good());
  ref->putAndInsertString(DCM_SeriesInstanceUID, "1.2.3.4.5");
  DcmItem* content = nullptr;
  ASSERT_TRUE(ds.findOrCreateSequenceItem(DCM_ContentSequence, content, -2).good());
  content->putAndInsertString(DCM_ValueType, "PNAME");
  content->putAndInsertString(DCM_PersonName, "Reader^Rita");

  deid.apply(file);

  const std::string alias = deid.pseudonym("MRN-123", "HOSP");
  EXPECT_EQ(get(ds, DCM_PatientID), alias);
  EXPECT_EQ(get(ds, DCM_PatientName), alias);
  EXPECT_EQ(alias.rfind("ANON-", 0), 0u);
  EXPECT_FALSE(ds.tagExists(DCM_IssuerOfPatientID));
  EXPECT_FALSE(ds.tagExists(DCM_InstitutionName));
  EXPECT_TRUE(ds.tagExists(DCM_AccessionNumber)) << "Type 2: emptied, not removed";
  EXPECT_EQ(get(ds, DCM_AccessionNumber), "");
  EXPECT_EQ(get(ds, DCM_PatientBirthDate), "");
  EXPECT_EQ(get(ds, DCM_ContentDate), "19000101") << "Type 1 in SR: a dummy value";
  EXPECT_EQ(get(ds, DCM_PatientSex), "F");
  EXPECT_EQ(get(ds, DCM_PatientAge), "074Y");
  EXPECT_FALSE(ds.tagExists(DcmTagKey(0x0009, 0x1001)));
  EXPECT_FALSE(ds.tagExists(DcmTagKey(0x0009, 0x0010)));
  EXPECT_EQ(get(ds, DCM_SOPClassUID), UID_CTImageStorage);
  EXPECT_EQ(get(ds, DCM_TransferSyntaxUID), "1.2.840.10008.1.2.1");
  EXPECT_EQ(get(ds, DCM_StudyInstanceUID), deid.uid("1.2.3.4"));
  EXPECT_EQ(get(*ref, DCM_SeriesInstanceUID), deid.uid("1.2.3.4.5")) << "references inside sequences follow";
  EXPECT_EQ(get(*content, DCM_PersonName), "ANONYMIZED");
  EXPECT_EQ(get(ds, DCM_PatientIdentityRemoved), "YES");
  // The mapping is stable, 2.25-form, within 64 characters, and can be walked back.
  const std::string mapped = deid.uid("1.2.3.4");
  EXPECT_EQ(mapped.rfind("2.25.", 0), 0u);
  EXPECT_LE(mapped.size(), 64u);
  EXPECT_EQ(deid.original(mapped), std::optional<std::string>("1.2.3.4"));
  EXPECT_FALSE(deid.original("2.25.1"));
  deid::Deidentifier again(db);  // same key from the database: same answers after a restart
  EXPECT_EQ(again.uid("1.2.3.4"), mapped);
  EXPECT_EQ(again.pseudonym("MRN-123", "HOSP"), alias);
  EXPECT_NE(again.pseudonym("MRN-123", "OTHER"), alias);
}

// Attributes of PS3.15 Table E.1-1 beyond the core ones: visit, order, contact, free text and
// overlays. Each one would otherwise reach the researcher unchanged.
TEST_F(DeidentifierTest, RemovesTheVisitOrderContactAndFreeTextAttributesOfTheBasicProfile) {
  ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5.6");
  ds.putAndInsertString(DCM_PatientID, "MRN-123");
  const DcmTagKey removed[] = {DCM_AdmissionID,
                               DCM_RequestedProcedureID,
                               DCM_ReferringPhysicianAddress,
                               DCM_TimezoneOffsetFromUTC,
                               DCM_PatientReligiousPreference,
                               DCM_RETIRED_StudyComments,
                               DCM_RETIRED_AcquisitionComments,
                               DCM_PatientTelecomInformation,
                               DCM_CurrentPatientLocation,
                               DCM_StationName,
                               DcmTagKey(0x6000, 0x4000)};  // Overlay Comments
  for (const auto& tag : removed) ASSERT_TRUE(ds.putAndInsertString(tag, "identifying").good()) << DcmTag(tag).getTagName();
  ASSERT_TRUE(ds.putAndInsertUint16(DcmTagKey(0x6002, 0x0010), 512).good());  // any overlay attribute
  ASSERT_TRUE(ds.putAndInsertUint8Array(DCM_OverlayData, reinterpret_cast<const Uint8*>("burned"), 6).good());
  ds.putAndInsertString(DCM_PlacerOrderNumberImagingServiceRequest, "ORD-1");
  ds.putAndInsertString(DCM_FillerOrderNumberImagingServiceRequest, "ORD-2");
  ds.putAndInsertString(DCM_PatientWeight, "70");  // a patient characteristic the option keeps
  ASSERT_TRUE(ds.putAndInsertUint8Array(DCM_EncapsulatedDocument, reinterpret_cast<const Uint8*>("%PDF Doe^Jane"), 14).good());

  deid.apply(file);

  EXPECT_FALSE(ds.tagExists(DCM_EncapsulatedDocument)) << "a PDF's text names its patient";

  for (const auto& tag : removed) EXPECT_FALSE(ds.tagExists(tag)) << DcmTag(tag).getTagName() << " reached the view";
  EXPECT_FALSE(ds.tagExists(DCM_OverlayData));
  EXPECT_FALSE(ds.tagExists(DcmTagKey(0x6002, 0x0010)));
  EXPECT_EQ(get(ds, DCM_PlacerOrderNumberImagingServiceRequest), "") << "Type 2 in the Request Attributes: emptied";
  EXPECT_EQ(get(ds, DCM_FillerOrderNumberImagingServiceRequest), "");
  EXPECT_EQ(get(ds, DCM_PatientWeight), "70");
  // Search answers use the same table by tag.
  EXPECT_EQ(deid::Deidentifier::treatmentOf(0x0038, 0x0010), deid::Deidentifier::Treatment::Remove);
  EXPECT_EQ(deid::Deidentifier::treatmentOf(0x6000, 0x3000), deid::Deidentifier::Treatment::Remove);
  EXPECT_EQ(deid::Deidentifier::treatmentOf(0x0028, 0x0010), deid::Deidentifier::Treatment::Keep) << "Rows";
}

// Error messages shown in the de-identified view name instances by the UIDs that view uses.
TEST_F(DeidentifierTest, TextKeepsNoOriginalUid) {
  const std::string original = "1.2.826.0.1.3680043.9.7";
  const std::string shown = deid.uid("1.2.3.4.5");
  const std::string message = "frame 2 does not exist (" + original + " has 1). Stored as 1.2.840.10008.1.2.1 by DCMTK 3.6; see " + shown + ".";
  const std::string text = deid.text(message);
  EXPECT_EQ(text.find(original), std::string::npos) << text;
  EXPECT_NE(text.find("(" + deid.uid(original) + " has 1)."), std::string::npos) << text;
  EXPECT_NE(text.find("as 1.2.840.10008.1.2.1 by"), std::string::npos) << "standard UIDs stay: " << text;
  EXPECT_NE(text.find("by DCMTK 3.6;"), std::string::npos) << "numbers with fewer than three components stay: " << text;
  EXPECT_NE(text.find("see " + shown + "."), std::string::npos) << "a UID the view handed out stays as it is: " << text;
  EXPECT_EQ(text.rfind("frame 2 does not exist (", 0), 0u) << text;
}
