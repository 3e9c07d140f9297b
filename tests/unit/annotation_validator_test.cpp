#include <gtest/gtest.h>

#include <cmath>

#include "annotation/AnnotationValidator.h"
#include "annotation/DerivedMeasurements.h"
#include "protocol/Protocol.h"

using namespace annot;
using nlohmann::json;

namespace {
SourceImage image(const std::string& uid, uint32_t rows, uint32_t columns, std::optional<std::array<double, 2>> spacing,
                  uint32_t frames = 0, const std::string& study = "1.2.9") {
  SourceImage i;
  i.sopInstanceUid = uid;
  i.sopClassUid = "1.2.840.10008.5.1.4.1.1.2";
  i.studyInstanceUid = study;
  i.seriesInstanceUid = study + ".1";
  i.rows = rows;
  i.columns = columns;
  i.multiFrame = frames > 0;
  i.frames = frames > 0 ? frames : 1;
  i.pixelSpacing = spacing;
  i.spacingSource = spacing ? SourceImage::SpacingSource::PixelSpacing : SourceImage::SpacingSource::None;
  return i;
}

class ValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    images.add(image("1.2.9.1", 100, 200, std::array<double, 2>{0.5, 0.8}));  // rows 0.5 mm apart, columns 0.8 mm
    images.add(image("1.2.9.2", 64, 64, std::nullopt));
    images.add(image("1.2.9.3", 32, 32, std::array<double, 2>{1.0, 1.0}, 5));
    images.add(image("1.3.1", 32, 32, std::nullopt, 0, "1.3"));
    protocols = ProtocolSet::loadDirectory(ANNOT_SOURCE_DIR "/sr-templates/protocols");
  }

  static json finding(const std::string& type, const std::string& uid, json points, json extra = json::object()) {
    json f = {{"finding", {{"code", "27925004"}, {"scheme", "SCT"}, {"meaning", "Nodule"}}},
              {"geometry", {{"type", type}, {"image", {{"sopInstanceUid", uid}}}, {"points", points}}}};
    for (auto& item : extra.items()) f[item.key()] = item.value();
    return f;
  }

  AnnotationDocument resolve(json findings, const Protocol* protocol = nullptr, json classifications = json::array()) {
    json doc = {{"observer", {{"name", "R^One"}}}, {"findings", findings}, {"classifications", classifications}};
    if (protocol) doc["protocol"] = {{"id", protocol->id}, {"version", protocol->version}};
    return resolveAnnotation(parseAnnotationDocument(doc), images, protocol);
  }

  std::vector<std::string> problems(json findings, const Protocol* protocol = nullptr, json classifications = json::array()) {
    try {
      resolve(findings, protocol, classifications);
    } catch (const AnnotationError& e) {
      return e.problems();
    }
    return {};
  }

  static bool mentions(const std::vector<std::string>& problems, const std::string& text) {
    for (const auto& p : problems) {
      if (p.find(text) != std::string::npos) return true;
    }
    return false;
  }

  static const Measurement* measurement(const Finding& f, const Code& concept) {
    for (const auto& m : f.measurements) {
      if (m.concept.sameConcept(concept)) return &m;
    }
    return nullptr;
  }

  SourceImageSet images;
  ProtocolSet protocols;
};
}  // namespace

TEST_F(ValidatorTest, DerivesMeasurementsInMillimetresFromPixelSpacing) {
  const auto doc = resolve(json::array({
      finding("polyline", "1.2.9.1", {{0, 0}, {10, 0}, {10, 10}}),
      finding("polygon", "1.2.9.1", {{0, 0}, {10, 0}, {10, 10}, {0, 10}}),
      finding("bbox", "1.2.9.1", {{20, 30}, {10, 10}}),
      finding("ellipse", "1.2.9.1", {{0, 10}, {20, 10}, {10, 5}, {10, 15}}),
      finding("circle", "1.2.9.1", {{50, 50}, {50, 60}}),
      finding("point", "1.2.9.1", {{5, 5}}),
  }));
  // Polyline: 10 columns (8 mm) then 10 rows (5 mm).
  EXPECT_NEAR(measurement(doc.findings[0], concepts::Length)->value, 13.0, 1e-9);
  EXPECT_EQ(measurement(doc.findings[0], concepts::Length)->unit.value, "mm");
  EXPECT_NEAR(measurement(doc.findings[1], concepts::Area)->value, 8.0 * 5.0, 1e-9);
  EXPECT_EQ(measurement(doc.findings[1], concepts::Area)->unit.value, "mm2");
  EXPECT_NEAR(measurement(doc.findings[2], concepts::Area)->value, 8.0 * 10.0, 1e-9);
  EXPECT_NEAR(measurement(doc.findings[3], concepts::LongAxis)->value, 16.0, 1e-9);
  EXPECT_NEAR(measurement(doc.findings[3], concepts::ShortAxis)->value, 5.0, 1e-9);
  EXPECT_NEAR(measurement(doc.findings[3], concepts::Area)->value, M_PI / 4 * 16 * 5, 1e-9);
  EXPECT_NEAR(measurement(doc.findings[4], concepts::Diameter)->value, 10.0, 1e-9);
  EXPECT_TRUE(doc.findings[5].measurements.empty());
  for (const auto& f : doc.findings) {
    EXPECT_FALSE(f.trackingUid.empty());
    EXPECT_FALSE(f.trackingId.empty());
  }
  EXPECT_EQ(doc.studyInstanceUid, "1.2.9");
}

