#include "dicomweb/DicomwebSource.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include "dicom/PiecesInputStream.h"
#include "dicom/SourceImages.h"

namespace annot::dicomweb {

void DicomwebSource::load(const StoredInstance& instance, DcmFileFormat& file, bool headersOnly) {
  if (!headersOnly) {
    parsePart10(fileBytes(instance), "stored instance " + instance.sopUid, file);
    return;
  }
  // Values over 4 KiB are left in the fetched bytes (which the parsed object keeps alive) and
  // read only if used, as a file-backed source leaves them on disk.
  PiecesInputStream in(std::make_shared<const std::string>(fileBytes(instance)));
  file.transferInit();
  OFCondition status = file.read(in, EXS_Unknown, EGL_noChange, 4096);
  file.transferEnd();
  if (status == EC_StreamNotifyClient) status = EC_EndOfStream;  // the whole object was there
  if (status.bad()) throw std::runtime_error("stored instance " + instance.sopUid + " is not readable DICOM: " + status.text());
}

}  // namespace annot::dicomweb
