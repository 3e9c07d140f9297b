#include "outbox/ExportingResultSink.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

namespace annot {

void ExportingResultSink::store(DcmFileFormat& object) {
  inner_.store(object);
  if (destinations_.empty()) return;
  OFString sop;
  object.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop);
  outbox_.enqueue(sop.c_str(), destinations_);
  if (sender_) sender_->wake();
}

}  // namespace annot
