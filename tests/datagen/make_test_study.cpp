// annot-testdata: writes synthetic but realistic CT/MR series (patient/study/series modules,
// image plane geometry, 16-bit pixels of a simple phantom) so tests and benchmarks need no
// download, and the other kinds of image a PACS holds, without plane geometry: radiographs
// (DX, CR, MG), angiograms (XA), ultrasound (US), secondary captures (SC) and NM, single- and
// multi-frame, monochrome and colour. Every instance is a valid Part 10 file.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string outDir;
  std::string modality = "CT";
  unsigned slices = 20;
  unsigned rows = 512;
  unsigned columns = 512;
  unsigned seriesCount = 1;
  std::string patientId = "ANON0001";
  std::string patientName = "Test^Patient";
  std::string patientSex = "F";
  std::string birthDate = "19700101";
  std::string patientAge = "055Y";
  std::string studyDate = "20240115";
  std::string studyUid;
  std::string accession = "ACC0001";
  std::string bodyPart;
  std::string description;
  std::string manufacturer = "ACME Imaging";
  double pixelSpacing = 0.7;
  double sliceThickness = 1.25;
  bool enhanced = false;  // one Enhanced CT instance with `slices` frames instead of a series
  unsigned frames = 1;    // XA, US, NM: frames of one multi-frame instance (multi-frame class)
  bool rgb = false;       // US, SC: colour pixels
  bool legacyUids = false;  // UIDs as old archives have them ("999." root, leading zeros)
  unsigned studies = 1;   // >1: DIR/studyNNNNNN/..., patients <id>-N, dates and modalities varied
};

std::string newUid() {
  char buf[100];
  return dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
}

void usage() {
  std::cerr << "usage: annot-testdata --out DIR [--modality CT|MR] [--slices N] [--rows N] [--columns N]\n"
               "         [--series N] [--patient-id ID] [--patient-name N] [--sex M|F|O] [--birth-date YYYYMMDD]\n"
               "         [--age 055Y] [--study-date YYYYMMDD] [--study-uid UID] [--accession A]\n"
               "         [--body-part CHEST] [--description TEXT] [--manufacturer TEXT] [--enhanced]\n"
               "         [--studies N] [--frames N] [--rgb] [--legacy-uids]\n"
               "--modality DX|CR|MG|XA|US|SC|NM writes --slices images (default 1) without plane\n"
               "geometry; XA, US and NM with --frames N are multi-frame (US and SC may be --rgb).\n"
               "Writes DIR/<series>/<slice>.dcm (with --enhanced: one multi-frame Enhanced CT per\n"
               "series, DIR/<series>/enhanced.dcm) and prints the Study Instance UID. With --studies N:\n"
               "N studies in DIR/studyNNNNNN/ (patients <id>-N, study dates one day apart, CT and MR\n"
               "alternating), one Study Instance UID per line.\n";
}

void check(const OFCondition& c, const char* what) {
  if (c.bad()) {
    std::cerr << "annot-testdata: " << what << ": " << c.text() << '\n';
    std::exit(1);
  }
}

