// Pre-label drafting and provenance: which items stay the algorithm's, which the reader changed,
// and what the reader removed or added; a client cannot claim the algorithm's authorship.
#include <gtest/gtest.h>

#include "protocol/Protocol.h"
#include "worklist/Prelabels.h"

using namespace annot;
using nlohmann::json;

namespace {
SourceImage image(const std::string& uid) {
  SourceImage i;
  i.sopInstanceUid = uid;
  i.sopClassUid = "1.2.840.10008.5.1.4.1.1.2";
  i.studyInstanceUid = "1.2.9";
  i.seriesInstanceUid = "1.2.9.1";
  i.rows = 8;
  i.columns = 8;
  return i;
}

const json kNodule = {{"code", "27925004"}, {"scheme", "SCT"}, {"meaning", "Nodule"}};
const json kEmphysema = {{"code", "87433001"}, {"scheme", "SCT"}, {"meaning", "Pulmonary emphysema"}};
const json kPresent = {{"code", "52101004"}, {"scheme", "SCT"}, {"meaning", "Present"}};
const json kAbsent = {{"code", "2667000"}, {"scheme", "SCT"}, {"meaning", "Absent"}};

class PrelabelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    images.add(image("1.2.9.1.1"));
    protocol = parseProtocol(json{{"id", "p"}, {"version", "1"}, {"readers", 1}, {"title", "p"}, {"appliesTo", {{"modalities", {"CT"}}}},
                                  {"procedure", {{"code", "25045-6"}, {"scheme", "LN"}, {"meaning", "CT unspecified body region"}}},
                                  {"labels", {{{"key", "nodule"}, {"finding", kNodule}, {"geometries", {"bbox", "point"}}, {"segmentation", true}}}},
                                  {"classifications", {{{"key", "emphysema"}, {"concept", kEmphysema}, {"values", {kPresent, kAbsent}}}}}},
                             "test");
    json provenance = {{"source", "algorithm"}, {"algorithm", {{"name", "NoduleNet"}, {"version", "3.1"}}}, {"prelabel", "2.25.5"}};
    Prelabel sr;
    sr.id = 1;
    sr.sopInstanceUid = "2.25.5";
    sr.kind = "SR";
    sr.algorithm = {"NoduleNet", "3.1", "2.25.77", "", ""};
    sr.document = {{"observer", {{"type", "device"}, {"name", "NoduleNet"}, {"uid", "2.25.77"}}},
                   {"findings", {{{"finding", kNodule}, {"trackingUid", "2.25.100"}, {"trackingId", "n1"}, {"provenance", provenance},
                                  {"geometry", {{"type", "bbox"}, {"image", {{"sopInstanceUid", "1.2.9.1.1"}}}, {"points", {{1, 1}, {4, 4}}}}}},
                                 {{"finding", kNodule}, {"trackingUid", "2.25.101"}, {"trackingId", "n2"}, {"provenance", provenance},
                                  {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", "1.2.9.1.1"}}}, {"points", {{6, 6}}}}}},
                                 {{"finding", {{"code", "4147007"}, {"scheme", "SCT"}, {"meaning", "Mass"}}}, {"trackingUid", "2.25.102"},
                                  {"provenance", provenance},
                                  {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", "1.2.9.1.1"}}}, {"points", {{2, 6}}}}}}}},
                   {"classifications", {{{"concept", kEmphysema}, {"value", kPresent}, {"provenance", provenance}}}}};
    Prelabel seg;
    seg.id = 2;
    seg.sopInstanceUid = "2.25.6";
    seg.kind = "SEG";
    seg.algorithm = {"NoduleNet", "3.1", "2.25.77", "", ""};
    seg.document = {{"observer", {{"type", "device"}, {"name", "NoduleNet"}, {"uid", "2.25.77"}}},
                    {"segmentation", {{"segments", {{{"label", "Nodule"}, {"category", kNodule}, {"type", kNodule},
                                                     {"algorithm", {{"type", "AUTOMATIC"}, {"name", "NoduleNet"}}}}}},
                                      {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", "1.2.9.1.1"}}}, {"runs", {{9, 3}}}}}}}}};
    prelabels = {sr, seg};
  }

  // A reader's document: the draft as the reader changed it, resolved as the worklist does.
  AnnotationDocument saved(const json& findings, const json& classifications, const json& runs) {
    json doc = {{"observer", {{"name", "Reader^Rita"}}}, {"findings", findings}, {"classifications", classifications},
                {"segmentation", {{"segments", {{{"label", "Nodule"}, {"category", kNodule}, {"type", kNodule}, {"algorithm", {{"type", "MANUAL"}}}}}},
                                  {"masks", {{{"segment", 1}, {"image", {{"sopInstanceUid", "1.2.9.1.1"}}}, {"runs", runs}}}}}}};
    AnnotationDocument d = parseAnnotationDocument(doc);
    markProvenance(d, prelabels, images);
    return d;
  }

  SourceImageSet images;
  Protocol protocol;
  std::vector<Prelabel> prelabels;
};
}  // namespace

TEST_F(PrelabelTest, TheDraftOffersWhatTheProtocolAsksAndSaysWhatItLeavesOut) {
  const PrelabelDraft draft = draftFromPrelabels(prelabels, protocol, images);
  ASSERT_EQ(draft.document.findings.size(), 2u);
  EXPECT_EQ(draft.document.findings[0].label, "nodule");
  ASSERT_TRUE(draft.document.findings[0].provenance);
  EXPECT_EQ(draft.document.findings[0].provenance->algorithmName, "NoduleNet");
  ASSERT_EQ(draft.document.classifications.size(), 1u);
  EXPECT_EQ(draft.document.classifications[0].label, "emphysema");
  ASSERT_TRUE(draft.document.segmentation);
  EXPECT_EQ((*draft.document.segmentation)["masks"].size(), 1u);
  ASSERT_EQ(draft.notes.size(), 1u);
  EXPECT_NE(draft.notes[0].find("Mass"), std::string::npos) << draft.notes[0];

  SourceImageSet otherSeries;
  SourceImage elsewhere = image("1.2.9.2.1");
  otherSeries.add(elsewhere);
  const PrelabelDraft none = draftFromPrelabels(prelabels, protocol, otherSeries);
  EXPECT_TRUE(none.document.findings.empty()) << "a series task gets only its own images' items";
  EXPECT_FALSE(none.document.segmentation);
}

TEST_F(PrelabelTest, ProvenanceIsDecidedByComparisonNotByTheClient) {
  const json kept = {{"finding", kNodule}, {"trackingUid", "2.25.100"},
                     {"geometry", {{"type", "bbox"}, {"image", {{"sopInstanceUid", "1.2.9.1.1"}}}, {"points", {{1, 1}, {4, 4.004}}}}}};
  const json moved = {{"finding", kNodule}, {"trackingUid", "2.25.101"},
                      {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", "1.2.9.1.1"}}}, {"points", {{5, 6}}}}}};
  const json claimed = {{"finding", kNodule}, {"trackingUid", "2.25.999"},
                        {"provenance", {{"source", "algorithm"}, {"algorithm", {{"name", "NoduleNet"}}}}},
                        {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", "1.2.9.1.1"}}}, {"points", {{3, 3}}}}}};
  const AnnotationDocument d = saved(json::array({kept, moved, claimed}), json::array({{{"concept", kEmphysema}, {"value", kAbsent}}}), {{9, 3}});
  ASSERT_TRUE(d.findings[0].provenance);
  EXPECT_EQ(d.findings[0].provenance->source, Provenance::Source::Algorithm) << "a round trip's rounding is no edit";
  EXPECT_EQ(d.findings[0].provenance->prelabel, "2.25.5");
  ASSERT_TRUE(d.findings[1].provenance);
  EXPECT_EQ(d.findings[1].provenance->source, Provenance::Source::AlgorithmEdited);
  EXPECT_FALSE(d.findings[2].provenance) << "a client cannot make its own finding the algorithm's";
  ASSERT_TRUE(d.classifications[0].provenance);
  EXPECT_EQ(d.classifications[0].provenance->source, Provenance::Source::AlgorithmEdited) << "the reader answered otherwise";
  EXPECT_EQ((*d.segmentation)["segments"][0]["algorithm"]["type"], "AUTOMATIC");
  EXPECT_EQ((*d.segmentation)["segments"][0]["algorithm"]["name"], "NoduleNet");

  const AnnotationDocument painted = saved(json::array({kept}), json::array(), {{9, 4}});
  EXPECT_EQ((*painted.segmentation)["segments"][0]["algorithm"]["type"], "SEMIAUTOMATIC");
  const json use = provenanceSummary(painted, prelabels, images);
  EXPECT_EQ(use["findings"], json({{"kept", 1}, {"edited", 0}, {"removed", 2}, {"added", 0}})) << use.dump();
  EXPECT_EQ(use["segments"], json({{"kept", 0}, {"edited", 1}, {"removed", 0}, {"added", 0}}));
}

TEST_F(PrelabelTest, ProvenanceRoundTripsThroughTheDocumentAndRefusesNonsense) {
  const json finding = {{"finding", kNodule}, {"trackingUid", "2.25.100"},
                        {"geometry", {{"type", "bbox"}, {"image", {{"sopInstanceUid", "1.2.9.1.1"}}}, {"points", {{1, 1}, {4, 4}}}}}};
  const AnnotationDocument d = saved(json::array({finding}), json::array(), {{9, 3}});
  const AnnotationDocument back = parseAnnotationDocument(toJson(d));
  ASSERT_TRUE(back.findings[0].provenance);
  EXPECT_EQ(back.findings[0].provenance->algorithmVersion, "3.1");
  json bad = toJson(d);
  bad["findings"][0]["provenance"] = {{"source", "oracle"}};
  try {
    parseAnnotationDocument(bad);
    FAIL() << "accepted";
  } catch (const AnnotationError& e) {
    ASSERT_EQ(e.problems().size(), 2u);
    EXPECT_NE(e.problems()[0].find("provenance.source"), std::string::npos) << e.problems()[0];
  }
}
