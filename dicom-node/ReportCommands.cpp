#include "ReportCommands.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "annotation/AnnotationValidator.h"
#include "dicom/SourceImages.h"
#include "protocol/Protocol.h"
#include "sr/MeasurementReportReader.h"
#include "sr/MeasurementReportWriter.h"

namespace annot::node {
namespace {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string readText(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const char* kMakeSrUsage =
    "usage: dicom-node make-sr --annotation A.json --images PATH... --out SR.dcm [options]\n"
    "  --images PATH...      files or folders holding the referenced images (one study)\n"
    "  --protocols DIR       labeling protocols (default: the shipped sr-templates/protocols)\n"
    "  --ohif-editable       Cornerstone3D tracking identifiers and layout: OHIF re-opens the\n"
    "                        measurements as editable tools\n"
    "  --partial             CompletionFlag PARTIAL (default COMPLETE)\n"
    "  --verified-by NAME    VerificationFlag VERIFIED with this verifying observer (Family^Given)\n"
    "  --predecessor SR.dcm  the report this one revises (Predecessor Documents Sequence)\n"
    "  --series-uid UID      put the report into this series (revisions keep their series)\n"
    "  --series-number N, --instance-number N\n";
}  // namespace

int makeSrCommand(const std::vector<std::string>& args) {
  std::string annotationPath, outPath, protocolsDir = ANNOT_DEFAULT_PROTOCOLS_DIR, predecessor;
  std::vector<std::string> imagePaths;
  SrWriteOptions options;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) throw UsageError(a + " needs a value");
        return args[++i];
      };
      if (a == "--annotation") annotationPath = value();
      else if (a == "--out") outPath = value();
      else if (a == "--protocols") protocolsDir = value();
      else if (a == "--images") {
        while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) imagePaths.push_back(args[++i]);
      } else if (a == "--ohif-editable") options.ohifEditable = true;
      else if (a == "--partial") options.complete = false;
      else if (a == "--verified-by") options.verifiedBy = value();
      else if (a == "--predecessor") predecessor = value();
      else if (a == "--series-uid") options.seriesInstanceUid = value();
      else if (a == "--series-number") options.seriesNumber = value();
      else if (a == "--instance-number") options.instanceNumber = value();
      else if (a == "--help") {
        std::cout << kMakeSrUsage;
        return 0;
      } else throw UsageError("unknown option '" + a + "'");
    }
    if (annotationPath.empty() || outPath.empty() || imagePaths.empty()) {
      throw UsageError("--annotation, --images and --out are required");
    }
  } catch (const UsageError& e) {
    std::cerr << "dicom-node make-sr: " << e.what() << '\n' << kMakeSrUsage;
    return 2;
  }

  try {
    const AnnotationDocument input = parseAnnotationDocument(readText(annotationPath));
    const SourceImageSet images = SourceImageSet::load(imagePaths);
    ProtocolSet protocols;
    const Protocol* protocol = nullptr;
    if (input.protocol) {
      protocols = ProtocolSet::loadDirectory(protocolsDir);
      protocol = protocols.find(input.protocol->id, input.protocol->version);
    }
    const AnnotationDocument resolved = resolveAnnotation(input, images, protocol);
    if (!predecessor.empty()) options.predecessor = sopReferenceOfFile(predecessor);
    const SrWriteResult result = writeMeasurementReportFile(resolved, images, protocol, options, outPath);
    std::cout << nlohmann::json{{"file", outPath},
                                {"sopInstanceUid", result.sopInstanceUid},
                                {"seriesInstanceUid", result.seriesInstanceUid},
                                {"studyInstanceUid", result.studyInstanceUid},
                                {"findings", resolved.findings.size()},
                                {"classifications", resolved.classifications.size()}}
                     .dump(2)
              << '\n';
    return 0;
  } catch (const AnnotationError& e) {
    std::cerr << "dicom-node make-sr: " << annotationPath << ": " << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dicom-node make-sr: " << e.what() << '\n';
    return 1;
  }
}

int readSrCommand(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].rfind("--", 0) == 0) {
    std::cerr << "usage: dicom-node read-sr SR.dcm   (prints the annotation model as JSON)\n";
    return 2;
  }
  try {
    const MeasurementReportContent content = readMeasurementReportFile(args[0]);
    std::cout << toJson(content).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "dicom-node read-sr: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace annot::node
