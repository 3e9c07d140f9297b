#pragma once
// What a DICOM destination accepts, asked the standard way before results are sent: one
// association proposing Verification and the SOP classes the product writes, then a C-ECHO.
// Which contexts the PACS accepted is its answer; nothing is stored.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

class DcmTransportLayer;

namespace annot {

struct Destination;

struct PacsCapabilities {
  bool known = true;                     // false: the destination could not be asked (taken to accept all)
  bool echoed = false;                   // the association came up and C-ECHO succeeded
  std::set<std::string> accepted;        // SOP class UIDs of the accepted presentation contexts
  int64_t probedMs = 0;
  bool accepts(const std::string& sopClassUid) const { return !known || accepted.count(sopClassUid) > 0; }
};

// What each destination accepts, asked again when the answer is 10 minutes old or forgotten
// (after a failed send). The outbox's one sending thread uses it.
class PacsCapabilityCache {
 public:
  const PacsCapabilities& get(const std::string& destination, const std::function<PacsCapabilities()>& probe);
  void forget(const std::string& destination) { known_.erase(destination); }

 private:
  std::map<std::string, PacsCapabilities> known_;
};

// The SOP classes the product sends as results: Enhanced and Comprehensive SR, Segmentation,
// Key Object Selection.
const std::vector<std::string>& resultSopClasses();

// Throws std::runtime_error when no association came up (down, refused, TLS).
PacsCapabilities probePacs(const Destination& to, const std::string& callingAet, DcmTransportLayer* secure = nullptr,
                           unsigned timeoutSeconds = 30);

// What to do with a result a destination does not accept (configured per node or plugin).
struct ResultFallback {
  // Segmentation not accepted: keep it owed, retried and reported ("hold"), or give it up for
  // that destination ("skip"; recorded as skipped, the other results still go).
  enum class Segmentation { Hold, Skip } segmentation = Segmentation::Hold;
  // Enhanced SR not accepted: send the same document as a Comprehensive SR ("comprehensive",
  // under a UID derived from the original) or keep it owed ("hold").
  enum class EnhancedSr { Comprehensive, Hold } enhancedSr = EnhancedSr::Comprehensive;
};

// What to do with one result for one destination, given what it accepts.
struct FallbackDecision {
  enum class Action { Send, SendAsComprehensiveSr, Skip, Hold } action = Action::Send;
  std::string reason;  // for anything but Send: which class the destination refused, and what follows
};
// `canConvert`: the transport can send a Comprehensive SR copy (the plugin cannot: Orthanc only
// sends what it stores).
FallbackDecision decideFallback(const PacsCapabilities& can, const std::string& destination, const std::string& sopClassUid,
                                const ResultFallback& fallback, bool canConvert = true);

// Reads {"Segmentation": "hold"|"skip", "EnhancedSR": "comprehensive"|"hold"}; throws
// std::invalid_argument naming what is wrong.
ResultFallback parseResultFallback(const std::string& segmentation, const std::string& enhancedSr);
std::string segmentationFallbackName(ResultFallback::Segmentation s);
std::string enhancedSrFallbackName(ResultFallback::EnhancedSr e);

// The UID of the Comprehensive SR sent in place of an Enhanced SR: derived from the original,
// so that sending it again sends the same instance.
std::string comprehensiveCopyUid(const std::string& enhancedSrUid);

}  // namespace annot