void writeSlice(const Options& o, const std::string& path, const std::string& studyUid, const std::string& seriesUid,
                const std::string& forUid, unsigned seriesNumber, unsigned index, const std::vector<Uint16>& pixels) {
  const bool ct = o.modality == "CT";
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  const std::string sopClass = ct ? UID_CTImageStorage : UID_MRImageStorage;
  const std::string sopUid = newUid();
  auto put = [&](const DcmTagKey& tag, const std::string& value) { check(ds->putAndInsertString(tag, value.c_str()), "put"); };
  put(DCM_SpecificCharacterSet, "ISO_IR 100");
  put(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
  put(DCM_SOPClassUID, sopClass);
  put(DCM_SOPInstanceUID, sopUid);
  put(DCM_StudyDate, o.studyDate);
  put(DCM_SeriesDate, o.studyDate);
  put(DCM_ContentDate, o.studyDate);
  put(DCM_StudyTime, "101500");
  put(DCM_ContentTime, "101500");
  put(DCM_AccessionNumber, o.accession);
  put(DCM_Modality, o.modality);
  put(DCM_Manufacturer, o.manufacturer);
  put(DCM_ManufacturerModelName, ct ? "Synth CT 64" : "Synth MR 3T");
  put(DCM_ReferringPhysicianName, "Referrer^Rita");
  put(DCM_StudyDescription, o.description.empty() ? (ct ? "CT CHEST" : "MR BRAIN") : o.description);
  put(DCM_SeriesDescription, std::string(ct ? "Axial 1.25mm" : "T1 axial") + " #" + std::to_string(seriesNumber));
  put(DCM_PatientName, o.patientName);
  put(DCM_PatientID, o.patientId);
  put(DCM_PatientBirthDate, o.birthDate);
  put(DCM_PatientSex, o.patientSex);
  put(DCM_PatientAge, o.patientAge);
  put(DCM_BodyPartExamined, o.bodyPart.empty() ? (ct ? "CHEST" : "HEAD") : o.bodyPart);
  put(DCM_SliceThickness, std::to_string(o.sliceThickness));
  if (ct) put(DCM_KVP, "120");
  put(DCM_PatientPosition, "HFS");
  put(DCM_StudyInstanceUID, studyUid);
  put(DCM_SeriesInstanceUID, seriesUid);
  put(DCM_StudyID, "1");
  put(DCM_SeriesNumber, std::to_string(seriesNumber));
  put(DCM_AcquisitionNumber, "1");
  put(DCM_InstanceNumber, std::to_string(index + 1));
  char ipp[96];
  const double z = -200.0 + index * o.sliceThickness;
  const double origin = -0.5 * o.pixelSpacing * o.columns;
  std::snprintf(ipp, sizeof ipp, "%.4f\\%.4f\\%.4f", origin, origin, z);
  put(DCM_ImagePositionPatient, ipp);
  put(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  put(DCM_FrameOfReferenceUID, forUid);
  put(DCM_PositionReferenceIndicator, "");
  char loc[32];
  std::snprintf(loc, sizeof loc, "%.4f", z);
  put(DCM_SliceLocation, loc);
  check(ds->putAndInsertUint16(DCM_SamplesPerPixel, 1), "put");
  put(DCM_PhotometricInterpretation, "MONOCHROME2");
  check(ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(o.rows)), "put");
  check(ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(o.columns)), "put");
  char spacing[64];
  std::snprintf(spacing, sizeof spacing, "%.4f\\%.4f", o.pixelSpacing, o.pixelSpacing);
  put(DCM_PixelSpacing, spacing);
  check(ds->putAndInsertUint16(DCM_BitsAllocated, 16), "put");
  check(ds->putAndInsertUint16(DCM_BitsStored, 12), "put");
  check(ds->putAndInsertUint16(DCM_HighBit, 11), "put");
  check(ds->putAndInsertUint16(DCM_PixelRepresentation, 0), "put");
  if (ct) {
    put(DCM_RescaleIntercept, "-1024");
    put(DCM_RescaleSlope, "1");
    put(DCM_RescaleType, "HU");
    put(DCM_WindowCenter, "-600");
    put(DCM_WindowWidth, "1500");
  } else {
    put(DCM_ScanningSequence, "SE");
    put(DCM_SequenceVariant, "NONE");
    put(DCM_ScanOptions, "");
    put(DCM_MRAcquisitionType, "2D");
    put(DCM_EchoTime, "12");
    put(DCM_RepetitionTime, "500");
    put(DCM_EchoTrainLength, "1");
    put(DCM_MagneticFieldStrength, "3");
    put(DCM_WindowCenter, "600");
    put(DCM_WindowWidth, "1200");
  }
  check(ds->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size())), "pixels");
  check(file.saveFile(path.c_str(), EXS_LittleEndianExplicit), ("write " + path).c_str());
}


