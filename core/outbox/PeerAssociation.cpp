#include "outbox/PeerAssociation.h"

#include <stdexcept>

namespace annot {

PeerAssociation::PeerAssociation(const Destination& to, const std::string& callingAet, unsigned timeoutSeconds) : peer_(to.str()) {
  setAETitle(callingAet.c_str());
  setPeerAETitle(to.aeTitle.c_str());
  setPeerHostName(to.host.c_str());
  setPeerPort(to.port);
  setACSETimeout(timeoutSeconds);
  setDIMSETimeout(timeoutSeconds);
  setDIMSEBlockingMode(DIMSE_NONBLOCKING);
}

void PeerAssociation::propose(const std::string& sopClass, const std::vector<std::string>& transferSyntaxes) {
  OFList<OFString> syntaxes;
  for (const auto& ts : transferSyntaxes) syntaxes.push_back(ts.c_str());
  addPresentationContext(sopClass.c_str(), syntaxes);
}

void PeerAssociation::open(DcmTransportLayer* secure, const std::string& purpose) {
  OFCondition cond = initNetwork();
  if (cond.bad()) throw std::runtime_error(std::string("network: ") + cond.text());
  // DcmSCU keeps its transport-layer setter for subclasses (DcmTLSSCU builds a new layer from
  // files for every SCU); reaching it lets one configured layer serve every association.
  if (secure && (cond = useSecureConnection(secure)).bad()) throw std::runtime_error(std::string("TLS: ") + cond.text());
  if ((cond = negotiateAssociation()).bad()) throw std::runtime_error("association with " + peer_ + purpose + " failed: " + cond.text());
}

}  // namespace annot
