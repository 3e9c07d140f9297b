#include "outbox/PacsProbe.h"

#include "outbox/Destination.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <algorithm>
#include <stdexcept>

#include "common/Clock.h"
#include "common/Digest.h"
#include "dicom/Uid.h"

namespace annot {
namespace {
// As in cstore(): one configured TLS layer serves every association.
class Scu : public DcmSCU {
 public:
  using DcmSCU::useSecureConnection;
};

// Raw SHA-256 bytes of `text`, from the hex digest.
std::string sha256Bytes(const std::string& text) {
  const std::string hex = sha256Hex(text);
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}
}  // namespace

const std::vector<std::string>& resultSopClasses() {
  static const std::vector<std::string> classes = {UID_EnhancedSRStorage, UID_ComprehensiveSRStorage, UID_SegmentationStorage,
                                                   UID_KeyObjectSelectionDocumentStorage};
  return classes;
}

PacsCapabilities probePacs(const Destination& to, const std::string& callingAet, DcmTransportLayer* secure, unsigned timeoutSeconds) {
  Scu scu;
  scu.setAETitle(callingAet.c_str());
  scu.setPeerAETitle(to.aeTitle.c_str());
  scu.setPeerHostName(to.host.c_str());
  scu.setPeerPort(to.port);
  scu.setACSETimeout(timeoutSeconds);
  scu.setDIMSETimeout(timeoutSeconds);
  scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  OFList<OFString> syntaxes;
  syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
  syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_VerificationSOPClass, syntaxes);
  for (const auto& sopClass : resultSopClasses()) scu.addPresentationContext(sopClass.c_str(), syntaxes);
  OFCondition cond = scu.initNetwork();
  if (cond.bad()) throw std::runtime_error(std::string("network: ") + cond.text());
  if (secure && (cond = scu.useSecureConnection(secure)).bad()) throw std::runtime_error(std::string("TLS: ") + cond.text());
  if ((cond = scu.negotiateAssociation()).bad()) {
    throw std::runtime_error("association with " + to.str() + " for its capabilities failed: " + cond.text());
  }
  PacsCapabilities found;
  found.probedMs = nowMillis();
  for (const auto& sopClass : resultSopClasses()) {
    if (scu.findPresentationContextID(sopClass.c_str(), "") != 0) found.accepted.insert(sopClass);
  }
  found.echoed = scu.findPresentationContextID(UID_VerificationSOPClass, "") != 0 && scu.sendECHORequest(0).good();
  scu.releaseAssociation();
  return found;
}

FallbackDecision decideFallback(const PacsCapabilities& can, const std::string& destination, const std::string& sopClass,
                                const ResultFallback& fallback, bool canConvert) {
  using Action = FallbackDecision::Action;
  const auto& ours = resultSopClasses();
  if (std::find(ours.begin(), ours.end(), sopClass) == ours.end() || can.accepts(sopClass)) return {Action::Send, ""};
  const std::string refusal =
      destination + " does not accept " + dcmFindNameOfUID(sopClass.c_str(), sopClass.c_str()) + " (its association negotiation said so)";
  if (sopClass == UID_EnhancedSRStorage && fallback.enhancedSr == ResultFallback::EnhancedSr::Comprehensive &&
      can.accepts(UID_ComprehensiveSRStorage)) {
    if (canConvert) return {Action::SendAsComprehensiveSr, refusal};
    return {Action::Hold, refusal + ": held and retried (this deployment cannot send a Comprehensive SR copy)"};
  }
  if (sopClass == UID_SegmentationStorage && fallback.segmentation == ResultFallback::Segmentation::Skip) {
    return {Action::Skip, refusal + "; ResultFallback.Segmentation is skip"};
  }
  return {Action::Hold, refusal + ": held and retried (ResultFallback decides otherwise)"};
}

ResultFallback parseResultFallback(const std::string& segmentation, const std::string& enhancedSr) {
  ResultFallback f;
  if (segmentation == "hold") f.segmentation = ResultFallback::Segmentation::Hold;
  else if (segmentation == "skip") f.segmentation = ResultFallback::Segmentation::Skip;
  else throw std::invalid_argument("ResultFallback.Segmentation must be \"hold\" or \"skip\", not \"" + segmentation + "\"");
  if (enhancedSr == "comprehensive") f.enhancedSr = ResultFallback::EnhancedSr::Comprehensive;
  else if (enhancedSr == "hold") f.enhancedSr = ResultFallback::EnhancedSr::Hold;
  else throw std::invalid_argument("ResultFallback.EnhancedSR must be \"comprehensive\" or \"hold\", not \"" + enhancedSr + "\"");
  return f;
}

std::string segmentationFallbackName(ResultFallback::Segmentation s) { return s == ResultFallback::Segmentation::Skip ? "skip" : "hold"; }
std::string enhancedSrFallbackName(ResultFallback::EnhancedSr e) { return e == ResultFallback::EnhancedSr::Hold ? "hold" : "comprehensive"; }

std::string comprehensiveCopyUid(const std::string& enhancedSrUid) { return uidFromDigest(sha256Bytes("comprehensive-sr:" + enhancedSrUid)); }

}  // namespace annot
