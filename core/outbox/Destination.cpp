#include "outbox/Destination.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/scu.h>

#include <stdexcept>

#include "dicom/AeTitle.h"
#include "dicom/DatasetAccess.h"

namespace annot {

std::optional<Destination> parseDestination(const std::string& text) {
  const auto at = text.find('@');
  const auto colon = text.rfind(':');
  if (at == std::string::npos || colon == std::string::npos || colon < at) return std::nullopt;
  Destination d{text.substr(0, at), text.substr(at + 1, colon - at - 1), 0};
  const std::string port = text.substr(colon + 1);
  if (!isValidAeTitle(d.aeTitle) || d.host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) == 0 || std::stoul(port) > 65535) {
    return std::nullopt;
  }
  d.port = static_cast<uint16_t>(std::stoul(port));
  return d;
}

namespace {
// DcmSCU keeps its transport-layer setter for subclasses (DcmTLSSCU builds a new layer from
// files for every SCU); reaching it lets one configured layer serve every association.
class Scu : public DcmSCU {
 public:
  using DcmSCU::useSecureConnection;
};
}  // namespace

uint16_t cstore(const Destination& to, const std::string& callingAet, const std::string& path, DcmTransportLayer* secure,
                unsigned timeoutSeconds) {
  // The header only, for the SOP class and transfer syntax: sendSTORERequest reads the file
  // itself, and a SEG can be hundreds of megabytes.
  DcmFileFormat file;
  OFCondition cond = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kHeaderValuesOnly);
  if (cond.bad()) throw std::runtime_error("cannot read " + path + ": " + cond.text());
  OFString sopClass, xfer;
  file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sopClass);
  const E_TransferSyntax ts = file.getDataset()->getOriginalXfer();
  Scu scu;
  scu.setAETitle(callingAet.c_str());
  scu.setPeerAETitle(to.aeTitle.c_str());
  scu.setPeerHostName(to.host.c_str());
  scu.setPeerPort(to.port);
  scu.setACSETimeout(timeoutSeconds);
  scu.setDIMSETimeout(timeoutSeconds);
  scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  OFList<OFString> syntaxes;
  syntaxes.push_back(DcmXfer(ts).getXferID());
  if (ts != EXS_LittleEndianExplicit) syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
  syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(sopClass, syntaxes);
  if ((cond = scu.initNetwork()).bad()) throw std::runtime_error(std::string("network: ") + cond.text());
  if (secure && (cond = scu.useSecureConnection(secure)).bad()) throw std::runtime_error(std::string("TLS: ") + cond.text());
  if ((cond = scu.negotiateAssociation()).bad()) throw std::runtime_error("association with " + to.str() + " failed: " + cond.text());
  Uint16 status = 0;
  cond = scu.sendSTORERequest(0, path.c_str(), nullptr, status);
  scu.releaseAssociation();
  if (cond.bad()) throw std::runtime_error("C-STORE to " + to.str() + " failed: " + cond.text());
  return status;
}

std::vector<std::string> DimseTransport::destinations() const {
  std::vector<std::string> names;
  for (const auto& p : peers_) names.push_back(p.str());
  return names;
}

uint16_t DimseTransport::send(const std::string& destination, const std::string& sopInstanceUid) {
  for (const auto& p : peers_) {
    if (p.str() == destination) return cstore(p, callingAet_, pathOf_(sopInstanceUid), secureFor_ ? secureFor_(p) : nullptr);
  }
  throw std::runtime_error("destination " + destination + " is not configured");
}

}  // namespace annot