TEST_F(ValidatorTest, FallsBackToPixelsAndSaysSo) {
  const auto doc = resolve(json::array({finding("polyline", "1.2.9.2", {{0, 0}, {3, 4}})}));
  const Measurement* length = measurement(doc.findings[0], concepts::Length);
  ASSERT_NE(length, nullptr);
  EXPECT_NEAR(length->value, 5.0, 1e-9);
  EXPECT_EQ(length->unit.value, "{pixels}");
  EXPECT_NE(length->note.find("no pixel spacing"), std::string::npos);
  const auto box = resolve(json::array({finding("bbox", "1.2.9.2", {{0, 0}, {3, 4}})}));
  const Measurement* area = measurement(box.findings[0], concepts::Area);
  ASSERT_NE(area, nullptr);
  EXPECT_NEAR(area->value, 12.0, 1e-9);
  // A UCUM annotation is ASCII 33-126 between braces: no space.
  EXPECT_EQ(area->unit.value, "{square_pixels}");
}

TEST_F(ValidatorTest, ImagerPixelSpacingCarriesANote) {
  SourceImage dx = image("1.2.9.9", 100, 100, std::array<double, 2>{0.2, 0.2});
  dx.spacingSource = SourceImage::SpacingSource::ImagerPixelSpacing;
  images.add(dx);
  const auto doc = resolve(json::array({finding("polyline", "1.2.9.9", {{0, 0}, {10, 0}})}));
  const Measurement* length = measurement(doc.findings[0], concepts::Length);
  EXPECT_NEAR(length->value, 2.0, 1e-9);
  EXPECT_NE(length->note.find("Imager Pixel Spacing"), std::string::npos);
}

TEST_F(ValidatorTest, ImageProblemsSayWhatToFix) {
  auto p = problems(json::array({finding("point", "1.2.9.77", {{1, 1}})}));
  EXPECT_TRUE(mentions(p, "findings[0].geometry.image: SOP Instance UID 1.2.9.77 is not among the referenced images"));

  p = problems(json::array({finding("point", "1.2.9.3", {{1, 1}})}));
  EXPECT_TRUE(mentions(p, "is multi-frame (5 frames): give a frame number"));

  json onFrame9 = finding("point", "1.2.9.3", {{1, 1}});
  onFrame9["geometry"]["image"]["frame"] = 9;
  p = problems(json::array({onFrame9}));
  EXPECT_TRUE(mentions(p, "findings[0].geometry.image.frame: frame 9 is out of range (the image has 5 frames)"));

  p = problems(json::array({finding("bbox", "1.2.9.1", {{10, 10}, {250, 20}})}));
  EXPECT_TRUE(mentions(p, "findings[0].geometry.points[1]: (250, 20) is outside the image (columns 0..200, rows 0..100)"));

  p = problems(json::array({finding("bbox", "1.2.9.1", {{10, 10}, {10, 20}})}));
  EXPECT_TRUE(mentions(p, "degenerate bbox"));
  p = problems(json::array({finding("polygon", "1.2.9.1", {{1, 1}, {2, 2}, {3, 3}})}));
  EXPECT_TRUE(mentions(p, "degenerate polygon"));
  p = problems(json::array({finding("circle", "1.2.9.1", {{5, 5}, {5, 5}})}));
  EXPECT_TRUE(mentions(p, "degenerate circle"));

  p = problems(json::array({finding("point", "1.2.9.1", {{1, 1}}), finding("point", "1.3.1", {{1, 1}})}));
  EXPECT_TRUE(mentions(p, "refers to images of 2 studies"));
}

