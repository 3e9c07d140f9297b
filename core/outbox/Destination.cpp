#include "outbox/Destination.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <stdexcept>

#include "dicom/AeTitle.h"
#include "dicom/DatasetAccess.h"
#include "outbox/PeerAssociation.h"

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
// One C-STORE over a new association: of the file at `path`, or of `dataset` when given.
uint16_t storeOver(const Destination& to, const std::string& callingAet, const OFString& sopClass, E_TransferSyntax ts,
                   const std::string& path, DcmDataset* dataset, DcmTransportLayer* secure, unsigned timeoutSeconds) {
  PeerAssociation scu(to, callingAet, timeoutSeconds);
  std::vector<std::string> syntaxes = {DcmXfer(ts).getXferID()};
  if (ts != EXS_LittleEndianExplicit) syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
  syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.propose(sopClass.c_str(), syntaxes);
  scu.open(secure, "");
  Uint16 status = 0;
  const OFCondition cond = dataset ? scu.sendSTORERequest(0, "", dataset, status) : scu.sendSTORERequest(0, path.c_str(), nullptr, status);
  scu.releaseAssociation();
  if (cond.bad()) throw std::runtime_error("C-STORE to " + to.str() + " failed: " + cond.text());
  return status;
}

// The header of a stored file (SOP class, transfer syntax), without its values: sending reads
// the file itself, and a SEG can be hundreds of megabytes.
void readHeader(const std::string& path, DcmFileFormat& file) {
  const OFCondition cond = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kHeaderValuesOnly);
  if (cond.bad()) throw std::runtime_error("cannot read " + path + ": " + cond.text());
}
}  // namespace

uint16_t cstore(const Destination& to, const std::string& callingAet, const std::string& path, DcmTransportLayer* secure,
                unsigned timeoutSeconds) {
  DcmFileFormat file;
  readHeader(path, file);
  OFString sopClass;
  file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sopClass);
  return storeOver(to, callingAet, sopClass, file.getDataset()->getOriginalXfer(), path, nullptr, secure, timeoutSeconds);
}

std::vector<std::string> DimseTransport::destinations() const {
  std::vector<std::string> names;
  for (const auto& p : peers_) names.push_back(p.str());
  return names;
}

Delivery DimseTransport::send(const std::string& destination, const std::string& sopInstanceUid) {
  const auto peer = std::find_if(peers_.begin(), peers_.end(), [&](const Destination& p) { return p.str() == destination; });
  if (peer == peers_.end()) throw std::runtime_error("destination " + destination + " is not configured");
  const std::string path = pathOf_(sopInstanceUid);
  DcmFileFormat header;
  readHeader(path, header);
  OFString sopClassText;
  header.getDataset()->findAndGetOFString(DCM_SOPClassUID, sopClassText);
  const std::string sopClass = sopClassText.c_str();
  DcmTransportLayer* secure = secureFor_ ? secureFor_(*peer) : nullptr;
  const PacsCapabilities& can = capabilities_.get(destination, [&] { return probePacs(*peer, callingAet_, secure); });
  const FallbackDecision decision = decideFallback(can, destination, sopClass, fallback_);
  using Action = FallbackDecision::Action;
  if (decision.action == Action::Send) {
    try {
      return Delivery{storeOver(*peer, callingAet_, sopClassText, header.getDataset()->getOriginalXfer(), path, nullptr, secure, 30), false, ""};
    } catch (const std::exception&) {
      capabilities_.forget(destination);  // asked again before the next attempt: the PACS may have changed
      throw;
    }
  }
  if (decision.action == Action::SendAsComprehensiveSr) {
    // The same document as a Comprehensive SR, whose IOD allows everything an Enhanced SR holds;
    // a UID derived from the original, so a second attempt sends the same instance.
    DcmFileFormat file;
    const OFCondition loaded = file.loadFile(path.c_str());
    if (loaded.bad()) throw std::runtime_error("cannot read " + path + ": " + loaded.text());
    const std::string uid = comprehensiveCopyUid(sopInstanceUid);
    DcmDataset& ds = *file.getDataset();
    if (ds.putAndInsertString(DCM_SOPClassUID, UID_ComprehensiveSRStorage).bad() ||
        ds.putAndInsertString(DCM_SOPInstanceUID, uid.c_str()).bad()) {
      throw std::runtime_error("cannot make a Comprehensive SR of " + sopInstanceUid);
    }
    try {
      const uint16_t status = storeOver(*peer, callingAet_, UID_ComprehensiveSRStorage, ds.getOriginalXfer(), "", &ds, secure, 30);
      return Delivery{status, false, "sent as Comprehensive SR " + uid + ": " + decision.reason};
    } catch (const std::exception&) {
      capabilities_.forget(destination);
      throw;
    }
  }
  if (decision.action == Action::Skip) return Delivery{0, true, decision.reason};
  // Held. What the PACS accepts is asked again when the answer is 10 minutes old, not at every
  // held item: a PACS without SEG would otherwise get a probe for each of them each round.
  throw std::runtime_error(decision.reason);
}

}  // namespace annot