DcmItem& appendItem(DcmItem& parent, const DcmTagKey& sequence) {
  DcmItem* item = nullptr;
  check(parent.findOrCreateSequenceItem(sequence, item, -2), "sequence item");
  return *item;
}

// One Enhanced CT Image (DERIVED, so the acquisition functional groups are not required) holding
// every slice as a frame, with shared orientation/pixel measures and per-frame positions.
void writeEnhancedCt(const Options& o, const std::string& path, const std::string& studyUid, const std::string& seriesUid,
                     const std::string& forUid, unsigned seriesNumber, const std::vector<std::vector<Uint16>>& frames) {
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  auto put = [&](DcmItem& item, const DcmTagKey& tag, const std::string& value) {
    check(item.putAndInsertString(tag, value.c_str()), "put");
  };
  put(*ds, DCM_SpecificCharacterSet, "ISO_IR 100");
  put(*ds, DCM_SOPClassUID, UID_EnhancedCTImageStorage);
  put(*ds, DCM_SOPInstanceUID, newUid());
  put(*ds, DCM_StudyDate, o.studyDate);
  put(*ds, DCM_StudyTime, "101500");
  put(*ds, DCM_ContentDate, o.studyDate);
  put(*ds, DCM_ContentTime, "101500");
  put(*ds, DCM_AccessionNumber, o.accession);
  put(*ds, DCM_Modality, "CT");
  put(*ds, DCM_Manufacturer, o.manufacturer);
  put(*ds, DCM_ManufacturerModelName, "Synth CT 64");
  put(*ds, DCM_DeviceSerialNumber, "0001");
  put(*ds, DCM_SoftwareVersions, "1.0");
  put(*ds, DCM_ReferringPhysicianName, "Referrer^Rita");
  put(*ds, DCM_StudyDescription, o.description.empty() ? "CT CHEST" : o.description);
  put(*ds, DCM_SeriesDescription, "Enhanced CT #" + std::to_string(seriesNumber));
  put(*ds, DCM_PatientName, o.patientName);
  put(*ds, DCM_PatientID, o.patientId);
  put(*ds, DCM_PatientBirthDate, o.birthDate);
  put(*ds, DCM_PatientSex, o.patientSex);
  put(*ds, DCM_PatientAge, o.patientAge);
  put(*ds, DCM_BodyPartExamined, o.bodyPart.empty() ? "CHEST" : o.bodyPart);
  put(*ds, DCM_PatientPosition, "HFS");
  put(*ds, DCM_StudyInstanceUID, studyUid);
  put(*ds, DCM_SeriesInstanceUID, seriesUid);
  put(*ds, DCM_StudyID, "1");
  put(*ds, DCM_SeriesNumber, std::to_string(seriesNumber));
  put(*ds, DCM_InstanceNumber, "1");
  put(*ds, DCM_FrameOfReferenceUID, forUid);
  put(*ds, DCM_PositionReferenceIndicator, "");
  put(*ds, DCM_ImageType, "DERIVED\\PRIMARY\\VOLUME\\NONE");
  put(*ds, DCM_ContentQualification, "RESEARCH");
  put(*ds, DCM_PixelPresentation, "MONOCHROME");
  put(*ds, DCM_VolumetricProperties, "VOLUME");
  put(*ds, DCM_VolumeBasedCalculationTechnique, "NONE");
  put(*ds, DCM_PresentationLUTShape, "IDENTITY");
  put(*ds, DCM_LossyImageCompression, "00");
  put(*ds, DCM_BurnedInAnnotation, "NO");
  put(*ds, DCM_AcquisitionNumber, "1");
  put(*ds, DCM_NumberOfFrames, std::to_string(frames.size()));
  check(ds->insertEmptyElement(DCM_AcquisitionContextSequence), "acquisition context");

  const std::string dimensionOrganization = newUid();
  put(appendItem(*ds, DCM_DimensionOrganizationSequence), DCM_DimensionOrganizationUID, dimensionOrganization);
  for (const auto& [pointer, label] : {std::pair{DCM_StackID, "Stack ID"}, std::pair{DCM_InStackPositionNumber, "In-Stack Position"}}) {
    DcmItem& index = appendItem(*ds, DCM_DimensionIndexSequence);
    check(index.putAndInsertTagKey(DCM_DimensionIndexPointer, pointer), "dimension");
    check(index.putAndInsertTagKey(DCM_FunctionalGroupPointer, DCM_FrameContentSequence), "dimension");
    put(index, DCM_DimensionOrganizationUID, dimensionOrganization);
    put(index, DCM_DimensionDescriptionLabel, label);
  }

  DcmItem& shared = appendItem(*ds, DCM_SharedFunctionalGroupsSequence);
  char spacing[64];
  std::snprintf(spacing, sizeof spacing, "%.4f\\%.4f", o.pixelSpacing, o.pixelSpacing);
  DcmItem& measures = appendItem(shared, DCM_PixelMeasuresSequence);
  put(measures, DCM_PixelSpacing, spacing);
  put(measures, DCM_SliceThickness, std::to_string(o.sliceThickness));
  put(appendItem(shared, DCM_PlaneOrientationSequence), DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  DcmItem& anatomy = appendItem(shared, DCM_FrameAnatomySequence);
  put(anatomy, DCM_FrameLaterality, "U");
  DcmItem& region = appendItem(anatomy, DCM_AnatomicRegionSequence);
  put(region, DCM_CodeValue, "51185008");
  put(region, DCM_CodingSchemeDesignator, "SCT");
  put(region, DCM_CodeMeaning, "Thorax");
  DcmItem& transform = appendItem(shared, DCM_PixelValueTransformationSequence);
  put(transform, DCM_RescaleIntercept, "-1024");
  put(transform, DCM_RescaleSlope, "1");
  put(transform, DCM_RescaleType, "HU");
  DcmItem& voi = appendItem(shared, DCM_FrameVOILUTSequence);
  put(voi, DCM_WindowCenter, "-600");
  put(voi, DCM_WindowWidth, "1500");
  put(appendItem(shared, DCM_IrradiationEventIdentificationSequence), DCM_IrradiationEventUID, newUid());
  DcmItem& frameType = appendItem(shared, DCM_CTImageFrameTypeSequence);
  put(frameType, DCM_FrameType, "DERIVED\\PRIMARY\\VOLUME\\NONE");
  put(frameType, DCM_PixelPresentation, "MONOCHROME");
  put(frameType, DCM_VolumetricProperties, "VOLUME");
  put(frameType, DCM_VolumeBasedCalculationTechnique, "NONE");

  const double origin = -0.5 * o.pixelSpacing * o.columns;
  for (size_t k = 0; k < frames.size(); ++k) {
    DcmItem& perFrame = appendItem(*ds, DCM_PerFrameFunctionalGroupsSequence);
    DcmItem& content = appendItem(perFrame, DCM_FrameContentSequence);
    put(content, DCM_StackID, "1");
    check(content.putAndInsertUint32(DCM_InStackPositionNumber, static_cast<Uint32>(k + 1)), "frame content");
    const Uint32 index[2] = {1, static_cast<Uint32>(k + 1)};
    check(content.putAndInsertUint32Array(DCM_DimensionIndexValues, index, 2), "frame content");
    char ipp[96];
    std::snprintf(ipp, sizeof ipp, "%.4f\\%.4f\\%.4f", origin, origin, -200.0 + k * o.sliceThickness);
    put(appendItem(perFrame, DCM_PlanePositionSequence), DCM_ImagePositionPatient, ipp);
  }

  check(ds->putAndInsertUint16(DCM_SamplesPerPixel, 1), "put");
  put(*ds, DCM_PhotometricInterpretation, "MONOCHROME2");
  check(ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(o.rows)), "put");
  check(ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(o.columns)), "put");
  check(ds->putAndInsertUint16(DCM_BitsAllocated, 16), "put");
  check(ds->putAndInsertUint16(DCM_BitsStored, 12), "put");
  check(ds->putAndInsertUint16(DCM_HighBit, 11), "put");
  check(ds->putAndInsertUint16(DCM_PixelRepresentation, 0), "put");
  std::vector<Uint16> all;
  for (const auto& f : frames) all.insert(all.end(), f.begin(), f.end());
  check(ds->putAndInsertUint16Array(DCM_PixelData, all.data(), static_cast<unsigned long>(all.size())), "pixels");
  check(file.saveFile(path.c_str(), EXS_LittleEndianExplicit), ("write " + path).c_str());
}

}  // namespace

