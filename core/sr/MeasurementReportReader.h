#pragma once
// TID 1500 Measurement Report → annotation document, for our own SRs and for SRs written by
// others (OHIF/dcmjs layout, highdicom/Slicer TID 1410 layout). What it cannot map it lists in
// `unmapped` instead of dropping it silently.
#include <stdexcept>
#include <string>
#include <vector>

#include "annotation/AnnotationDocument.h"

class DcmDataset;

namespace annot {

class SrReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MeasurementReportInfo {
  std::string sopClassUid;
  std::string sopInstanceUid;
  std::string seriesInstanceUid;
  std::string studyInstanceUid;
  std::string completionFlag;    // PARTIAL | COMPLETE
  std::string verificationFlag;  // UNVERIFIED | VERIFIED
  std::string verifyingObserver;
  std::vector<std::string> predecessorSopInstanceUids;
  std::vector<std::string> evidenceSopInstanceUids;
};

struct MeasurementReportContent {
  MeasurementReportInfo info;
  AnnotationDocument document;
  std::vector<std::string> unmapped;
};

MeasurementReportContent readMeasurementReport(DcmDataset& dataset);
MeasurementReportContent readMeasurementReportFile(const std::string& path);
nlohmann::json toJson(const MeasurementReportContent& content);

}  // namespace annot
