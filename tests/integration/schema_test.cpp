// The published JSON Schemas (docs/*.schema.json) say what the product's parsers accept: the
// examples and shipped protocols pass both, and documents the parsers refuse for their shape
// are refused by the schemas too. Checked with Ajv (draft 2020-12), the validator most JSON
// tooling uses.
#include <gtest/gtest.h>

#include <filesystem>

#include "NodeHarness.h"
#include "annotation/AnnotationDocument.h"
#include "protocol/Protocol.h"
#include "seg/Segmentation.h"

using namespace annot;
using namespace annot::test;
using nlohmann::json;

namespace {
const std::string kSource = std::string(ANNOT_WORKSTATION_SOURCE_DIR) + "/..";

// Ajv's verdict on each file: file -> errors (empty when valid).
std::map<std::string, std::vector<std::string>> schemaVerdicts(const std::string& kind, const std::vector<std::string>& files) {
  std::vector<std::string> argv{"node", std::string(ANNOT_COMPAT_DIR) + "/validate-schemas.mjs", kSource + "/docs", kind};
  argv.insert(argv.end(), files.begin(), files.end());
  const CommandResult r = runCommand(argv);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  std::map<std::string, std::vector<std::string>> out;
  const json report = json::parse(r.output.substr(r.output.find('{')), nullptr, false);
  if (report.is_discarded()) {
    ADD_FAILURE() << r.output;
    return out;
  }
  for (const auto& result : report["results"]) out[result["file"]] = result["errors"].get<std::vector<std::string>>();
  return out;
}

// Whether the product's own parser takes the document.
bool parserAccepts(const std::string& kind, const json& doc) {
  try {
    if (kind == "annotation") parseAnnotationDocument(doc);
    else if (kind == "protocol") parseProtocol(doc, "test");
    else parseSegmentation(doc, SourceImageSet{}, /*masksRequired=*/false);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

json code(const char* value, const char* scheme, const char* meaning) { return {{"code", value}, {"scheme", scheme}, {"meaning", meaning}}; }
}  // namespace

TEST(Schemas, AgreeWithTheParsersOnExamplesProtocolsAndBrokenDocuments) {
  TempDir tmp;
  struct Case {
    std::string kind, name;
    json doc;
  };
  std::vector<Case> cases;
  for (const auto& f : listFiles(kSource + "/docs/examples", ".json")) cases.push_back({"annotation", f, json::parse(readFile(f))});
  for (const auto& f : listFiles(kSource + "/sr-templates/protocols", ".json")) cases.push_back({"protocol", f, json::parse(readFile(f))});
  const json segmentation = {{"segments", {{{"label", "Lesion"}, {"category", code("49755003", "SCT", "Morphologically Altered Structure")},
                                            {"type", code("52988006", "SCT", "Lesion")}, {"color", {230, 60, 40}}}}}};
  cases.push_back({"segmentation", "segments", segmentation});
  // Broken documents, each in one way the parser refuses for its shape.
  json example = json::parse(readFile(kSource + "/docs/examples/lung-nodule-annotation.json"));
  json shape = example;
  shape["findings"][0]["geometry"]["type"] = "hexagon";
  cases.push_back({"annotation", "unknown geometry", shape});
  json noCode = example;
  noCode["findings"][0]["findingSite"].erase("scheme");
  cases.push_back({"annotation", "finding site without a scheme", noCode});
  json notAList = example;
  notAList["findings"] = "none";
  cases.push_back({"annotation", "findings not a list", notAList});
  json protocol = json::parse(readFile(kSource + "/sr-templates/protocols/chest-xray-findings.json"));
  json noReaders = protocol;
  noReaders["readers"] = 0;
  cases.push_back({"protocol", "no readers", noReaders});
  json badGeometry = protocol;
  badGeometry["labels"][0]["geometries"] = {"hexagon"};
  cases.push_back({"protocol", "unknown geometry", badGeometry});
  json badColour = segmentation;
  badColour["segments"][0]["color"] = {300, 0, 0};
  cases.push_back({"segmentation", "colour out of range", badColour});
  json noSegments = segmentation;
  noSegments["segments"] = json::array();
  cases.push_back({"segmentation", "no segments", noSegments});

  std::map<std::string, std::vector<std::string>> filesByKind;
  std::map<std::string, const Case*> byFile;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string file = tmp / (std::to_string(i) + ".json");
    writeFile(file, cases[i].doc.dump());
    filesByKind[cases[i].kind].push_back(file);
    byFile[file] = &cases[i];
  }
  size_t accepted = 0, refused = 0;
  for (const auto& [kind, files] : filesByKind) {
    for (const auto& [file, errors] : schemaVerdicts(kind, files)) {
      const Case& c = *byFile.at(file);
      const bool parser = parserAccepts(kind, c.doc);
      EXPECT_EQ(errors.empty(), parser) << kind << " '" << c.name << "': the parser " << (parser ? "accepts" : "refuses")
                                        << " it, the schema says " << (errors.empty() ? "valid" : ::testing::PrintToString(errors));
      (parser ? accepted : refused)++;
    }
  }
  EXPECT_EQ(accepted, 6u) << "examples, protocols and a segmentation";
  EXPECT_EQ(refused, 7u) << "the broken documents";
}
