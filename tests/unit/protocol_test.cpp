#include <gtest/gtest.h>

#include "protocol/Protocol.h"
#include "support/TestSupport.h"

using namespace annot;
using nlohmann::json;

namespace {
std::string errorOf(const json& j) {
  try {
    parseProtocol(j, "test.json");
  } catch (const ProtocolError& e) {
    return e.what();
  }
  return "";
}

json minimal() {
  return json::parse(R"({
    "id": "p", "version": "1", "title": "T", "appliesTo": {"modalities": ["CT"]},
    "procedure": {"code": "24627-2", "scheme": "LN", "meaning": "CT Chest"},
    "labels": [{"key": "n", "finding": {"code": "27925004", "scheme": "SCT", "meaning": "Nodule"}, "geometries": ["bbox"]}]
  })");
}
}  // namespace

TEST(Protocols, TheShippedProtocolsLoadAndMatchTheirStudies) {
  const ProtocolSet set = ProtocolSet::loadDirectory(ANNOT_SOURCE_DIR "/sr-templates/protocols");
  ASSERT_GE(set.all().size(), 3u);
  const Protocol* lung = set.find("chest-ct-lung-nodules");
  ASSERT_NE(lung, nullptr);
  EXPECT_EQ(lung->readers, 2u);
  EXPECT_TRUE(lung->review);
  ASSERT_NE(lung->label("nodule"), nullptr);
  EXPECT_EQ(lung->label("nodule")->finding.value, "27925004");

  auto ids = [&](const StudyFacts& facts) {
    std::vector<std::string> out;
    for (const auto* p : set.matching(facts)) out.push_back(p->id);
    return out;
  };
  EXPECT_EQ(ids({{"CT"}, {"CHEST"}, {"1.2.840.10008.5.1.4.1.1.2"}, "CT CHEST"}), std::vector<std::string>{"chest-ct-lung-nodules"});
  EXPECT_EQ(ids({{"MR"}, {"HEAD"}, {}, "MR BRAIN W/ CONTRAST"}), std::vector<std::string>{"brain-mr-lesions"});
  EXPECT_TRUE(ids({{"MR"}, {"HEAD"}, {}, "MR KNEE"}).empty()) << "description pattern must match";
  EXPECT_EQ(ids({{"DX"}, {"chest"}, {}, ""}), std::vector<std::string>{"chest-xray-findings"});
  EXPECT_TRUE(ids({{"US"}, {"ABDOMEN"}, {}, ""}).empty());
}

TEST(Protocols, NewestVersionWinsUnlessOneIsAsked) {
  ProtocolSet set;
  json a = minimal(), b = minimal(), c = minimal();
  a["version"] = "1.9.0";
  b["version"] = "1.10.0";
  c["version"] = "1.2.0";
  set.add(parseProtocol(a, "a"));
  set.add(parseProtocol(b, "b"));
  set.add(parseProtocol(c, "c"));
  EXPECT_EQ(set.find("p")->version, "1.10.0");
  EXPECT_EQ(set.find("p", "1.9.0")->version, "1.9.0");
  EXPECT_EQ(set.find("p", "9"), nullptr);
  EXPECT_THROW(set.add(parseProtocol(a, "a2")), ProtocolError);
}

TEST(Protocols, LoadTimeErrorsSayWhatToFix) {
  json j = minimal();
  j.erase("procedure");
  EXPECT_NE(errorOf(j).find("'procedure' is required"), std::string::npos);

  j = minimal();
  j["labels"][0]["geometries"] = {"hexagon"};
  EXPECT_NE(errorOf(j).find("unknown geometry 'hexagon'"), std::string::npos);

  j = minimal();
  j["labels"][0]["finding"] = {{"code", "1"}, {"scheme", "SCT"}};
  EXPECT_NE(errorOf(j).find("labels[0].finding: needs a non-empty string 'meaning'"), std::string::npos);

  j = minimal();
  j["labels"].push_back(j["labels"][0]);
  EXPECT_NE(errorOf(j).find("key 'n' is used twice"), std::string::npos);

  j = minimal();
  j["labels"][0]["measurements"] = {{{"concept", {{"code", "1"}, {"scheme", "SCT"}, {"meaning", "L"}}},
                                     {"unit", {{"code", "mm"}, {"scheme", "MM"}, {"meaning", "mm"}}}}};
  EXPECT_NE(errorOf(j).find("units must use the UCUM coding scheme"), std::string::npos);

  j = minimal();
  j["appliesTo"]["descriptionPattern"] = "([";
  EXPECT_NE(errorOf(j).find("is not a valid regular expression"), std::string::npos);

  j = minimal();
  j["readers"] = 0;
  EXPECT_NE(errorOf(j).find("readers: must be a whole number from 1 to 10"), std::string::npos);

  j = minimal();
  j["id"] = "Bad Id";
  EXPECT_NE(errorOf(j).find("lower-case letters"), std::string::npos);
  EXPECT_NE(errorOf(j).find("test.json"), std::string::npos);
}

TEST(Protocols, AMaskLabelCarriesItsSegmentCategoryColourAndSitesToTheBrowser) {
  json j = minimal();
  j["labels"][0]["segmentation"] = true;
  j["labels"][0]["segmentCategory"] = {{"code", "91723000"}, {"scheme", "SCT"}, {"meaning", "Anatomical Structure"}};
  j["labels"][0]["color"] = {0, 128, 255};
  j["labels"][0]["allowedSites"] = {{{"code", "39607008"}, {"scheme", "SCT"}, {"meaning", "Lung"}}};
  const json shown = toJson(parseProtocol(j, "test.json"))["labels"][0];
  EXPECT_EQ(shown["segmentCategory"]["code"], "91723000");
  EXPECT_EQ(shown["color"], json({0, 128, 255}));
  ASSERT_EQ(shown["allowedSites"].size(), 1u);
  EXPECT_EQ(shown["allowedSites"][0]["meaning"], "Lung");
  // Without them the browser picks its defaults: nothing is invented here.
  const json plain = toJson(parseProtocol(minimal(), "test.json"))["labels"][0];
  EXPECT_FALSE(plain.contains("segmentCategory"));
  EXPECT_FALSE(plain.contains("color"));
  EXPECT_EQ(plain["allowedSites"], json::array());

  for (const json& bad : {json{0, 128}, json{0, 128, 256}, json{0, -1, 0}, json{0.5, 0, 0}, json("red")}) {
    j["labels"][0]["color"] = bad;
    EXPECT_NE(errorOf(j).find("labels[0].color: must be [red, green, blue], each 0-255"), std::string::npos) << bad;
  }
  j["labels"][0]["color"] = {0, 128, 255};
  j["labels"][0]["segmentCategory"] = {{"code", "91723000"}, {"scheme", "SCT"}};
  EXPECT_NE(errorOf(j).find("labels[0].segmentCategory: needs a non-empty string 'meaning'"), std::string::npos);
}

TEST(Protocols, AFolderWithABrokenFileNamesTheFile) {
  test::TempDir dir;
  test::writeFile(dir / "good.json", minimal().dump());
  test::writeFile(dir / "broken.json", "{ nope");
  try {
    ProtocolSet::loadDirectory(dir.path());
    FAIL() << "expected an error";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.json: not valid JSON"), std::string::npos);
  }
}
