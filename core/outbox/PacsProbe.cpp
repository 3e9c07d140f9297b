#include "outbox/PacsProbe.h"

#include "outbox/Destination.h"
#include "outbox/PeerAssociation.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <stdexcept>

#include "common/Clock.h"
#include "common/Digest.h"
#include "common/Log.h"
#include "dicom/Uid.h"

namespace annot {

const std::vector<std::string>& resultSopClasses() {
  static const std::vector<std::string> classes = {UID_EnhancedSRStorage, UID_ComprehensiveSRStorage, UID_SegmentationStorage,
                                                   UID_KeyObjectSelectionDocumentStorage};
  return classes;
}

PacsCapabilities probePacs(const Destination& to, const std::string& callingAet, DcmTransportLayer* secure, unsigned timeoutSeconds) {
  PeerAssociation scu(to, callingAet, timeoutSeconds);
  const std::vector<std::string> syntaxes = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};
  scu.propose(UID_VerificationSOPClass, syntaxes);
  for (const auto& sopClass : resultSopClasses()) scu.propose(sopClass, syntaxes);
  scu.open(secure, " for its capabilities");
  PacsCapabilities found;
  for (const auto& sopClass : resultSopClasses()) {
    if (scu.findPresentationContextID(sopClass.c_str(), "") != 0) found.accepted.insert(sopClass);
  }
  found.echoed = scu.findPresentationContextID(UID_VerificationSOPClass, "") != 0 && scu.sendECHORequest(0).good();
  scu.releaseAssociation();
  return found;
}

const PacsCapabilities& PacsCapabilityCache::get(const std::string& destination, const std::function<PacsCapabilities()>& probe) {
  constexpr int64_t kStaleMs = 10 * 60 * 1000;
  const auto known = known_.find(destination);
  if (known != known_.end() && nowMillis() - known->second.probedMs < kStaleMs) return known->second;
  PacsCapabilities found = probe();
  found.probedMs = nowMillis();
  if (!found.known) {
    LOG_INFO("outbox", destination << " cannot be asked what it accepts; every result is sent to it");
  } else {
    std::string accepted;
    for (const auto& sopClass : found.accepted) accepted += (accepted.empty() ? "" : ", ") + std::string(dcmFindNameOfUID(sopClass.c_str(), sopClass.c_str()));
    LOG_INFO("outbox", destination << " accepts " << (accepted.empty() ? std::string("none of the result classes") : accepted)
                                   << (found.echoed ? "; C-ECHO answered" : "; no C-ECHO"));
  }
  return known_[destination] = std::move(found);
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

std::string comprehensiveCopyUid(const std::string& enhancedSrUid) { return uidFromDigest(sha256("comprehensive-sr:" + enhancedSrUid)); }

}  // namespace annot
