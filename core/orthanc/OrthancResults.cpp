#include "orthanc/OrthancResults.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include "config/PluginConfig.h"
#include "dicom/DatasetAccess.h"
#include "dicom/Part10.h"
#include "orthanc/OrthancDicomwebSource.h"

namespace annot {

void OrthancResultSink::store(DcmFileFormat& object) {
  if (storing_) storing_(getString(*object.getDataset(), DCM_SOPInstanceUID));
  const IngestResult stored = storeIntoOrthanc(rest_, part10Bytes(object));
  if (stored.status != store_status::Success) throw std::runtime_error("result not stored: " + stored.message);
}

PacsCapabilities OrthancTransport::probeModality(const std::string& modality) {
  const nlohmann::json config = rest_.getJson("/modalities/" + modality + "/configuration");
  if (config.value("UseDicomTls", false)) {  // Orthanc keeps the TLS keys
    PacsCapabilities unknown;
    unknown.known = false;
    return unknown;
  }
  std::string callingAet = config.value("LocalAet", "");
  if (callingAet.empty()) callingAet = rest_.getJson("/system").value("DicomAet", "ORTHANC");
  const Destination peer{config.value("AET", ""), config.value("Host", ""), static_cast<uint16_t>(config.value("Port", 0))};
  return probePacs(peer, callingAet);
}

Delivery OrthancTransport::send(const std::string& destination, const std::string& sopInstanceUid) {
  OrthancDestination to;
  if (!parseOrthancDestination(destination, to)) throw std::runtime_error("destination " + destination + " is not modality:NAME or peer:NAME");
  const std::string id = index_.orthancId(sopInstanceUid, "Instance");
  if (id.empty()) throw std::runtime_error("instance " + sopInstanceUid + " is not in Orthanc");
  if (to.kind == OrthancDestination::Kind::Modality) {
    const PacsCapabilities& can = capabilities_.get(destination, [&] { return probeModality(to.name); });
    if (can.known) {
      const std::string sopClass = rest_.getBytes("/instances/" + id + "/metadata/SopClassUid");
      const FallbackDecision decision = decideFallback(can, destination, sopClass, fallback_, /*canConvert=*/false);
      if (decision.action == FallbackDecision::Action::Skip) return Delivery{0, true, decision.reason};
      // Held: asked again once the answer is 10 minutes old, not for every held item.
      if (decision.action != FallbackDecision::Action::Send) throw std::runtime_error(decision.reason);
    }
  }
  const std::string uri = (to.kind == OrthancDestination::Kind::Modality ? "/modalities/" : "/peers/") + to.name + "/store";
  // Orthanc answers 200 once the destination acknowledged; a refusal or a network failure is
  // an error answer whose message the outbox records.
  try {
    rest_.postJson(uri, nlohmann::json{{"Resources", {id}}, {"Synchronous", true}}.dump());
  } catch (const std::exception&) {
    capabilities_.forget(destination);
    throw;
  }
  return Delivery{};
}

}  // namespace annot
