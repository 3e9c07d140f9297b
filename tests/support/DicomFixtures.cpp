#include "DicomFixtures.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <stdexcept>
#include <vector>

namespace annot::test {

DcmPixelData* encapsulatedPixelData(const std::vector<std::string>& fragments, const std::vector<Uint32>& table, E_TransferSyntax ts) {
  auto* sequence = new DcmPixelSequence(DCM_PixelSequenceTag);
  auto* offsets = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
  // Offsets are little endian in the file, as they are in memory here.
  if (!table.empty()) offsets->putUint8Array(reinterpret_cast<const Uint8*>(table.data()), static_cast<unsigned long>(4 * table.size()));
  sequence->insert(offsets);
  for (const auto& fragment : fragments) {
    auto* item = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
    item->putUint8Array(reinterpret_cast<const Uint8*>(fragment.data()), static_cast<unsigned long>(fragment.size()));
    sequence->insert(item);
  }
  auto* pixels = new DcmPixelData(DCM_PixelData);
  pixels->putOriginalRepresentation(ts, nullptr, sequence);
  return pixels;
}

void writeTestInstance(const std::string& path, const TestInstance& s) {
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  auto put = [&](const DcmTagKey& tag, const std::string& v) { ds->putAndInsertString(tag, v.c_str()); };
  put(DCM_SOPClassUID, s.sopClassUid);
  if (!s.omitSopInstanceUid) put(DCM_SOPInstanceUID, s.sopUid);
  if (!s.omitStudyUid) put(DCM_StudyInstanceUID, s.studyUid);
  put(DCM_SeriesInstanceUID, s.seriesUid);
  put(DCM_PatientID, s.patientId);
  put(DCM_PatientName, s.patientName);
  put(DCM_PatientSex, s.sex);
  put(DCM_PatientAge, s.age);
  put(DCM_StudyDate, s.studyDate);
  put(DCM_Modality, s.modality);
  put(DCM_BodyPartExamined, s.bodyPart);
  put(DCM_Manufacturer, s.manufacturer);
  put(DCM_InstanceNumber, s.instanceNumber);
  put(DCM_SeriesNumber, "1");
  ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(s.rows));
  ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(s.columns));
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  put(DCM_PhotometricInterpretation, "MONOCHROME2");
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 16);
  ds->putAndInsertUint16(DCM_HighBit, 15);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  std::vector<Uint16> pixels(static_cast<size_t>(s.rows) * s.columns, 100);
  ds->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  const OFCondition c = file.saveFile(path.c_str(), EXS_LittleEndianExplicit);
  if (c.bad()) throw std::runtime_error("cannot write test instance " + path + ": " + c.text());
}

TestInstance instanceIn(const std::string& studyUid, const std::string& seriesUid, const std::string& sopUid) {
  TestInstance t;
  t.studyUid = studyUid;
  t.seriesUid = seriesUid;
  t.sopUid = sopUid;
  return t;
}

InstanceRecord makeRecord(const TestInstance& s, int64_t receivedAtMs, uint64_t size) {
  InstanceRecord r;
  r.patient = {s.patientId, "", s.patientName, "19800101", s.sex};
  r.study.studyInstanceUid = s.studyUid;
  r.study.studyDate = s.studyDate;
  r.study.patientAge = s.age;
  r.study.patientSex = s.sex;
  r.series.seriesInstanceUid = s.seriesUid;
  r.series.modality = s.modality;
  r.series.bodyPart = s.bodyPart;
  r.series.manufacturer = s.manufacturer;
  r.series.seriesNumber = "1";
  r.instance.sopInstanceUid = s.sopUid;
  r.instance.sopClassUid = s.sopClassUid;
  r.instance.instanceNumber = s.instanceNumber;
  r.instance.transferSyntaxUid = "1.2.840.10008.1.2.1";
  r.instance.rows = s.rows;
  r.instance.columns = s.columns;
  r.instance.numberOfFrames = 1;
  r.storageKey = "aa/" + s.sopUid + ".dcm";
  r.fileSize = size;
  r.receivedAtMs = receivedAtMs;
  r.callingAet = "SCU";
  return r;
}

void writeRgbCapture(const std::string& path, const RgbCapture& spec, const std::function<std::array<Uint8, 3>(unsigned, unsigned)>& pixel) {
  DcmFileFormat file;
  DcmDataset& ds = *file.getDataset();
  ds.putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
  ds.putAndInsertString(DCM_SOPInstanceUID, spec.sopUid.c_str());
  ds.putAndInsertString(DCM_StudyInstanceUID, spec.studyUid.c_str());
  ds.putAndInsertString(DCM_SeriesInstanceUID, spec.seriesUid.c_str());
  ds.putAndInsertString(DCM_PatientID, spec.patientId.c_str());
  ds.putAndInsertString(DCM_Modality, "OT");
  ds.putAndInsertString(DCM_SeriesNumber, "9");
  ds.putAndInsertString(DCM_SeriesDescription, "Colour capture");
  ds.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(spec.rows));
  ds.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(spec.columns));
  ds.putAndInsertUint16(DCM_SamplesPerPixel, 3);
  ds.putAndInsertString(DCM_PhotometricInterpretation, "RGB");
  ds.putAndInsertUint16(DCM_PlanarConfiguration, 0);
  ds.putAndInsertUint16(DCM_BitsAllocated, 8);
  ds.putAndInsertUint16(DCM_BitsStored, 8);
  ds.putAndInsertUint16(DCM_HighBit, 7);
  ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
  std::vector<Uint8> pixels(size_t{spec.rows} * spec.columns * 3);
  for (unsigned y = 0; y < spec.rows; ++y) {
    for (unsigned x = 0; x < spec.columns; ++x) {
      const auto rgb = pixel(x, y);
      std::copy(rgb.begin(), rgb.end(), pixels.begin() + (size_t{y} * spec.columns + x) * 3);
    }
  }
  ds.putAndInsertUint8Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  if (file.saveFile(path.c_str(), EXS_LittleEndianExplicit).bad()) throw std::runtime_error("cannot write " + path);
}

}  // namespace annot::test
