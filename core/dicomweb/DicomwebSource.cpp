#include "dicomweb/DicomwebSource.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include "dicom/SourceImages.h"

namespace annot::dicomweb {

void DicomwebSource::load(const StoredInstance& instance, DcmFileFormat& file, bool /*headersOnly*/) {
  parsePart10(fileBytes(instance), "stored instance " + instance.sopUid, file);
}

}  // namespace annot::dicomweb
