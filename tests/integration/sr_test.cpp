// TID 1500 Measurement Reports end to end: annotation JSON → SR (library and make-sr) →
// dciodvfy + PixelMed DicomSRValidator → read back by our reader, by dcmjs and by
// @cornerstonejs/adapters (OHIF's re-hydration path); and SRs written by dcmjs read by ours.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

#include "NodeHarness.h"
#include "Validators.h"
#include "annotation/AnnotationValidator.h"
#include "protocol/Protocol.h"
#include "sr/MeasurementReportReader.h"
#include "sr/MeasurementReportWriter.h"

using namespace annot;
using namespace annot::test;
using nlohmann::json;

namespace {

// One study: a 3-slice CT series (64x64) and a 3-frame Enhanced CT (48x48).
struct Study {
  TempDir dir;
  std::string studyUid;
  std::vector<std::string> ct;  // SOP Instance UIDs of the single-frame slices
  std::string enhanced;         // SOP Instance UID of the multi-frame image
  SourceImageSet images;

  Study() {
    studyUid = generateStudy(dir / "ct", {"--slices", "3", "--rows", "64", "--columns", "64"});
    generateStudy(dir / "enhanced", {"--slices", "3", "--rows", "48", "--columns", "48", "--enhanced", "--study-uid", studyUid});
    images = SourceImageSet::load({dir / "ct", dir / "enhanced"});
    for (const auto& img : images.all()) {
      if (img.multiFrame) enhanced = img.sopInstanceUid;
      else ct.push_back(img.sopInstanceUid);
    }
  }
};

Study& study() {
  static Study s;
  return s;
}

json code(const char* value, const char* scheme, const char* meaning) {
  return {{"code", value}, {"scheme", scheme}, {"meaning", meaning}};
}

json region(const std::string& type, const std::string& uid, json points, unsigned frame = 0) {
  json image = {{"sopInstanceUid", uid}};
  if (frame) image["frame"] = frame;
  return {{"type", type}, {"image", image}, {"points", points}};
}

// Every geometry on single- and multi-frame images, coded and text evaluations, explicit and
// derived measurements, comments, study- and image-level classifications.
json everythingDocument() {
  const Study& s = study();
  const json nodule = code("27925004", "SCT", "Nodule");
  const json lung = code("39607008", "SCT", "Lung structure");
  json findings = json::array({
      {{"finding", nodule}, {"findingSite", lung}, {"trackingId", "point"}, {"geometry", region("point", s.ct[0], {{16.5, 48.5}})}},
      {{"finding", nodule}, {"trackingId", "line"}, {"geometry", region("polyline", s.ct[0], {{10.5, 20.5}, {40.5, 30.5}})},
       {"comment", "long axis"}},
      {{"finding", nodule}, {"trackingId", "path"}, {"geometry", region("polyline", s.ct[1], {{1, 1}, {10, 5}, {20, 3}})}},
      {{"finding", nodule}, {"trackingId", "outline"}, {"geometry", region("polygon", s.ct[1], {{20, 20}, {30, 16}, {40, 22}, {30, 42}})}},
      {{"finding", code("4147007", "SCT", "Mass")}, {"trackingId", "box"}, {"geometry", region("bbox", s.ct[2], {{12, 14}, {36, 40}})},
       {"evaluations", {{{"concept", code("NODCOMP", "99ANNOT", "Nodule composition")}, {"value", code("SOLID", "99ANNOT", "Solid")}},
                        {{"concept", code("MARGIN", "99ANNOT", "Margin description")}, {"text", "spiculated"}}}},
       {"measurements", {{{"concept", code("103339001", "SCT", "Long Axis")}, {"value", 21.25}, {"unit", code("mm", "UCUM", "millimeter")}}}}},
      {{"finding", nodule}, {"trackingId", "ellipse"}, {"geometry", region("ellipse", s.ct[2], {{32, 10}, {32, 54}, {20, 32}, {44, 32}})}},
      {{"finding", nodule}, {"trackingId", "circle"}, {"geometry", region("circle", s.ct[0], {{32, 32}, {32, 20}})}},
      {{"finding", nodule}, {"trackingId", "frame-ellipse"}, {"geometry", region("ellipse", s.enhanced, {{10, 24}, {30, 24}, {20, 18}, {20, 30}}, 2)}},
      {{"finding", nodule}, {"trackingId", "frame-box"}, {"geometry", region("bbox", s.enhanced, {{5, 5}, {15, 25}}, 3)}},
  });
  json classifications = json::array({
      {{"concept", code("87433001", "SCT", "Pulmonary emphysema")}, {"value", code("2667000", "SCT", "Absent")}},
      {{"concept", code("OVERALL", "99ANNOT", "Overall assessment")}, {"value", code("17621005", "SCT", "Normal")},
       {"image", {{"sopInstanceUid", s.enhanced}, {"frame", 1}}}},
  });
  return {{"observer", {{"name", "Reader^Rita"}, {"organization", "Radiology"}}}, {"findings", findings}, {"classifications", classifications}};
}

void expectValid(const std::string& path) {
  EXPECT_TRUE(passesDciodvfy(path, "EnhancedSR"));
  const ValidatorResult sr = pixelmedSrValidator(path);
  EXPECT_TRUE(sr.completed) << sr.output;
  EXPECT_EQ(sr.errors, 0) << sr.output;
  EXPECT_NE(sr.output.find("Found Root Template TID_1500"), std::string::npos) << sr.output;
}

const Measurement* findMeasurement(const Finding& f, const Code& concept) {
  for (const auto& m : f.measurements) {
    if (m.concept.sameConcept(concept)) return &m;
  }
  return nullptr;
}

void expectSameDocument(const AnnotationDocument& written, const AnnotationDocument& read, bool compareTracking = true) {
  EXPECT_EQ(read.observer.name, written.observer.name);
  EXPECT_EQ(read.observer.organization, written.observer.organization);
  EXPECT_EQ(read.observer.kind, written.observer.kind);
  EXPECT_EQ(read.studyInstanceUid, written.studyInstanceUid);
  ASSERT_EQ(read.findings.size(), written.findings.size());
  for (size_t i = 0; i < written.findings.size(); ++i) {
    const Finding& w = written.findings[i];
    const Finding& r = read.findings[i];
    SCOPED_TRACE("finding " + w.trackingId);
    if (compareTracking) {
      EXPECT_EQ(r.trackingId, w.trackingId);
      EXPECT_EQ(r.trackingUid, w.trackingUid);
    }
    EXPECT_TRUE(r.finding.sameConcept(w.finding)) << r.finding.str();
    EXPECT_EQ(r.findingSite.has_value(), w.findingSite.has_value());
    if (r.findingSite && w.findingSite) { EXPECT_TRUE(r.findingSite->sameConcept(*w.findingSite)); }
    ASSERT_TRUE(r.geometry);
    EXPECT_EQ(r.geometry->type, w.geometry->type);
    EXPECT_EQ(r.geometry->image.sopInstanceUid, w.geometry->image.sopInstanceUid);
    EXPECT_EQ(r.geometry->image.frame, w.geometry->image.frame);
    ASSERT_EQ(r.geometry->points.size(), w.geometry->points.size());
    for (size_t p = 0; p < w.geometry->points.size(); ++p) {
      EXPECT_NEAR(r.geometry->points[p][0], w.geometry->points[p][0], 1e-4);
      EXPECT_NEAR(r.geometry->points[p][1], w.geometry->points[p][1], 1e-4);
    }
    EXPECT_EQ(r.measurements.size(), w.measurements.size());
    for (const auto& m : w.measurements) {
      const Measurement* got = findMeasurement(r, m.concept);
      ASSERT_NE(got, nullptr) << m.concept.str();
      EXPECT_NEAR(got->value, m.value, std::abs(m.value) * 1e-12 + 1e-12) << m.concept.str();
      EXPECT_TRUE(got->unit.sameConcept(m.unit)) << got->unit.str();
    }
    ASSERT_EQ(r.evaluations.size(), w.evaluations.size());
    for (size_t e = 0; e < w.evaluations.size(); ++e) {
      EXPECT_TRUE(r.evaluations[e].concept.sameConcept(w.evaluations[e].concept));
      EXPECT_EQ(r.evaluations[e].code.has_value(), w.evaluations[e].code.has_value());
      if (w.evaluations[e].code) { EXPECT_TRUE(r.evaluations[e].code->sameConcept(*w.evaluations[e].code)); }
      EXPECT_EQ(r.evaluations[e].text, w.evaluations[e].text);
    }
    EXPECT_EQ(r.comment, w.comment);
  }
  ASSERT_EQ(read.classifications.size(), written.classifications.size());
  for (size_t i = 0; i < written.classifications.size(); ++i) {
    EXPECT_TRUE(read.classifications[i].concept.sameConcept(written.classifications[i].concept));
    EXPECT_TRUE(read.classifications[i].value.sameConcept(written.classifications[i].value));
    EXPECT_EQ(read.classifications[i].image.has_value(), written.classifications[i].image.has_value());
    if (written.classifications[i].image) {
      EXPECT_EQ(read.classifications[i].image->sopInstanceUid, written.classifications[i].image->sopInstanceUid);
      EXPECT_EQ(read.classifications[i].image->frame, written.classifications[i].image->frame);
    }
  }
}

std::string attribute(const std::string& path, const DcmTagKey& tag) {
  DcmFileFormat file;
  EXPECT_TRUE(file.loadFile(path.c_str()).good()) << path;
  OFString value;
  file.getDataset()->findAndGetOFStringArray(tag, value);
  return value.c_str();
}

CommandResult node(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"node"};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv);
}

