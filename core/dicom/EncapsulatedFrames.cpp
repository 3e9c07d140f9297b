#include "dicom/EncapsulatedFrames.h"

#include <dcmtk/dcmdata/dcpxitem.h>

#include <algorithm>
#include <cstring>

namespace annot {
namespace {
DcmPixelItem* itemAt(DcmPixelSequence& sequence, unsigned index) {
  DcmPixelItem* item = nullptr;
  if (sequence.getItem(item, index).bad() || !item) {
    throw EncapsulatedFramesError("the pixel data has no fragment " + std::to_string(index));
  }
  return item;
}

// The first bytes of a fragment (fewer when it is shorter).
std::string headOf(DcmPixelItem& item, size_t count) {
  Uint8* bytes = nullptr;
  if (item.getUint8Array(bytes).bad() || !bytes) return {};
  return std::string(reinterpret_cast<const char*>(bytes), std::min<size_t>(count, item.getLength()));
}

bool isJpegFamily(E_TransferSyntax ts) {
  const DcmXfer xfer(ts);
  return xfer.isEncapsulated() && (ts == EXS_JPEGProcess1 || ts == EXS_JPEGProcess2_4 || ts == EXS_JPEGProcess14 ||
                                   ts == EXS_JPEGProcess14SV1 || ts == EXS_JPEGLSLossless || ts == EXS_JPEGLSLossy);
}

bool isJpeg2000(E_TransferSyntax ts) {
  return ts == EXS_JPEG2000LosslessOnly || ts == EXS_JPEG2000 || ts == EXS_JPEG2000MulticomponentLosslessOnly ||
         ts == EXS_JPEG2000Multicomponent;
}
}  // namespace

EncapsulatedFrames::EncapsulatedFrames(DcmDataset& dataset, E_TransferSyntax transferSyntax, unsigned frameCount) {
  DcmElement* element = nullptr;
  auto* pixels = dataset.findAndGetElement(DCM_PixelData, element).good() ? dynamic_cast<DcmPixelData*>(element) : nullptr;
  if (!pixels || pixels->getEncapsulatedRepresentation(transferSyntax, nullptr, sequence_).bad() || !sequence_) {
    throw EncapsulatedFramesError("the pixel data is not encapsulated in " + std::string(DcmXfer(transferSyntax).getXferName()));
  }
  const unsigned items = static_cast<unsigned>(sequence_->card());
  if (items < 2) throw EncapsulatedFramesError("the encapsulated pixel data has no fragments");
  fragments_ = items - 1;
  if (frameCount == 0) frameCount = 1;
  if (frameCount == 1) {  // a single frame may span any number of fragments (PS3.5 A.4)
    starts_ = {1};
    return;
  }

  // Extended Offset Table (OV): 64-bit offsets, relative to the first fragment's item tag.
  std::vector<Uint64> offsets;
  DcmElement* extended = nullptr;
  Uint64* wide = nullptr;
  if (dataset.findAndGetElement(DCM_ExtendedOffsetTable, extended).good() && extended &&
      extended->getLength() == 8ull * frameCount && extended->getUint64Array(wide).good() && wide) {
    offsets.assign(wide, wide + frameCount);
  }
  if (offsets.empty()) {
    // The Basic Offset Table is an OB item: 32-bit little endian offsets, read byte by byte.
    DcmPixelItem* table = itemAt(*sequence_, 0);
    Uint8* raw = nullptr;
    if (table->getLength() == 4ull * frameCount && table->getUint8Array(raw).good() && raw) {
      for (unsigned i = 0; i < frameCount; ++i) {
        const Uint8* b = raw + 4 * i;
        offsets.push_back(Uint64(b[0]) | Uint64(b[1]) << 8 | Uint64(b[2]) << 16 | Uint64(b[3]) << 24);
      }
    }
  }
  if (!offsets.empty() && fromOffsets(offsets)) return;
  if (fragments_ == frameCount) {
    for (unsigned i = 1; i <= frameCount; ++i) starts_.push_back(i);
    return;
  }
  if (fromCodeStreamStarts(transferSyntax) && starts_.size() == frameCount) return;
  throw EncapsulatedFramesError("cannot tell where each of the " + std::to_string(frameCount) + " frames starts in " +
                                std::to_string(fragments_) + " fragments (no offset table, and fragments do not open code streams)");
}

bool EncapsulatedFrames::fromOffsets(const std::vector<Uint64>& offsets) {
  if (offsets.empty() || offsets.front() != 0) return false;  // frame 1 starts with the first fragment
  // Each item takes 8 bytes of tag and length before its value.
  std::vector<unsigned> starts;
  Uint64 position = 0;
  size_t next = 0;
  for (unsigned i = 1; i <= fragments_ && next < offsets.size(); ++i) {
    if (offsets[next] == position) {
      starts.push_back(i);
      ++next;
    } else if (offsets[next] < position) {
      return false;  // an offset inside a fragment, or not ascending
    }
    position += 8 + itemAt(*sequence_, i)->getLength();
  }
  if (next != offsets.size()) return false;
  starts_ = std::move(starts);
  return true;
}

bool EncapsulatedFrames::fromCodeStreamStarts(E_TransferSyntax transferSyntax) {
  static const std::string kSoi("\xFF\xD8", 2);                       // JPEG, JPEG-LS
  static const std::string kSoc("\xFF\x4F\xFF\x51", 4);               // JPEG 2000 code stream
  static const std::string kJp2("\x00\x00\x00\x0C\x6A\x50\x20\x20", 8);  // JP2 signature box
  if (!isJpegFamily(transferSyntax) && !isJpeg2000(transferSyntax)) return false;
  std::vector<unsigned> starts;
  for (unsigned i = 1; i <= fragments_; ++i) {
    const std::string head = headOf(*itemAt(*sequence_, i), 8);
    const bool opens = isJpegFamily(transferSyntax) ? head.rfind(kSoi, 0) == 0 : head.rfind(kSoc, 0) == 0 || head == kJp2;
    if (opens) starts.push_back(i);
  }
  if (starts.empty() || starts.front() != 1) return false;
  starts_ = std::move(starts);
  return true;
}

unsigned EncapsulatedFrames::firstFragment(unsigned number) const {
  if (number == 0 || number > starts_.size()) {
    throw EncapsulatedFramesError("frame " + std::to_string(number) + " does not exist");
  }
  return starts_[number - 1];
}

std::string EncapsulatedFrames::frame(unsigned number) const {
  const unsigned first = firstFragment(number);
  const unsigned end = number < starts_.size() ? starts_[number] : fragments_ + 1;
  std::string bytes;
  for (unsigned i = first; i < end; ++i) {
    DcmPixelItem* item = itemAt(*sequence_, i);
    Uint8* value = nullptr;
    if (item->getLength() == 0) continue;
    if (item->getUint8Array(value).bad() || !value) throw EncapsulatedFramesError("cannot read fragment " + std::to_string(i));
    bytes.append(reinterpret_cast<const char*>(value), item->getLength());
  }
  return bytes;
}

}  // namespace annot
