#pragma once
// What the catalog indexes for each level of the DICOM information model. Filled from the
// received header (dicom/InstanceHeader) and returned by queries.
#include <cstdint>
#include <string>
#include <vector>

namespace annot {

struct PatientAttributes {
  std::string patientId;
  std::string issuerOfPatientId;
  std::string patientName;
  std::string birthDate;
  std::string sex;
};

struct StudyAttributes {
  std::string studyInstanceUid;
  std::string studyDate;
  std::string studyTime;
  std::string accessionNumber;
  std::string studyId;
  std::string description;
  std::string referringPhysician;
  std::string patientAge;   // age at the time of the study (0010,1010)
  std::string patientSex;   // as recorded in this study's instances
};

struct SeriesAttributes {
  std::string seriesInstanceUid;
  std::string modality;
  std::string seriesNumber;
  std::string description;
  std::string bodyPart;
  std::string manufacturer;
  std::string manufacturerModel;
  std::string frameOfReferenceUid;
};

struct InstanceAttributes {
  std::string sopInstanceUid;
  std::string sopClassUid;
  std::string instanceNumber;
  std::string transferSyntaxUid;
  uint32_t rows = 0;
  uint32_t columns = 0;
  uint32_t numberOfFrames = 0;
};

// Everything known about one received instance at the moment it is committed.
struct InstanceRecord {
  PatientAttributes patient;
  StudyAttributes study;
  SeriesAttributes series;
  InstanceAttributes instance;
  std::string storageKey;     // where the InstanceStore keeps the file
  uint64_t fileSize = 0;
  int64_t receivedAtMs = 0;   // Unix time in milliseconds
  std::string callingAet;     // who sent it ("" when not received over DIMSE)
};

struct StudySummary {
  PatientAttributes patient;
  StudyAttributes study;
  std::vector<std::string> modalities;
  std::vector<std::string> bodyParts;
  uint32_t seriesCount = 0;
  uint32_t instanceCount = 0;
  uint64_t totalBytes = 0;
  int64_t firstReceivedMs = 0;
  int64_t lastUpdateMs = 0;
  bool stable = false;
};

struct InstanceSummary {
  InstanceAttributes instance;
  std::string storageKey;
  uint64_t fileSize = 0;
  int64_t receivedAtMs = 0;
  std::string callingAet;
};

struct SeriesSummary {
  SeriesAttributes series;
  uint32_t instanceCount = 0;
  std::vector<InstanceSummary> instances;
};

struct StudyDetail {
  StudySummary summary;
  std::vector<SeriesSummary> series;
};

struct StudyQuery {
  std::string patientId;       // exact match when not empty
  std::string dateFrom;        // YYYYMMDD inclusive, empty = open
  std::string dateTo;          // YYYYMMDD inclusive, empty = open
  std::string modality;        // any series of the study has this modality
  uint32_t limit = 100;
  uint32_t offset = 0;
};

struct StudyPage {
  std::vector<StudySummary> studies;
  uint64_t total = 0;          // matches before paging
};

// Where an indexed instance belongs: a SOP Instance UID names one object, in one series.
struct InstancePlace {
  std::string studyInstanceUid;
  std::string seriesInstanceUid;
};

// Result of committing one instance.
enum class CommitOutcome { Inserted, AlreadyPresent };

}  // namespace annot