std::string compatScript(const std::string& name) { return std::string(ANNOT_COMPAT_DIR) + "/" + name; }
}  // namespace

TEST(MeasurementReport, EveryGeometryAndValueTypeRoundTripsThroughAValidSr) {
  TempDir tmp;
  const AnnotationDocument resolved = resolveAnnotation(parseAnnotationDocument(everythingDocument()), study().images, nullptr);
  const SrWriteResult written = writeMeasurementReportFile(resolved, study().images, nullptr, SrWriteOptions{}, tmp / "sr.dcm");
  EXPECT_EQ(written.studyInstanceUid, study().studyUid);
  expectValid(tmp / "sr.dcm");

  const MeasurementReportContent read = readMeasurementReportFile(tmp / "sr.dcm");
  EXPECT_TRUE(read.unmapped.empty()) << read.unmapped.front();
  expectSameDocument(resolved, read.document);
  EXPECT_EQ(read.info.sopClassUid, "1.2.840.10008.5.1.4.1.1.88.22") << "Enhanced SR";
  EXPECT_EQ(read.info.completionFlag, "COMPLETE");
  EXPECT_EQ(read.info.verificationFlag, "UNVERIFIED");
  // Evidence lists every referenced image, once.
  EXPECT_EQ(read.info.evidenceSopInstanceUids.size(), 4u);
}

