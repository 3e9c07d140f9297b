#pragma once
// Small DICOM objects and catalog records for unit tests.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "catalog/Records.h"

namespace annot::test {

struct TestInstance {
  std::string patientId = "PAT1";
  std::string patientName = "Doe^Jane";
  std::string sex = "F";
  std::string age = "040Y";
  std::string studyUid = "1.2.826.0.1.3680043.10.1.1";
  std::string seriesUid = "1.2.826.0.1.3680043.10.1.1.1";
  std::string sopUid = "1.2.826.0.1.3680043.10.1.1.1.1";
  std::string sopClassUid = "1.2.840.10008.5.1.4.1.1.2";  // CT Image Storage
  std::string studyDate = "20240115";
  std::string modality = "CT";
  std::string bodyPart = "CHEST";
  std::string manufacturer = "ACME";
  std::string instanceNumber = "1";
  unsigned rows = 8, columns = 8;
  bool omitStudyUid = false;
  bool omitSopInstanceUid = false;
};

// Encapsulated Pixel Data in `ts`: a Basic Offset Table holding `table` (empty: none), then one
// fragment per string of `fragments`. The caller inserts it into a dataset, which owns it.
DcmPixelData* encapsulatedPixelData(const std::vector<std::string>& fragments, const std::vector<Uint32>& table, E_TransferSyntax ts);

// Writes a valid Part 10 file (Explicit VR Little Endian) for `spec`.
void writeTestInstance(const std::string& path, const TestInstance& spec);
// A catalog record as the ingest path would produce it for `spec`.
// The default instance placed in the given study, series and SOP Instance UIDs.
TestInstance instanceIn(const std::string& studyUid, const std::string& seriesUid, const std::string& sopUid);

InstanceRecord makeRecord(const TestInstance& spec, int64_t receivedAtMs = 1000, uint64_t size = 1234);

// An RGB Secondary Capture (8 bits, uncompressed) of `rows` x `columns` in the given study;
// `pixel(x, y)` gives each pixel's red, green and blue. Returns its SOP Instance UID.
struct RgbCapture {
  std::string studyUid, seriesUid, sopUid, patientId = "COLOUR-1";
  unsigned rows = 16, columns = 16;
};
void writeRgbCapture(const std::string& path, const RgbCapture& spec, const std::function<std::array<Uint8, 3>(unsigned, unsigned)>& pixel);

}  // namespace annot::test