bool isProjection(const std::string& modality) {
  for (const char* m : {"DX", "CR", "MG", "XA", "US", "SC", "NM"}) {
    if (modality == m) return true;
  }
  return false;
}

// A UID as some old archives hold them: a "999." root and leading zeros in a component. Orthanc
// stores such instances; the product must be able to reference them.
std::string legacyUid(unsigned serial) {
  static const std::string stamp = std::to_string(std::time(nullptr) % 100000000);
  return "999.999.2.19941105." + stamp + ".0" + std::to_string(serial);
}

// The SOP class of a projection kind, multi-frame when the kind has a multi-frame class and
// more than one frame was asked for (NM and XA are multi-frame classes whatever the count).
std::string projectionSopClass(const Options& o) {
  if (o.modality == "DX") return UID_DigitalXRayImageStorageForPresentation;
  if (o.modality == "CR") return UID_ComputedRadiographyImageStorage;
  if (o.modality == "MG") return UID_DigitalMammographyXRayImageStorageForPresentation;
  if (o.modality == "XA") return UID_XRayAngiographicImageStorage;
  if (o.modality == "NM") return UID_NuclearMedicineImageStorage;
  if (o.modality == "US") return o.frames > 1 ? UID_UltrasoundMultiframeImageStorage : UID_UltrasoundImageStorage;
  return UID_SecondaryCaptureImageStorage;
}

