#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "annotation/AnnotationDocument.h"

using namespace annot;
using nlohmann::json;

namespace {
const char* kValid = R"({
  "observer": {"type": "person", "name": "Reader^One"},
  "protocol": {"id": "chest-ct-lung-nodules", "version": "1.0.0"},
  "findings": [{
    "label": "nodule",
    "geometry": {"type": "ellipse", "image": {"sopInstanceUid": "1.2.3.4", "frame": 2},
                 "points": [[10, 20], [30, 20], [20, 15], [20, 25]]},
    "evaluations": [{"concept": {"code": "LRCAT", "scheme": "99ANNOT", "meaning": "Lung-RADS assessment category"},
                     "value": {"code": "LR3", "scheme": "99ANNOT", "meaning": "Lung-RADS 3: probably benign"}},
                    {"concept": {"code": "MARGIN", "scheme": "99ANNOT", "meaning": "Margin description"}, "text": "spiculated"}],
    "measurements": [{"concept": {"code": "103339001", "scheme": "SCT", "meaning": "Long Axis"}, "value": 7.5,
                      "unit": {"code": "mm", "scheme": "UCUM", "meaning": "millimeter"}}],
    "comment": "right upper lobe"
  }],
  "classifications": [{"label": "emphysema", "value": {"code": "2667000", "scheme": "SCT", "meaning": "Absent"}}]
})";

std::vector<std::string> problemsOf(const std::string& text) {
  try {
    parseAnnotationDocument(text);
  } catch (const AnnotationError& e) {
    return e.problems();
  }
  return {};
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}
}  // namespace

TEST(AnnotationDocument, ParsesEveryPartAndRoundTrips) {
  const AnnotationDocument doc = parseAnnotationDocument(std::string(kValid));
  EXPECT_EQ(doc.observer.name, "Reader^One");
  ASSERT_TRUE(doc.protocol);
  EXPECT_EQ(doc.protocol->id, "chest-ct-lung-nodules");
  ASSERT_EQ(doc.findings.size(), 1u);
  const Finding& f = doc.findings[0];
  EXPECT_EQ(f.label, "nodule");
  ASSERT_TRUE(f.geometry);
  EXPECT_EQ(f.geometry->type, GeometryType::Ellipse);
  EXPECT_EQ(f.geometry->image.frame, 2u);
  EXPECT_EQ(f.geometry->points[1][0], 30);
  ASSERT_EQ(f.evaluations.size(), 2u);
  EXPECT_EQ(f.evaluations[0].code->value, "LR3");
  EXPECT_EQ(f.evaluations[1].text, "spiculated");
  EXPECT_DOUBLE_EQ(f.measurements[0].value, 7.5);
  EXPECT_EQ(doc.classifications.at(0).label, "emphysema");

  const json again = toJson(doc);
  EXPECT_EQ(toJson(parseAnnotationDocument(again)), again);
}

TEST(AnnotationDocument, ReportsEveryShapeProblemWithItsPath) {
  const auto problems = problemsOf(R"({
    "observer": {"type": "robot", "name": ""},
    "findings": [
      {"finding": {"code": "27925004", "scheme": "SCT"}, "geometry": {"type": "bbox", "image": {"sopInstanceUid": "1.2"}, "points": [[1, 2]]}},
      {"geometry": {"type": "hexagon", "image": {"sopInstanceUid": "x.y"}, "points": []}},
      {"label": "n", "geometry": {"type": "point", "image": {"sopInstanceUid": "1.2", "frame": 0}, "points": [["a", 1]]}},
      {"label": "n"}
    ],
    "classifications": [{"concept": {"code": "1", "scheme": "SCT", "meaning": "x"}}],
    "extra": 1
  })");
  EXPECT_TRUE(mentions(problems, "observer.type: must be 'person' or 'device'"));
  EXPECT_TRUE(mentions(problems, "observer.name: must not be empty"));
  EXPECT_TRUE(mentions(problems, "findings[0].finding: needs a non-empty string 'meaning'"));
  EXPECT_TRUE(mentions(problems, "findings[0].geometry.points: a bbox has exactly 2 opposite corners, got 1"));
  EXPECT_TRUE(mentions(problems, "findings[1]: needs a 'finding' code or a protocol 'label'"));
  EXPECT_TRUE(mentions(problems, "findings[1].geometry.type: unknown geometry 'hexagon'"));
  EXPECT_TRUE(mentions(problems, "findings[2].geometry.image.frame: must be a frame number starting at 1"));
  EXPECT_TRUE(mentions(problems, "findings[2].geometry.points[0]: must be a [column, row] pair of numbers"));
  EXPECT_TRUE(mentions(problems, "findings[3]: 'geometry' is required"));
  EXPECT_TRUE(mentions(problems, "classifications[0]: 'value' is required"));
  EXPECT_TRUE(mentions(problems, "extra: unknown key"));
}

TEST(AnnotationDocument, RejectsNonJsonAndMalformedDocuments) {
  EXPECT_TRUE(mentions(problemsOf("{not json"), "not valid JSON"));
  // An empty document is well-formed (a draft whose reader removed everything); the validator
  // refuses it as incomplete.
  EXPECT_NO_THROW(parseAnnotationDocument(std::string(R"({"observer": {"name": "A"}})")));
  EXPECT_TRUE(mentions(problemsOf(R"({"findings": []})"), "observer: is required"));
  EXPECT_TRUE(mentions(problemsOf(R"({"observer": {"type": "device", "name": "Net"}, "classifications": []})"),
                       "'uid' is required"));
}

TEST(AnnotationDocument, GeometryCountsPerType) {
  auto withPoints = [](const char* type, int n) {
    json points = json::array();
    for (int i = 0; i < n; ++i) points.push_back({i, i * 2});
    json doc = {{"observer", {{"name", "A"}}},
                {"findings", {{{"finding", {{"code", "1"}, {"scheme", "SCT"}, {"meaning", "m"}}},
                               {"geometry", {{"type", type}, {"image", {{"sopInstanceUid", "1.2"}}}, {"points", points}}}}}}};
    return problemsOf(doc.dump());
  };
  EXPECT_TRUE(withPoints("point", 1).empty());
  EXPECT_FALSE(withPoints("point", 2).empty());
  EXPECT_TRUE(withPoints("polyline", 2).empty());
  EXPECT_FALSE(withPoints("polyline", 1).empty());
  EXPECT_TRUE(withPoints("polygon", 3).empty());
  EXPECT_FALSE(withPoints("polygon", 2).empty());
  EXPECT_TRUE(withPoints("ellipse", 4).empty());
  EXPECT_FALSE(withPoints("ellipse", 3).empty());
  EXPECT_TRUE(withPoints("circle", 2).empty());
  EXPECT_FALSE(withPoints("circle", 3).empty());
}

TEST(AnnotationDocument, PublishedExamplesParse) {
  for (const char* name : {"lung-nodule-annotation.json", "ai-prelabel-annotation.json"}) {
    std::ifstream in(std::string(ANNOT_SOURCE_DIR) + "/docs/examples/" + name);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NO_THROW(parseAnnotationDocument(text.str())) << name;
  }
}