TEST(MeasurementReport, CopiesPatientAndStudyFromTheImagesAndJoinsTheirStudy) {
  TempDir tmp;
  const AnnotationDocument resolved = resolveAnnotation(parseAnnotationDocument(everythingDocument()), study().images, nullptr);
  writeMeasurementReportFile(resolved, study().images, nullptr, SrWriteOptions{}, tmp / "sr.dcm");
  const std::string source = study().images.find(study().ct[0])->path;
  for (const DcmTagKey& tag : {DCM_PatientName, DCM_PatientID, DCM_PatientBirthDate, DCM_PatientSex, DCM_PatientAge,
                               DCM_StudyInstanceUID, DCM_StudyDate, DCM_StudyTime, DCM_AccessionNumber, DCM_StudyID,
                               DCM_ReferringPhysicianName, DCM_StudyDescription}) {
    EXPECT_EQ(attribute(tmp / "sr.dcm", tag), attribute(source, tag)) << DcmTag(tag).getTagName();
    EXPECT_FALSE(attribute(source, tag).empty()) << DcmTag(tag).getTagName();
  }
  EXPECT_EQ(attribute(tmp / "sr.dcm", DCM_Modality), "SR");
  EXPECT_NE(attribute(tmp / "sr.dcm", DCM_SeriesInstanceUID), attribute(source, DCM_SeriesInstanceUID)) << "own series";
}

