#include "dicomweb/DicomwebSource.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include "dicom/SourceImages.h"

namespace annot::dicomweb {

void DicomwebSource::load(const StoredInstance& instance, DcmFileFormat& file, bool headersOnly) {
  // With headersOnly, values over 4 KiB stay in the fetched bytes and are read only if used, as
  // a file-backed source leaves them on disk.
  parsePart10(std::make_shared<const std::string>(fileBytes(instance)), "stored instance " + instance.sopUid, file,
              headersOnly ? kHeaderValuesOnly : kLoadAllValues);
}

}  // namespace annot::dicomweb
