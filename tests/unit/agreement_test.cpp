#include <gtest/gtest.h>

#include "reports/Agreement.h"

using namespace annot;

namespace {
Geometry box(double x0, double y0, double x1, double y1, const std::string& uid = "1.2.3") {
  return {GeometryType::BBox, {uid, 0}, {{x0, y0}, {x1, y1}}};
}
}  // namespace

TEST(Agreement, IntersectionOverUnionOfRegions) {
  EXPECT_DOUBLE_EQ(*regionIoU(box(0, 0, 10, 10), box(0, 0, 10, 10)), 1.0);
  EXPECT_NEAR(*regionIoU(box(0, 0, 10, 10), box(5, 0, 15, 10)), 50.0 / 150.0, 1e-12);
  EXPECT_DOUBLE_EQ(*regionIoU(box(0, 0, 10, 10), box(20, 20, 30, 30)), 0.0);
  EXPECT_FALSE(regionIoU(box(0, 0, 10, 10), box(0, 0, 10, 10, "9.9"))) << "different images are not comparable";
  const Geometry circle{GeometryType::Circle, {"1.2.3", 0}, {{50, 50}, {50, 70}}};
  const Geometry square = box(30, 30, 70, 70);
  EXPECT_NEAR(*regionIoU(circle, square), M_PI * 400 / 1600, 0.02) << "a circle inscribed in a square";
  const Geometry polygon{GeometryType::Polygon, {"1.2.3", 0}, {{0, 0}, {10, 0}, {10, 10}, {0, 10}}};
  EXPECT_DOUBLE_EQ(*regionIoU(polygon, box(0, 0, 10, 10)), 1.0);
  const Geometry ellipse{GeometryType::Ellipse, {"1.2.3", 0}, {{0, 10}, {40, 10}, {20, 0}, {20, 20}}};
  EXPECT_NEAR(*regionIoU(ellipse, box(0, 0, 40, 20)), M_PI / 4, 0.03);
  EXPECT_NEAR(diceFromIoU(1.0 / 3.0), 0.5, 1e-12);
}

TEST(Agreement, CohensKappaMatchesAHandComputedExample) {
  // po = 3/4, pe = 0.5*0.25 + 0.5*0.75 = 0.5, kappa = 0.5
  EXPECT_NEAR(*cohensKappa({{"yes", "yes"}, {"yes", "no"}, {"no", "no"}, {"no", "no"}}), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(*cohensKappa({{"a", "a"}, {"a", "a"}}), 1.0) << "perfect agreement on one category";
  EXPECT_LT(*cohensKappa({{"a", "b"}, {"b", "a"}}), 0.0) << "systematic disagreement";
  EXPECT_FALSE(cohensKappa({}));
}

TEST(Agreement, FleissKappaMatchesAHandComputedExample) {
  // P = (1 + 1/3 + 1) / 3 = 7/9; pe = (5/9)^2 + (4/9)^2 = 41/81; kappa = (63 - 41) / 40 = 0.55
  EXPECT_NEAR(*fleissKappa({{"a", "a", "a"}, {"a", "a", "b"}, {"b", "b", "b"}}), 0.55, 1e-12);
  EXPECT_FALSE(fleissKappa({{"a", "a"}, {"a"}})) << "every subject needs the same number of raters";
}

TEST(Agreement, ReadersAreMatchedByCodeAndImage) {
  AnnotationDocument a, b;
  Finding f;
  f.finding = {"27925004", "SCT", "Nodule"};
  f.geometry = box(0, 0, 10, 10);
  a.findings.push_back(f);
  f.geometry = box(5, 0, 15, 10);
  b.findings.push_back(f);
  Finding point;
  point.finding = {"27925004", "SCT", "Nodule"};
  point.geometry = Geometry{GeometryType::Point, {"1.2.3", 0}, {{3, 4}}};
  a.findings.push_back(point);
  point.geometry->points = {{0, 0}};
  b.findings.push_back(point);
  Finding other;
  other.finding = {"4147007", "SCT", "Mass"};
  other.geometry = box(0, 0, 10, 10);
  a.findings.push_back(other);
  const CaseAgreement result = compareReaders({a, b});
  ASSERT_EQ(result.regionIoUs.size(), 1u);
  EXPECT_NEAR(result.regionIoUs[0], 1.0 / 3.0, 1e-12);
  ASSERT_EQ(result.pointDistances.size(), 1u);
  EXPECT_DOUBLE_EQ(result.pointDistances[0], 5.0);
  EXPECT_EQ(result.unmatchedFindings, 1u) << "the mass has no counterpart";
}

TEST(Agreement, MasksOfTheSameStructureAreComparedByDiceAndIoU) {
  SourceImageSet images;
  SourceImage img;
  img.sopInstanceUid = "1.2.3";
  img.studyInstanceUid = "1.2";
  img.seriesInstanceUid = "1.2.1";
  img.rows = 10;
  img.columns = 10;
  images.add(img);
  auto docWith = [](nlohmann::json runs) {
    AnnotationDocument d;
    d.segmentation = nlohmann::json{
        {"segments", {{{"label", "L"}, {"category", {{"code", "49755003"}, {"scheme", "SCT"}, {"meaning", "Morphologically Abnormal Structure"}}},
                       {"type", {{"code", "52988006"}, {"scheme", "SCT"}, {"meaning", "Lesion"}}}}}},
        {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", "1.2.3"}}}, {"runs", runs}}}}};
    return d;
  };
  const CaseAgreement result = compareReaders({docWith({{0, 20}}), docWith({{10, 20}})}, &images);
  ASSERT_EQ(result.maskDice.size(), 1u);
  EXPECT_DOUBLE_EQ(result.maskDice[0], 0.5);
  EXPECT_DOUBLE_EQ(result.maskIoU[0], 1.0 / 3.0);
}
