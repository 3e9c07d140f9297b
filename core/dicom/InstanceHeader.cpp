#include "dicom/InstanceHeader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "common/Log.h"
#include "dicom/DatasetAccess.h"
#include "dicom/PiecesInputStream.h"
#include "dicom/Uid.h"

namespace annot {
namespace {
uint32_t getUnsigned(DcmItem& item, const DcmTagKey& tag) {
  Uint16 us = 0;
  if (item.findAndGetUint16(tag, us).good()) return us;
  OFString text;
  if (item.findAndGetOFString(tag, text).good() && !text.empty()) {
    try {
      const long v = std::stol(text.c_str());
      return v > 0 ? static_cast<uint32_t>(v) : 0u;
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

std::string requireUid(DcmItem& item, const DcmTagKey& tag, const char* name) {
  const std::string uid = trimUid(getString(item, tag));
  if (uid.empty()) {
    throw InstanceHeaderError(InstanceHeaderError::Kind::MissingAttribute, std::string(name) + " is missing");
  }
  if (!isValidUid(uid)) {
    throw InstanceHeaderError(InstanceHeaderError::Kind::MissingAttribute,
                              std::string(name) + " '" + uid + "' is not a valid UID");
  }
  return uid;
}

InstanceRecord parsedRecord(DcmFileFormat& file, const OFCondition& status);
}  // namespace

InstanceRecord readInstanceHeader(const std::string& path) {
  DcmFileFormat file;
  const OFCondition status =
      file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kHeaderValuesOnly, ERM_fileOnly);
  return parsedRecord(file, status);
}

InstanceRecord readInstanceHeader(const std::vector<std::string_view>& pieces) {
  // One stream over the pieces as received, no copy into one buffer; values past
  // kHeaderValuesOnly are skipped, as loadFile leaves them on disk.
  DcmFileFormat file;
  PiecesInputStream in(pieces);
  return parsedRecord(file, readWholeObject(file, in, kHeaderValuesOnly));
}

namespace {
// The record of a parsed file, or why it could not be parsed.
InstanceRecord parsedRecord(DcmFileFormat& file, const OFCondition& status) {
  if (status.bad()) {
    throw InstanceHeaderError(InstanceHeaderError::Kind::Unreadable,
                              std::string("cannot parse DICOM data: ") + status.text());
  }
  return instanceRecordFrom(file);
}
}  // namespace

InstanceRecord instanceRecordFrom(DcmFileFormat& file) {
  DcmDataset& ds = *file.getDataset();
  // Names and descriptions go to UTF-8 once, here, so every consumer (JSON, SQL) sees one charset.
  const std::string failure = convertToUtf8(ds);
  if (!failure.empty()) LOG_WARN("ingest", failure << "; names are indexed as received");

  InstanceRecord r;
  r.instance.sopClassUid = requireUid(ds, DCM_SOPClassUID, "SOP Class UID (0008,0016)");
  r.instance.sopInstanceUid = requireUid(ds, DCM_SOPInstanceUID, "SOP Instance UID (0008,0018)");
  r.study.studyInstanceUid = requireUid(ds, DCM_StudyInstanceUID, "Study Instance UID (0020,000D)");
  r.series.seriesInstanceUid = requireUid(ds, DCM_SeriesInstanceUID, "Series Instance UID (0020,000E)");

  r.patient.patientId = getString(ds, DCM_PatientID);
  r.patient.issuerOfPatientId = getString(ds, DCM_IssuerOfPatientID);
  r.patient.patientName = getString(ds, DCM_PatientName);
  r.patient.birthDate = getString(ds, DCM_PatientBirthDate);
  r.patient.sex = getString(ds, DCM_PatientSex);

  r.study.studyDate = getString(ds, DCM_StudyDate);
  r.study.studyTime = getString(ds, DCM_StudyTime);
  r.study.accessionNumber = getString(ds, DCM_AccessionNumber);
  r.study.studyId = getString(ds, DCM_StudyID);
  r.study.description = getString(ds, DCM_StudyDescription);
  r.study.referringPhysician = getString(ds, DCM_ReferringPhysicianName);
  r.study.patientAge = getString(ds, DCM_PatientAge);
  r.study.patientSex = r.patient.sex;

  r.series.modality = getString(ds, DCM_Modality);
  r.series.seriesNumber = getString(ds, DCM_SeriesNumber);
  r.series.description = getString(ds, DCM_SeriesDescription);
  r.series.bodyPart = getString(ds, DCM_BodyPartExamined);
  r.series.manufacturer = getString(ds, DCM_Manufacturer);
  r.series.manufacturerModel = getString(ds, DCM_ManufacturerModelName);
  r.series.frameOfReferenceUid = trimUid(getString(ds, DCM_FrameOfReferenceUID));

  r.instance.instanceNumber = getString(ds, DCM_InstanceNumber);
  r.instance.rows = getUnsigned(ds, DCM_Rows);
  r.instance.columns = getUnsigned(ds, DCM_Columns);
  r.instance.numberOfFrames = getUnsigned(ds, DCM_NumberOfFrames);
  if (r.instance.numberOfFrames == 0 && r.instance.rows > 0) r.instance.numberOfFrames = 1;

  r.instance.transferSyntaxUid = trimUid(getString(*static_cast<DcmItem*>(file.getMetaInfo()), DCM_TransferSyntaxUID));
  if (r.instance.transferSyntaxUid.empty()) {
    r.instance.transferSyntaxUid = DcmXfer(ds.getOriginalXfer()).getXferID();
  }
  return r;
}

void checkMatchesCommand(const InstanceRecord& record, const std::string& affectedSopClassUid,
                         const std::string& affectedSopInstanceUid) {
  if (trimUid(affectedSopClassUid) != record.instance.sopClassUid) {
    throw InstanceHeaderError(InstanceHeaderError::Kind::Mismatch,
                              "dataset SOP Class UID " + record.instance.sopClassUid +
                                  " differs from the command's Affected SOP Class UID " + affectedSopClassUid);
  }
  if (trimUid(affectedSopInstanceUid) != record.instance.sopInstanceUid) {
    throw InstanceHeaderError(InstanceHeaderError::Kind::Mismatch,
                              "dataset SOP Instance UID " + record.instance.sopInstanceUid +
                                  " differs from the command's Affected SOP Instance UID " + affectedSopInstanceUid);
  }
}

}  // namespace annot
