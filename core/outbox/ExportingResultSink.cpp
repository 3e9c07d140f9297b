#include "outbox/ExportingResultSink.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include "dicom/DatasetAccess.h"

namespace annot {

void ExportingResultSink::store(DcmFileFormat& object) {
  inner_.store(object);
  if (destinations_.empty()) return;
  outbox_.enqueue(getString(*object.getDataset(), DCM_SOPInstanceUID), destinations_);
  if (sender_) sender_->wake();
}

}  // namespace annot