// One projection image: a bright field with a darker "lesion" disc that moves from frame to
// frame, so every frame differs and a mask has something to outline.
void writeProjection(const Options& o, const std::string& path, const std::string& studyUid, const std::string& seriesUid,
                     const std::string& sopUid, unsigned index) {
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  auto put = [&](const DcmTagKey& tag, const std::string& value) { check(ds->putAndInsertString(tag, value.c_str()), "put"); };
  auto put16 = [&](const DcmTagKey& tag, unsigned v) { check(ds->putAndInsertUint16(tag, static_cast<Uint16>(v)), "put"); };
  const std::string& m = o.modality;
  const bool rgb = o.rgb && (m == "US" || m == "SC");
  const bool eightBit = rgb || m == "XA" || m == "US" || m == "SC";
  const bool multiFrameClass = m == "XA" || m == "NM" || (m == "US" && o.frames > 1);
  const unsigned frames = multiFrameClass ? o.frames : 1;
  put(DCM_SpecificCharacterSet, "ISO_IR 100");
  put(DCM_SOPClassUID, projectionSopClass(o));
  put(DCM_SOPInstanceUID, sopUid);
  put(DCM_StudyDate, o.studyDate);
  put(DCM_SeriesDate, o.studyDate);
  put(DCM_ContentDate, o.studyDate);
  put(DCM_StudyTime, "101500");
  put(DCM_ContentTime, "101500");
  put(DCM_AccessionNumber, o.accession);
  put(DCM_Modality, m == "SC" ? "OT" : m);
  put(DCM_Manufacturer, o.manufacturer);
  put(DCM_ReferringPhysicianName, "Referrer^Rita");
  put(DCM_StudyDescription, o.description.empty() ? m + " study" : o.description);
  put(DCM_SeriesDescription, m + (frames > 1 ? " cine" : " image"));
  put(DCM_PatientName, o.patientName);
  put(DCM_PatientID, o.patientId);
  put(DCM_PatientBirthDate, o.birthDate);
  put(DCM_PatientSex, o.patientSex);
  put(DCM_PatientAge, o.patientAge);
  put(DCM_BodyPartExamined, o.bodyPart.empty() ? (m == "MG" ? "BREAST" : m == "XA" ? "HEART" : "CHEST") : o.bodyPart);
  put(DCM_StudyInstanceUID, studyUid);
  put(DCM_SeriesInstanceUID, seriesUid);
  put(DCM_StudyID, "1");
  put(DCM_SeriesNumber, "1");
  put(DCM_InstanceNumber, std::to_string(index + 1));
  put(DCM_PatientOrientation, m == "MG" ? "A\\R" : "L\\F");
  put(DCM_ImageType, std::string(m == "SC" ? "DERIVED" : "ORIGINAL") + "\\PRIMARY" + (m == "XA" ? "\\SINGLE PLANE" : ""));
  put(DCM_BurnedInAnnotation, "NO");
  put(DCM_LossyImageCompression, "00");
  char spacing[64];
  std::snprintf(spacing, sizeof spacing, "%.4f\\%.4f", o.pixelSpacing, o.pixelSpacing);
  if (m == "DX" || m == "CR" || m == "MG") {
    put(DCM_ImagerPixelSpacing, spacing);
    put(DCM_ViewPosition, m == "MG" ? "CC" : "PA");
    put(DCM_PresentationIntentType, "FOR PRESENTATION");
    put(DCM_PixelIntensityRelationship, "LOG");
    check(ds->putAndInsertSint16(DCM_PixelIntensityRelationshipSign, 1), "put");
    put(DCM_RescaleIntercept, "0");
    put(DCM_RescaleSlope, "1");
    put(DCM_RescaleType, "US");
    put(DCM_PresentationLUTShape, "IDENTITY");
    put(DCM_WindowCenter, "2048");
    put(DCM_WindowWidth, "4096");
    put(DCM_ImageLaterality, m == "MG" ? "R" : "U");
    put(DCM_DetectorType, "DIRECT");
    put(DCM_PositionerType, m == "MG" ? "MAMMOGRAPHIC" : "NONE");
    DcmItem* region = nullptr;
    check(ds->findOrCreateSequenceItem(DCM_AnatomicRegionSequence, region, -2), "anatomic region");
    const bool breast = m == "MG";
    check(region->putAndInsertString(DCM_CodeValue, breast ? "76752008" : "51185008"), "put");
    check(region->putAndInsertString(DCM_CodingSchemeDesignator, "SCT"), "put");
    check(region->putAndInsertString(DCM_CodeMeaning, breast ? "Breast" : "Thorax"), "put");
  }
  if (m == "SC") put(DCM_ConversionType, "WSD");
  if (m == "XA") {
    put(DCM_KVP, "80");
    put(DCM_PositionerPrimaryAngle, "30");
    put(DCM_PositionerSecondaryAngle, "0");
    put(DCM_ImagerPixelSpacing, spacing);
    put(DCM_PixelIntensityRelationship, "LIN");
    put(DCM_RadiationSetting, "GR");
    put(DCM_XRayTubeCurrent, "400");
    put(DCM_ExposureTime, "10");
  }
  if (m == "NM") put(DCM_PixelSpacing, spacing);
  if (frames > 1 || multiFrameClass) {
    put(DCM_NumberOfFrames, std::to_string(frames));
    if (m == "NM") {
      check(ds->putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_EnergyWindowVector), "put");
      put16(DCM_NumberOfEnergyWindows, 1);
      check(ds->putAndInsertUint16(DCM_EnergyWindowVector, 1), "put");
      put16(DCM_NumberOfDetectors, 1);
      check(ds->putAndInsertUint16(DCM_DetectorVector, 1), "put");
    } else {
      check(ds->putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_FrameTime), "put");
      put(DCM_FrameTime, "33.3");
    }
  }
  put16(DCM_SamplesPerPixel, rgb ? 3 : 1);
  put(DCM_PhotometricInterpretation, rgb ? "RGB" : "MONOCHROME2");
  if (rgb) put16(DCM_PlanarConfiguration, 0);
  put16(DCM_Rows, o.rows);
  put16(DCM_Columns, o.columns);
  put16(DCM_BitsAllocated, eightBit ? 8 : 16);
  // NM takes only 8 or 16 stored bits.
  put16(DCM_BitsStored, eightBit ? 8 : m == "NM" ? 16 : 12);
  put16(DCM_HighBit, eightBit ? 7 : m == "NM" ? 15 : 11);
  put16(DCM_PixelRepresentation, 0);
  const size_t pixels = static_cast<size_t>(o.rows) * o.columns;
  const unsigned samples = rgb ? 3 : 1;
  std::vector<Uint8> bytes(eightBit ? pixels * samples * frames : 0);
  std::vector<Uint16> words(eightBit ? 0 : pixels * frames);
  for (unsigned f = 0; f < frames; ++f) {
    const double lx = o.columns * (0.35 + 0.05 * (f + index)), ly = o.rows * 0.45, l2 = std::pow(0.08 * std::min(o.rows, o.columns), 2);
    for (unsigned y = 0; y < o.rows; ++y) {
      for (unsigned x = 0; x < o.columns; ++x) {
        const bool lesion = (x - lx) * (x - lx) + (y - ly) * (y - ly) < l2;
        const size_t i = f * pixels + static_cast<size_t>(y) * o.columns + x;
        const unsigned texture = (x * 7 + y * 13 + f) & 15;
        if (!eightBit) {
          words[i] = static_cast<Uint16>((lesion ? 900 : 2400) + texture * 8);
        } else if (rgb) {
          bytes[i * 3] = static_cast<Uint8>(lesion ? 220 : 40 + texture);
          bytes[i * 3 + 1] = static_cast<Uint8>(lesion ? 60 : 90 + texture);
          bytes[i * 3 + 2] = static_cast<Uint8>(lesion ? 40 : 160 + texture);
        } else {
          bytes[i] = static_cast<Uint8>((lesion ? 50 : 180) + texture);
        }
      }
    }
  }
  if (eightBit) {
    check(ds->putAndInsertUint8Array(DCM_PixelData, bytes.data(), static_cast<unsigned long>(bytes.size())), "pixels");
  } else {
    check(ds->putAndInsertUint16Array(DCM_PixelData, words.data(), static_cast<unsigned long>(words.size())), "pixels");
  }
  check(file.saveFile(path.c_str(), EXS_LittleEndianExplicit), ("write " + path).c_str());
}


