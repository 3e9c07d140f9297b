#include "dicom/Codecs.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <mutex>

namespace annot {

void registerDecoders() {
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

bool decodableToExplicitLittle(const std::string& transferSyntaxUid) {
  const DcmXfer xfer(transferSyntaxUid.c_str());
  if (xfer.getXfer() == EXS_Unknown) return false;
  if (!xfer.isEncapsulated()) return true;
  registerDecoders();
  return DcmCodecList::canChangeCoding(xfer.getXfer(), EXS_LittleEndianExplicit);
}

}  // namespace annot
