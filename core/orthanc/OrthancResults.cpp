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

Delivery OrthancTransport::send(const std::string& destination, const std::string& sopInstanceUid) {
  OrthancDestination to;
  if (!parseOrthancDestination(destination, to)) throw std::runtime_error("destination " + destination + " is not modality:NAME or peer:NAME");
  const std::string id = index_.orthancId(sopInstanceUid, "Instance");
  if (id.empty()) throw std::runtime_error("instance " + sopInstanceUid + " is not in Orthanc");
  const std::string uri = (to.kind == OrthancDestination::Kind::Modality ? "/modalities/" : "/peers/") + to.name + "/store";
  // Orthanc answers 200 once the destination acknowledged; a refusal or a network failure is
  // an error answer whose message the outbox records.
  rest_.postJson(uri, nlohmann::json{{"Resources", {id}}, {"Synchronous", true}}.dump());
  return Delivery{};
}

}  // namespace annot