bool writeStudy(const Options& o, const std::string& studyUid) {
  if (isProjection(o.modality)) {
    const std::string seriesDir = o.outDir + "/series1";
    if (std::system(("mkdir -p '" + seriesDir + "'").c_str()) != 0) return false;
    const std::string seriesUid = o.legacyUids ? legacyUid(1) : newUid();
    for (unsigned k = 0; k < o.slices; ++k) {
      char name[32];
      std::snprintf(name, sizeof name, "/%05u.dcm", k + 1);
      writeProjection(o, seriesDir + name, studyUid, seriesUid, o.legacyUids ? legacyUid(100 + k) : newUid(), k);
    }
    return true;
  }
  const std::string forUid = newUid();
  // A water cylinder (0 HU) with a denser disc that moves through the slices: enough structure
  // for segmentation and measurement tests.
  std::vector<Uint16> pixels(static_cast<size_t>(o.rows) * o.columns);
  for (unsigned s = 1; s <= o.seriesCount; ++s) {
    const std::string seriesDir = o.outDir + "/series" + std::to_string(s);
    if (std::system(("mkdir -p '" + seriesDir + "'").c_str()) != 0) return false;
    const std::string seriesUid = newUid();
    std::vector<std::vector<Uint16>> frames;
    for (unsigned k = 0; k < o.slices; ++k) {
      const double cx = o.columns / 2.0, cy = o.rows / 2.0;
      const double r2 = std::pow(0.42 * std::min(o.rows, o.columns), 2);
      const double lx = cx + 0.15 * o.columns * std::cos(k * 0.1), ly = cy + 0.1 * o.rows;
      const double l2 = std::pow(0.05 * std::min(o.rows, o.columns), 2);
      for (unsigned y = 0; y < o.rows; ++y) {
        for (unsigned x = 0; x < o.columns; ++x) {
          const double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
          const double e2 = (x - lx) * (x - lx) + (y - ly) * (y - ly);
          Uint16 v = d2 < r2 ? 1024 : 24;
          if (e2 < l2) v = 1124;
          pixels[static_cast<size_t>(y) * o.columns + x] = static_cast<Uint16>(v + ((x * 7 + y * 13 + k) & 15));
        }
      }
      if (o.enhanced) {
        frames.push_back(pixels);
        continue;
      }
      char name[32];
      std::snprintf(name, sizeof name, "/%05u.dcm", k + 1);
      writeSlice(o, seriesDir + name, studyUid, seriesUid, forUid, s, k, pixels);
    }
    if (o.enhanced) writeEnhancedCt(o, seriesDir + "/enhanced.dcm", studyUid, seriesUid, forUid, s, frames);
  }
  return true;
}