TEST_F(ValidatorTest, EllipseAxesArePutInOrderAndMustCrossAtRightAnglesAtTheirMidpoints) {
  // Minor axis first: the same ellipse, stored major axis first as DICOM's ELLIPSE wants.
  const auto doc = resolve(json::array({finding("ellipse", "1.2.9.1", {{50, 40}, {50, 60}, {20, 50}, {80, 50}})}));
  const auto& p = doc.findings[0].geometry->points;
  EXPECT_EQ(p[0], (Point2{20, 50}));
  EXPECT_EQ(p[1], (Point2{80, 50}));
  EXPECT_EQ(p[2], (Point2{50, 40}));
  EXPECT_EQ(p[3], (Point2{50, 60}));
  bool longAxis = false;
  for (const auto& m : doc.findings[0].measurements) {
    if (m.concept.value == "103339001") {
      longAxis = true;
      EXPECT_NEAR(m.value, 60 * 0.8, 1e-9) << "the major axis, in mm (columns 0.8 mm apart)";
    }
  }
  EXPECT_TRUE(longAxis);

  auto p2 = problems(json::array({finding("ellipse", "1.2.9.1", {{20, 50}, {80, 50}, {40, 40}, {60, 60}})}));
  EXPECT_TRUE(mentions(p2, "axes are not perpendicular (they meet at 45 degrees)"));
  p2 = problems(json::array({finding("ellipse", "1.2.9.1", {{20, 50}, {80, 50}, {70, 40}, {70, 60}})}));
  EXPECT_TRUE(mentions(p2, "axes do not cross at their midpoints (50, 50) and (70, 50)"));
  // A rounded, hand-drawn pair of axes is fine; so is a short axis tilted by rounding alone
  // (|cos| 0.077, but a third of a pixel sideways).
  EXPECT_TRUE(problems(json::array({finding("ellipse", "1.2.9.1", {{20, 50}, {80, 50.5}, {50, 40}, {50.4, 60}})})).empty());
  EXPECT_TRUE(problems(json::array({finding("ellipse", "1.2.9.1", {{10, 10}, {20, 16}, {16, 11}, {14, 15}})})).empty());
}

TEST_F(ValidatorTest, FramesOfMultiFrameImagesAreKept) {
  json f = finding("point", "1.2.9.3", {{1, 1}});
  f["geometry"]["image"]["frame"] = 4;
  const auto doc = resolve(json::array({f}));
  EXPECT_EQ(doc.findings[0].geometry->image.frame, 4u);
  json single = finding("point", "1.2.9.1", {{1, 1}});
  single["geometry"]["image"]["frame"] = 1;
  EXPECT_EQ(resolve(json::array({single})).findings[0].geometry->image.frame, 0u) << "frame 1 of a single-frame image is the image";
}

TEST_F(ValidatorTest, ProtocolRulesAreEnforced) {
  const Protocol* lung = protocols.find("chest-ct-lung-nodules");
  ASSERT_NE(lung, nullptr);
  const json composition = {{"concept", {{"code", "NODCOMP"}, {"scheme", "99ANNOT"}, {"meaning", "Nodule composition"}}},
                            {"value", {{"code", "SOLID"}, {"scheme", "99ANNOT"}, {"meaning", "Solid"}}}};
  const json category = {{"concept", {{"code", "LRCAT"}, {"scheme", "99ANNOT"}, {"meaning", "Lung-RADS assessment category"}}},
                         {"value", {{"code", "LR3"}, {"scheme", "99ANNOT"}, {"meaning", "Lung-RADS 3: probably benign"}}}};
  const json emphysema = json::array({{{"label", "emphysema"}, {"value", {{"code", "2667000"}, {"scheme", "SCT"}, {"meaning", "Absent"}}}}});
  json good = {{"label", "nodule"},
               {"geometry", {{"type", "ellipse"}, {"image", {{"sopInstanceUid", "1.2.9.1"}}}, {"points", {{0, 10}, {20, 10}, {10, 5}, {10, 15}}}}},
               {"evaluations", {composition, category}}};
  const auto doc = resolve(json::array({good}), lung, emphysema);
  EXPECT_EQ(doc.findings[0].finding.value, "27925004") << "label implies the finding code";
  ASSERT_TRUE(doc.findings[0].findingSite);
  EXPECT_EQ(doc.findings[0].findingSite->value, "39607008") << "default site of the label";
  EXPECT_EQ(doc.classifications[0].concept.value, "87433001");

  json wrongValue = good;
  wrongValue["evaluations"][1]["value"] = {{"code", "LR9"}, {"scheme", "99ANNOT"}, {"meaning", "nine"}};
  EXPECT_TRUE(mentions(problems(json::array({wrongValue}), lung, emphysema), "(LR9, 99ANNOT, \"nine\") is not an allowed value"));

  json missingEvaluation = good;
  missingEvaluation["evaluations"] = json::array({composition});
  EXPECT_TRUE(mentions(problems(json::array({missingEvaluation}), lung, emphysema),
                       "required evaluation (LRCAT, 99ANNOT, \"Lung-RADS assessment category\") is missing"));

  json bboxWithoutAxis = good;
  bboxWithoutAxis["geometry"] = {{"type", "bbox"}, {"image", {{"sopInstanceUid", "1.2.9.1"}}}, {"points", {{1, 1}, {9, 9}}}};
  EXPECT_TRUE(mentions(problems(json::array({bboxWithoutAxis}), lung, emphysema),
                       "required measurement (103339001, SCT, \"Long Axis\") is missing"));

  json polygonNotAllowed = good;
  polygonNotAllowed["geometry"] = {{"type", "polygon"}, {"image", {{"sopInstanceUid", "1.2.9.1"}}}, {"points", {{1, 1}, {9, 1}, {9, 9}}}};
  EXPECT_TRUE(mentions(problems(json::array({polygonNotAllowed}), lung, emphysema), "'polygon' is not allowed for 'nodule'"));

  json unknownLabel = good;
  unknownLabel["label"] = "tumour";
  EXPECT_TRUE(mentions(problems(json::array({unknownLabel}), lung, emphysema), "'tumour' is not a label of protocol chest-ct-lung-nodules"));

  json codeNotInProtocol = good;
  codeNotInProtocol.erase("label");
  codeNotInProtocol["finding"] = {{"code", "36118008"}, {"scheme", "SCT"}, {"meaning", "Pneumothorax"}};
  EXPECT_TRUE(mentions(problems(json::array({codeNotInProtocol}), lung, emphysema), "is not allowed by protocol chest-ct-lung-nodules"));

  json badSite = good;
  badSite["findingSite"] = {{"code", "12738006"}, {"scheme", "SCT"}, {"meaning", "Brain structure"}};
  EXPECT_TRUE(mentions(problems(json::array({badSite}), lung, emphysema), "is not an allowed site for 'nodule'"));

  EXPECT_TRUE(mentions(problems(json::array({good}), lung), "required classification 'emphysema'"));
}