TEST(MeasurementReport, DeviceObserverVerificationAndRevisionsValidate) {
  TempDir tmp;
  json doc = everythingDocument();
  doc["observer"] = {{"type", "device"}, {"name", "NoduleNet"}, {"uid", "2.25.123456789"}, {"manufacturer", "ACME AI"},
                     {"modelName", "NoduleNet 2"}, {"serialNumber", "42"}};
  const AnnotationDocument resolved = resolveAnnotation(parseAnnotationDocument(doc), study().images, nullptr);
  SrWriteOptions first;
  first.complete = false;
  const SrWriteResult draft = writeMeasurementReportFile(resolved, study().images, nullptr, first, tmp / "draft.dcm");

  SrWriteOptions revision;
  revision.verifiedBy = "Reviewer^Rob";
  revision.predecessor = sopReferenceOfFile(tmp / "draft.dcm");
  revision.seriesInstanceUid = draft.seriesInstanceUid;
  revision.instanceNumber = "2";
  const SrWriteResult signedOff = writeMeasurementReportFile(resolved, study().images, nullptr, revision, tmp / "final.dcm");
  EXPECT_EQ(signedOff.seriesInstanceUid, draft.seriesInstanceUid) << "a revision stays in its series";
  EXPECT_NE(signedOff.sopInstanceUid, draft.sopInstanceUid) << "a revision is a new instance";
  expectValid(tmp / "draft.dcm");
  expectValid(tmp / "final.dcm");

  const MeasurementReportContent draftRead = readMeasurementReportFile(tmp / "draft.dcm");
  EXPECT_EQ(draftRead.info.completionFlag, "PARTIAL");
  EXPECT_EQ(draftRead.document.observer.kind, Observer::Kind::Device);
  EXPECT_EQ(draftRead.document.observer.uid, "2.25.123456789");
  EXPECT_EQ(draftRead.document.observer.name, "NoduleNet");
  EXPECT_EQ(draftRead.document.observer.modelName, "NoduleNet 2");
  const MeasurementReportContent finalRead = readMeasurementReportFile(tmp / "final.dcm");
  EXPECT_EQ(finalRead.info.completionFlag, "COMPLETE");
  EXPECT_EQ(finalRead.info.verificationFlag, "VERIFIED");
  EXPECT_EQ(finalRead.info.verifyingObserver, "Reviewer^Rob");
  EXPECT_EQ(finalRead.info.predecessorSopInstanceUids, std::vector<std::string>{draft.sopInstanceUid});
  expectSameDocument(resolved, finalRead.document);
}