int main(int argc, char** argv) {
  Options o;
  bool explicitSlices = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) { usage(); std::exit(2); }
      return argv[++i];
    };
    if (a == "--out") o.outDir = next();
    else if (a == "--modality") o.modality = next();
    else if (a == "--slices") {
      o.slices = static_cast<unsigned>(std::stoul(next()));
      explicitSlices = true;
    }
    else if (a == "--rows") o.rows = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--columns") o.columns = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--series") o.seriesCount = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--patient-id") o.patientId = next();
    else if (a == "--patient-name") o.patientName = next();
    else if (a == "--sex") o.patientSex = next();
    else if (a == "--birth-date") o.birthDate = next();
    else if (a == "--age") o.patientAge = next();
    else if (a == "--study-date") o.studyDate = next();
    else if (a == "--study-uid") o.studyUid = next();
    else if (a == "--accession") o.accession = next();
    else if (a == "--body-part") o.bodyPart = next();
    else if (a == "--description") o.description = next();
    else if (a == "--manufacturer") o.manufacturer = next();
    else if (a == "--enhanced") o.enhanced = true;
    else if (a == "--studies") o.studies = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--frames") o.frames = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--rgb") o.rgb = true;
    else if (a == "--legacy-uids") o.legacyUids = true;
    else { usage(); return 2; }
  }
  if (isProjection(o.modality) && !explicitSlices) o.slices = 1;
  if (o.outDir.empty() || (o.modality != "CT" && o.modality != "MR" && !isProjection(o.modality)) || o.frames == 0 || (o.enhanced && o.modality != "CT") || o.slices == 0 || o.rows == 0 || o.columns == 0 ||
      o.rows > 4096 || o.columns > 4096) {
    usage();
    return 2;
  }
  if (o.studies <= 1) {
    const std::string studyUid = !o.studyUid.empty() ? o.studyUid : o.legacyUids ? legacyUid(0) : newUid();
    if (!writeStudy(o, studyUid)) return 1;
    std::cout << studyUid << '\n';
    return 0;
  }
  const std::string base = o.outDir, patient = o.patientId;
  for (unsigned n = 1; n <= o.studies; ++n) {
    Options one = o;
    char dir[32];
    std::snprintf(dir, sizeof dir, "/study%06u", n);
    one.outDir = base + dir;
    one.patientId = patient + "-" + std::to_string(n);
    one.modality = n % 2 ? "CT" : "MR";
    // Dates spread over about 27 years, one day apart: enough for range queries.
    std::tm day{};
    day.tm_year = 100;
    day.tm_mday = 1 + static_cast<int>(n % 10000);
    std::mktime(&day);
    char date[16];
    std::strftime(date, sizeof date, "%Y%m%d", &day);
    one.studyDate = date;
    const std::string studyUid = newUid();
    if (!writeStudy(one, studyUid)) return 1;
    std::cout << studyUid << '\n';
  }
  return 0;
}
