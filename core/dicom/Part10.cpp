#include "dicom/Part10.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dctk.h>

#include <stdexcept>
#include <vector>

namespace annot {

std::string part10Bytes(DcmFileFormat& object) {
  std::string bytes;
  std::vector<char> chunk(1 << 20);
  DcmOutputBufferStream out(chunk.data(), chunk.size());
  auto drain = [&] {
    void* data = nullptr;
    offile_off_t length = 0;
    out.flushBuffer(data, length);
    bytes.append(static_cast<const char*>(data), static_cast<size_t>(length));
  };
  // Compressed pixel data cannot change transfer syntax without a codec: keep the original.
  const E_TransferSyntax original = object.getDataset()->getOriginalXfer();
  const E_TransferSyntax xfer = DcmXfer(original).isEncapsulated() ? original : EXS_LittleEndianExplicit;
  object.transferInit();
  OFCondition status = object.write(out, xfer, EET_ExplicitLength, nullptr);
  while (status == EC_StreamNotifyClient) {
    drain();
    status = object.write(out, xfer, EET_ExplicitLength, nullptr);
  }
  object.transferEnd();
  if (status.bad()) throw std::runtime_error(std::string("cannot encode result: ") + status.text());
  drain();
  return bytes;
}

}  // namespace annot