namespace {
void collectNums(DcmItem& item, std::vector<DcmItem*>& out) {
  DcmSequenceOfItems* content = nullptr;
  if (item.findAndGetSequence(DCM_ContentSequence, content).bad() || !content) return;
  for (unsigned long i = 0; i < content->card(); ++i) {
    DcmItem* child = content->getItem(i);
    OFString type;
    child->findAndGetOFString(DCM_ValueType, type);
    if (type == "NUM") out.push_back(child);
    collectNums(*child, out);
  }
}

// Some writers hang the same region under every measurement of a group: nothing is lost then,
// and nothing is reported. A different second region is reported.
void expectRepeatedRegionsAreNotReportedAsLost(const std::string& ohifLayout, const TempDir& tmp) {
  for (const bool moved : {false, true}) {
    SCOPED_TRACE(moved ? "a different region" : "the same region");
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(ohifLayout.c_str()).good());
    std::vector<DcmItem*> nums;
    collectNums(*file.getDataset(), nums);
    // The ellipse's group: its first NUM (Long Axis) carries the ELLIPSE, the next is its Short Axis.
    DcmItem* region = nullptr;
    size_t at = 0;
    for (size_t i = 0; i + 1 < nums.size() && !region; ++i) {
      DcmItem* child = nullptr;
      OFString graphic;
      if (nums[i]->findAndGetSequenceItem(DCM_ContentSequence, child, 0).good() && child->findAndGetOFString(DCM_GraphicType, graphic).good() &&
          graphic == "ELLIPSE") {
        region = child;
        at = i + 1;
      }
    }
    ASSERT_NE(region, nullptr);
    auto* copy = new DcmItem(*region);
    if (moved) {
      const Float32 shifted[] = {1, 1, 5, 5, 2, 3, 4, 3};
      ASSERT_TRUE(copy->putAndInsertFloat32Array(DCM_GraphicData, shifted, 8).good());
    }
    auto* content = new DcmSequenceOfItems(DCM_ContentSequence);
    content->insert(copy);
    ASSERT_TRUE(nums[at]->insert(content, OFTrue).good());
    const std::string edited = tmp / "repeated.dcm";
    ASSERT_TRUE(file.saveFile(edited.c_str(), EXS_LittleEndianExplicit).good());
    std::string unmapped;
    for (const auto& u : readMeasurementReportFile(edited).unmapped) unmapped += u + "\n";
    EXPECT_EQ(unmapped.find("is a second region and is not kept") != std::string::npos, moved) << unmapped;
  }
}
}  // namespace

