#include "worklist/IngestResultSink.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <stdexcept>

namespace annot {

void IngestResultSink::store(DcmFileFormat& object) {
  const std::string scratch = pipeline_.newIncomingPath();
  const OFCondition saved = object.saveFile(scratch.c_str(), EXS_LittleEndianExplicit);
  if (saved.bad()) throw std::runtime_error(std::string("cannot write result: ") + saved.text());
  const IngestResult result = pipeline_.ingest(ReceivedObject{scratch, "", "", source_});
  if (result.status != store_status::Success) {
    throw std::runtime_error("storing the result failed (status " + std::to_string(result.status) + "): " + result.message);
  }
}

}  // namespace annot
