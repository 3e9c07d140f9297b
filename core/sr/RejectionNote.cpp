#include "sr/RejectionNote.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include "dicom/DatasetAccess.h"
#include "dicom/PatientStudyModules.h"

namespace annot {
namespace {
struct ReasonRow {
  RejectionReason reason;
  const char* name;
  RejectionCode code;
};
const ReasonRow kReasons[] = {
    {RejectionReason::Quality, "quality", {"113001", "Rejected for Quality Reasons"}},
    {RejectionReason::PatientSafety, "patient-safety", {"113037", "Rejected for Patient Safety Reasons"}},
    {RejectionReason::IncorrectWorklistEntry, "worklist-entry", {"113038", "Incorrect Modality Worklist Entry"}},
    {RejectionReason::RetentionExpired, "retention-expired", {"113039", "Data Retention Policy Expired"}},
};

void must(const OFCondition& cond, const std::string& what) {
  if (cond.bad()) throw RejectionNoteError("rejection note: " + what + ": " + cond.text());
}

// Image SOP classes are referenced as IMAGE content items, others (SR, KOS) as COMPOSITE.
bool isImageClass(const std::string& sopClass) {
  return sopClass == UID_SegmentationStorage || dcmIsImageStorageSOPClassUID(sopClass.c_str());
}
}  // namespace

const char* rejectionReasonName(RejectionReason reason) {
  for (const auto& r : kReasons) {
    if (r.reason == reason) return r.name;
  }
  return "quality";
}

std::optional<RejectionReason> rejectionReasonFromName(const std::string& name) {
  for (const auto& r : kReasons) {
    if (name == r.name) return r.reason;
  }
  return std::nullopt;
}

RejectionCode rejectionCode(RejectionReason reason) {
  for (const auto& r : kReasons) {
    if (r.reason == reason) return r.code;
  }
  return kReasons[0].code;
}

std::string writeRejectionNote(DcmItem& studySource, const std::vector<RejectedInstance>& instances,
                               const RejectionNoteOptions& options, DcmFileFormat& out) {
  if (instances.empty()) throw RejectionNoteError("a rejection note needs at least one instance to reject");
  for (const auto& i : instances) {
    if (i.studyInstanceUid != instances.front().studyInstanceUid) {
      throw RejectionNoteError("a rejection note covers one study; " + i.sopInstanceUid + " is in another");
    }
  }
  const RejectionCode code = rejectionCode(options.reason);
  DSRDocument kos(DSRTypes::DT_KeyObjectSelectionDocument);
  must(kos.setSpecificCharacterSetType(DSRTypes::CS_UTF8), "character set");
  DSRDocumentTree& tree = kos.getTree();
  if (!tree.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container)) throw RejectionNoteError("rejection note: root container");
  must(tree.getCurrentContentItem().setConceptName(DSRCodedEntryValue(code.value, "DCM", code.meaning)), "title");
  // The root says which template shaped the document (PS3.3 C.18.8.1.2): TID 2010 Key Object Selection.
  must(tree.getCurrentContentItem().setTemplateIdentification("2010", "DCMR"), "template identification");
  bool first = true;
  auto add = [&](DSRTypes::E_ValueType type) {
    const DSRTypes::E_AddMode mode = first ? DSRTypes::AM_belowCurrent : DSRTypes::AM_afterCurrent;
    first = false;
    if (!tree.addContentItem(DSRTypes::RT_contains, type, mode)) throw RejectionNoteError("rejection note: content item");
  };
  if (!options.description.empty()) {
    add(DSRTypes::VT_Text);
    must(tree.getCurrentContentItem().setConceptName(DSRCodedEntryValue("113012", "DCM", "Key Object Description")), "description");
    must(tree.getCurrentContentItem().setStringValue(options.description.c_str()), "description text");
  }
  for (const auto& i : instances) {
    if (isImageClass(i.sopClassUid)) {
      add(DSRTypes::VT_Image);
      must(tree.getCurrentContentItem().setImageReference(DSRImageReferenceValue(i.sopClassUid.c_str(), i.sopInstanceUid.c_str()), OFFalse),
           "reference to " + i.sopInstanceUid);
    } else {
      add(DSRTypes::VT_Composite);
      must(tree.getCurrentContentItem().setCompositeReference(DSRCompositeReferenceValue(i.sopClassUid.c_str(), i.sopInstanceUid.c_str()),
                                                              OFFalse),
           "reference to " + i.sopInstanceUid);
    }
    must(kos.getCurrentRequestedProcedureEvidence().addItem(i.studyInstanceUid.c_str(), i.seriesInstanceUid.c_str(), i.sopClassUid.c_str(),
                                                            i.sopInstanceUid.c_str()),
         "evidence for " + i.sopInstanceUid);
  }
  must(kos.readStudyData(studySource), "study data");
  kos.createNewSeries();
  must(kos.setSeriesNumber(options.seriesNumber.c_str()), "series number");
  must(kos.setInstanceNumber("1"), "instance number");
  must(kos.setSeriesDescription(code.meaning), "series description");
  must(kos.setManufacturer("Annotation node"), "manufacturer");
  if (!kos.isValid()) throw RejectionNoteError("DCMTK considers the rejection note invalid");
  DcmDataset& ds = *out.getDataset();
  ds.clear();
  must(kos.write(ds), "encoding");
  copyPatientAndStudyModules(studySource, ds);
  return getString(ds, DCM_SOPInstanceUID);
}

std::optional<RejectionNote> readRejectionNote(DcmItem& ds) {
  if (getString(ds, DCM_SOPClassUID) != UID_KeyObjectSelectionDocumentStorage) return std::nullopt;
  DcmItem* title = nullptr;
  if (ds.findAndGetSequenceItem(DCM_ConceptNameCodeSequence, title, 0).bad() || !title) return std::nullopt;
  const std::string value = getString(*title, DCM_CodeValue), scheme = getString(*title, DCM_CodingSchemeDesignator);
  std::optional<RejectionReason> reason;
  for (const auto& r : kReasons) {
    if (scheme == "DCM" && value == r.code.value) reason = r.reason;
  }
  if (!reason) return std::nullopt;
  RejectionNote note{*reason, {}};
  // Study > Referenced Series > Referenced SOP: what the note withdraws.
  DcmSequenceOfItems* studies = nullptr;
  if (ds.findAndGetSequence(DCM_CurrentRequestedProcedureEvidenceSequence, studies).bad() || !studies) return note;
  for (unsigned long s = 0; s < studies->card(); ++s) {
    DcmItem* study = studies->getItem(s);
    DcmSequenceOfItems* series = nullptr;
    if (study->findAndGetSequence(DCM_ReferencedSeriesSequence, series).bad() || !series) continue;
    for (unsigned long r = 0; r < series->card(); ++r) {
      DcmItem* one = series->getItem(r);
      DcmSequenceOfItems* sops = nullptr;
      if (one->findAndGetSequence(DCM_ReferencedSOPSequence, sops).bad() || !sops) continue;
      for (unsigned long i = 0; i < sops->card(); ++i) {
        DcmItem* sop = sops->getItem(i);
        note.instances.push_back({getString(*study, DCM_StudyInstanceUID), getString(*one, DCM_SeriesInstanceUID),
                                  getString(*sop, DCM_ReferencedSOPClassUID), getString(*sop, DCM_ReferencedSOPInstanceUID)});
      }
    }
  }
  return note;
}

}  // namespace annot
