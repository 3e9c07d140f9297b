#include "dicom/Part10.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dctk.h>

#include <stdexcept>
#include <vector>

namespace annot {

namespace {
std::string encode(DcmFileFormat& object, E_TransferSyntax xfer) {
  std::string bytes;
  std::vector<char> chunk(1 << 20);
  DcmOutputBufferStream out(chunk.data(), chunk.size());
  auto drain = [&] {
    void* data = nullptr;
    offile_off_t length = 0;
    out.flushBuffer(data, length);
    bytes.append(static_cast<const char*>(data), static_cast<size_t>(length));
  };
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
}  // namespace

std::string part10Bytes(DcmFileFormat& object) {
  // Compressed pixel data cannot change transfer syntax without a codec: keep the original.
  const E_TransferSyntax original = object.getDataset()->getOriginalXfer();
  return encode(object, DcmXfer(original).isEncapsulated() ? original : EXS_LittleEndianExplicit);
}

std::string part10Bytes(DcmFileFormat& object, const std::string& transferSyntaxUid) {
  DcmDataset& dataset = *object.getDataset();
  const E_TransferSyntax original = dataset.getOriginalXfer();
  if (transferSyntaxUid.empty()) return encode(object, original);
  const E_TransferSyntax target = DcmXfer(transferSyntaxUid.c_str()).getXfer();
  if (target == EXS_Unknown) throw std::runtime_error("unknown transfer syntax " + transferSyntaxUid);
  if (target != original) {
    const OFCondition changed = dataset.chooseRepresentation(target, nullptr);
    if (changed.bad() || !dataset.canWriteXfer(target, original)) {
      throw std::runtime_error(std::string("cannot convert ") + DcmXfer(original).getXferName() + " to " + DcmXfer(target).getXferName() +
                               (changed.bad() ? std::string(": ") + changed.text() : std::string()));
    }
  }
  return encode(object, target);
}

}  // namespace annot