TEST_F(ValidatorTest, ADraftMayLackWhatTheProtocolRequiresButNotBeWrong) {
  const Protocol* lung = protocols.find("chest-ct-lung-nodules");
  ASSERT_NE(lung, nullptr);
  auto draftOf = [&](json findings) {
    json doc = {{"observer", {{"name", "R^One"}}}, {"protocol", {{"id", lung->id}, {"version", lung->version}}}, {"findings", findings}};
    return resolveDraft(parseAnnotationDocument(doc), images, lung);
  };
  // A nodule drawn, nothing answered yet: every missing item is listed, none refused.
  const json bare = {{"label", "nodule"},
                     {"geometry", {{"type", "bbox"}, {"image", {{"sopInstanceUid", "1.2.9.1"}}}, {"points", {{1, 1}, {9, 9}}}}}};
  const ResolvedDraft draft = draftOf(json::array({bare}));
  EXPECT_EQ(draft.document.findings.size(), 1u);
  EXPECT_TRUE(mentions(draft.missing, "findings[0].evaluations: required evaluation (NODCOMP"));
  EXPECT_TRUE(mentions(draft.missing, "findings[0].evaluations: required evaluation (LRCAT"));
  EXPECT_TRUE(mentions(draft.missing, "findings[0].measurements: required measurement (103339001"));
  EXPECT_TRUE(mentions(draft.missing, "classifications: required classification 'emphysema'"));
  // The same document is refused as complete, with the same items.
  EXPECT_TRUE(mentions(problems(json::array({bare}), lung), "required evaluation (NODCOMP"));
  // What is present must still be right in a draft.
  json twoPointPolygon = bare;
  twoPointPolygon["label"] = "mass";
  twoPointPolygon["geometry"] = {{"type", "polygon"}, {"image", {{"sopInstanceUid", "1.2.9.1"}}}, {"points", {{1, 1}, {9, 9}}}};
  EXPECT_THROW(draftOf(json::array({twoPointPolygon})), AnnotationError);
  json wrongImage = bare;
  wrongImage["geometry"]["image"]["sopInstanceUid"] = "1.2.9.99";
  EXPECT_THROW(draftOf(json::array({wrongImage})), AnnotationError);
  // Everything removed: an empty draft is kept, and refused when complete.
  const ResolvedDraft empty = draftOf(json::array());
  EXPECT_TRUE(mentions(empty.missing, "document: has neither findings nor classifications nor a segmentation"));
  EXPECT_THROW(resolveAnnotation(empty.document, images, lung), AnnotationError);
}