TEST(MeasurementReport, OhifEditableLayoutValidatesAndCornerstoneReadsEveryTool) {
  TempDir tmp;
  const Study& s = study();
  const json nodule = code("27925004", "SCT", "Nodule");
  json doc = {{"observer", {{"name", "Reader^Rita"}}},
              {"findings", json::array({
                   {{"finding", nodule}, {"comment", "long axis"}, {"geometry", region("polyline", s.ct[0], {{10.5, 20.5}, {40.5, 30.5}})}},
                   {{"finding", nodule}, {"comment", "box"}, {"geometry", region("bbox", s.ct[0], {{12, 14}, {36, 40}})}},
                   {{"finding", nodule}, {"comment", "ellipse"}, {"geometry", region("ellipse", s.ct[0], {{32, 10}, {32, 54}, {20, 32}, {44, 32}})}},
                   {{"finding", nodule}, {"comment", "circle"}, {"geometry", region("circle", s.ct[0], {{32, 32}, {32, 20}})}},
                   {{"finding", nodule}, {"comment", "probe"}, {"geometry", region("point", s.ct[0], {{16.5, 48.5}})}},
                   {{"finding", nodule}, {"comment", "outline"}, {"geometry", region("polygon", s.ct[0], {{20, 20}, {30, 16}, {40, 22}, {30, 42}})}},
               })}};
  const AnnotationDocument resolved = resolveAnnotation(parseAnnotationDocument(doc), s.images, nullptr);
  SrWriteOptions options;
  options.ohifEditable = true;
  writeMeasurementReportFile(resolved, s.images, nullptr, options, tmp / "ohif.dcm");
  expectValid(tmp / "ohif.dcm");

  // Our reader reads the Cornerstone layout back (tracking identifiers are Cornerstone's).
  const MeasurementReportContent ours = readMeasurementReportFile(tmp / "ohif.dcm");
  expectSameDocument(resolved, ours.document, /*compareTracking=*/false);
  expectRepeatedRegionsAreNotReportedAsLost(tmp / "ohif.dcm", tmp);

  // OHIF's re-hydration: dcmjs + MeasurementReport.generateToolState.
  const CommandResult r = node({compatScript("read-sr.mjs"), tmp / "ohif.dcm", s.images.find(s.ct[0])->path});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const json state = json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(state["measurementGroupCount"], 6);
  EXPECT_EQ(state["measurementCount"], 6);
  EXPECT_TRUE(state["droppedGroups"].empty()) << state["droppedGroups"].dump();
  const std::map<std::string, json> expected = {
      {"Length", {{10.5, 20.5}, {40.5, 30.5}}},
      {"RectangleROI", {{12, 14}, {36, 14}, {12, 40}, {36, 40}}},
      {"EllipticalROI", {{32, 10}, {32, 54}, {20, 32}, {44, 32}}},
      {"CircleROI", {{32, 32}, {32, 20}}},
      {"Probe", {{16.5, 48.5}}},
      {"PlanarFreehandROI", {{20, 20}, {30, 16}, {40, 22}, {30, 42}}},
  };
  std::set<std::string> seen;
  for (const auto& m : state["measurements"]) {
    const std::string tool = m["toolType"];
    seen.insert(tool);
    ASSERT_TRUE(expected.count(tool)) << tool;
    EXPECT_EQ(m["referencedSOPInstanceUID"], s.ct[0]);
    const json& points = m["imagePoints"];
    ASSERT_EQ(points.size(), expected.at(tool).size()) << tool;
    for (size_t i = 0; i < points.size(); ++i) {
      EXPECT_NEAR(points[i][0].get<double>(), expected.at(tool)[i][0].get<double>(), 1e-3) << tool;
      EXPECT_NEAR(points[i][1].get<double>(), expected.at(tool)[i][1].get<double>(), 1e-3) << tool;
    }
    if (tool == "Length") { EXPECT_NEAR(m["cachedStats"]["length"].get<double>(), std::hypot(30 * 0.7, 10 * 0.7), 1e-6); }
    if (tool == "RectangleROI") { EXPECT_NEAR(m["cachedStats"]["area"].get<double>(), 24 * 0.7 * 26 * 0.7, 1e-6); }
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST(MeasurementReport, DcmjsParsesTheStandardLayout) {
  TempDir tmp;
  const AnnotationDocument resolved = resolveAnnotation(parseAnnotationDocument(everythingDocument()), study().images, nullptr);
  writeMeasurementReportFile(resolved, study().images, nullptr, SrWriteOptions{}, tmp / "sr.dcm");
  const CommandResult r = node({compatScript("read-sr.mjs"), tmp / "sr.dcm", "--tree", "--no-placeholders"});
  // Standard TID 1410 groups are not Cornerstone tools: OHIF shows them read-only, so the
  // tool state may drop them (exit 3); the tree dcmjs parsed is what matters here.
  ASSERT_TRUE(r.exitCode == 0 || r.exitCode == 3) << r.output;
  EXPECT_NE(r.output.find("CONTAINER (126010,DCM,\"Imaging Measurements\")"), std::string::npos) << r.output;
  EXPECT_EQ(countOccurrences(r.output, "CONTAINER (125007,DCM,\"Measurement Group\")"), 9u);
  EXPECT_NE(r.output.find("SCOORD (111030,DCM,\"Image Region\") = ELLIPSE"), std::string::npos);
  EXPECT_NE(r.output.find("CODE (130400,DCM,\"Geometric purpose of region\") = (75958009,SCT,\"Bounded by\")"), std::string::npos);
  EXPECT_NE(r.output.find("frame 2"), std::string::npos) << "multi-frame reference";
}

TEST(MeasurementReport, ReadsAnSrWrittenByDcmjs) {
  TempDir tmp;
  const std::string image = study().images.find(study().ct[1])->path;
  const CommandResult made = node({compatScript("make-sr.mjs"), tmp / "dcmjs.dcm", "--image", image});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  const json expected = json::parse(readFile(tmp / "dcmjs.expected.json"));
  const MeasurementReportContent read = readMeasurementReportFile(tmp / "dcmjs.dcm");
  std::map<std::string, const Finding*> byTool;
  for (const auto& f : read.document.findings) byTool[f.trackingId.substr(f.trackingId.rfind(':') + 1)] = &f;
  const std::map<std::string, GeometryType> types = {
      {"Length", GeometryType::Polyline}, {"RectangleROI", GeometryType::BBox}, {"EllipticalROI", GeometryType::Ellipse},
      {"CircleROI", GeometryType::Circle}, {"Probe", GeometryType::Point}, {"PlanarFreehandROI", GeometryType::Polygon},
      {"ArrowAnnotate", GeometryType::Polyline}, {"Bidirectional", GeometryType::Polyline}};
  for (const auto& [tool, spec] : expected["tools"].items()) {
    SCOPED_TRACE(tool);
    ASSERT_TRUE(byTool.count(tool));
    const Finding& f = *byTool[tool];
    ASSERT_TRUE(f.geometry);
    EXPECT_EQ(f.geometry->type, types.at(tool));
    EXPECT_EQ(f.geometry->image.sopInstanceUid, study().ct[1]);
    EXPECT_EQ(f.comment, spec["label"]);
    std::vector<Point2> want;
    for (const auto& p : spec["imagePoints"]) want.push_back({p[0].get<double>(), p[1].get<double>()});
    if (tool == "RectangleROI") want = {want[0], want[3]};  // Cornerstone order TL, TR, BL, BR → our two corners
    if (tool == "Bidirectional") want = {want[0], want[1]};  // one region per finding: the long axis
    ASSERT_EQ(f.geometry->points.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(f.geometry->points[i][0], want[i][0], 1e-3);
      EXPECT_NEAR(f.geometry->points[i][1], want[i][1], 1e-3);
    }
  }
  const auto* length = byTool["Length"];
  ASSERT_FALSE(length->measurements.empty());
  EXPECT_EQ(length->measurements[0].concept.value, "410668003");
  // Both axes' values are kept; the short axis' line has no place in the model and is reported.
  const auto* bidirectional = byTool["Bidirectional"];
  std::set<std::string> axes;
  for (const auto& m : bidirectional->measurements) axes.insert(m.concept.value);
  EXPECT_EQ(axes, (std::set<std::string>{"103339001", "103340004"}));
  // What has no place in the model is reported, not dropped silently (the moved text box, the
  // second line of the bidirectional).
  std::string unmapped;
  for (const auto& u : read.unmapped) unmapped += u + "\n";
  EXPECT_NE(unmapped.find("more than one image region; only the first is read"), std::string::npos) << unmapped;
  EXPECT_NE(unmapped.find("is a second region and is not kept (its value is)"), std::string::npos) << unmapped;
}

TEST(MeasurementReport, CommandLineWritesProtocolLabelsAndReadsThemBack) {
  TempDir tmp;
  const Study& s = study();
  json doc = {
      {"observer", {{"name", "Reader^Rita"}}},
      {"protocol", {{"id", "chest-ct-lung-nodules"}, {"version", "1.0.0"}}},
      {"findings", json::array({{{"label", "nodule"},
                                 {"geometry", region("ellipse", s.ct[0], {{10, 20}, {30, 20}, {20, 15}, {20, 25}})},
                                 {"evaluations", {{{"concept", code("NODCOMP", "99ANNOT", "Nodule composition")}, {"value", code("SOLID", "99ANNOT", "Solid")}},
                                                  {{"concept", code("LRCAT", "99ANNOT", "Lung-RADS assessment category")},
                                                   {"value", code("LR3", "99ANNOT", "Lung-RADS 3: probably benign")}}}}}})},
      {"classifications", json::array({{{"label", "emphysema"}, {"value", code("52101004", "SCT", "Present")}}})}};
  writeFile(tmp / "a.json", doc.dump());
  const CommandResult made = runCommand({nodeBinary(), "make-sr", "--annotation", tmp / "a.json", "--images", study().dir / "ct",
                                         study().dir / "enhanced", "--out", tmp / "sr.dcm"});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  expectValid(tmp / "sr.dcm");  // one region: validators apply the strict TID 1410 rules
  const CommandResult read = runCommand({nodeBinary(), "read-sr", tmp / "sr.dcm"});
  ASSERT_EQ(read.exitCode, 0) << read.output;
  const json out = json::parse(read.output);
  EXPECT_EQ(out["annotation"]["protocol"]["id"], "chest-ct-lung-nodules");
  const json& f = out["annotation"]["findings"][0];
  EXPECT_EQ(f["finding"]["code"], "27925004") << "the label's code";
  EXPECT_EQ(f["findingSite"]["code"], "39607008") << "the label's default site";
  EXPECT_EQ(f["geometry"]["type"], "ellipse");
  bool longAxis = false;
  for (const auto& m : f["measurements"]) longAxis = longAxis || (m["concept"]["code"] == "103339001" && std::abs(m["value"].get<double>() - 14.0) < 1e-9);
  EXPECT_TRUE(longAxis) << "derived long axis of 20 px at 0.7 mm";
  EXPECT_EQ(out["annotation"]["classifications"][0]["concept"]["code"], "87433001");
}

TEST(MeasurementReport, CommandLineRefusesBadAnnotationsWithEveryReason) {
  TempDir tmp;
  const Study& s = study();
  json doc = {
      {"observer", {{"name", "Reader^Rita"}}},
      {"protocol", {{"id", "chest-ct-lung-nodules"}, {"version", "1.0.0"}}},
      {"findings", json::array({
           {{"label", "nodule"}, {"geometry", region("point", "1.2.3.999", {{1, 1}})}},
           {{"label", "nodule"}, {"geometry", region("bbox", s.enhanced, {{1, 1}, {5, 5}}, 7)}},
           {{"label", "nodule"}, {"geometry", region("bbox", s.ct[0], {{1, 1}, {99, 5}})}},
           {{"label", "nodule"}, {"geometry", region("bbox", s.ct[0], {{1, 1}, {1, 5}})}},
           {{"finding", code("36118008", "SCT", "Pneumothorax")}, {"geometry", region("bbox", s.ct[0], {{1, 1}, {5, 5}})}},
           {{"label", "nodule"}, {"geometry", region("bbox", s.ct[0], {{1, 1}, {5, 5}})}},
       })}};
  writeFile(tmp / "bad.json", doc.dump());
  const CommandResult r = runCommand({nodeBinary(), "make-sr", "--annotation", tmp / "bad.json", "--images", study().dir / "ct",
                                      study().dir / "enhanced", "--out", tmp / "sr.dcm"});
  EXPECT_EQ(r.exitCode, 1);
  for (const char* message : {"findings[0].geometry.image: SOP Instance UID 1.2.3.999 is not among the referenced images",
                              "findings[1].geometry.image.frame: frame 7 is out of range (the image has 3 frames)",
                              "findings[2].geometry.points[1]: (99, 5) is outside the image",
                              "findings[3].geometry: degenerate bbox",
                              "findings[4].finding: (36118008, SCT, \"Pneumothorax\") is not allowed by protocol chest-ct-lung-nodules",
                              "findings[5].measurements: required measurement (103339001, SCT, \"Long Axis\") is missing",
                              "findings[5].evaluations: required evaluation (LRCAT, 99ANNOT",
                              "classifications: required classification 'emphysema'"}) {
    EXPECT_NE(r.output.find(message), std::string::npos) << message << "\n" << r.output;
  }
  EXPECT_FALSE(std::ifstream(tmp / "sr.dcm").good()) << "nothing written";

  writeFile(tmp / "notjson.json", "{");
  const CommandResult notJson = runCommand({nodeBinary(), "make-sr", "--annotation", tmp / "notjson.json", "--images",
                                            study().dir / "ct", "--out", tmp / "sr.dcm"});
  EXPECT_EQ(notJson.exitCode, 1);
  EXPECT_NE(notJson.output.find("not valid JSON"), std::string::npos) << notJson.output;

  const CommandResult notSr = runCommand({nodeBinary(), "read-sr", s.images.find(s.ct[0])->path});
  EXPECT_EQ(notSr.exitCode, 1);
  EXPECT_NE(notSr.output.find("not a structured report"), std::string::npos) << notSr.output;
}
