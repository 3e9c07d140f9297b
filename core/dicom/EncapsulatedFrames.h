#pragma once
// The compressed bytes of each frame of encapsulated pixel data, as stored (PS3.5 A.4): what a
// WADO-RS client that takes the stored compression (transfer-syntax=*) decodes itself.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace annot {

// Where the frames cannot be told apart in the stored fragments, or the pixel data is not
// encapsulated.
class EncapsulatedFramesError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Which fragments hold which frame. A frame is found, in order of preference, from the Extended
// Offset Table (7FE0,0001), from the Basic Offset Table, from one fragment per frame when the
// counts match, and for JPEG-family and JPEG 2000 streams from the fragments that open a code
// stream (SOI, SOC, or a JP2 signature box). Fragment numbers are 1-based indexes into the pixel
// sequence (item 0 is the Basic Offset Table).
class EncapsulatedFrames {
 public:
  // `dataset` holds encapsulated Pixel Data in `transferSyntax` and `frameCount` frames.
  EncapsulatedFrames(DcmDataset& dataset, E_TransferSyntax transferSyntax, unsigned frameCount);

  unsigned frameCount() const { return static_cast<unsigned>(starts_.size()); }
  // Frame `number` (1-based): its fragments' values one after another.
  std::string frame(unsigned number) const;
  // The index in the pixel sequence of frame `number`'s first fragment: the start DCMTK's
  // decoders need, which they cannot find themselves without an offset table.
  unsigned firstFragment(unsigned number) const;

 private:
  bool fromOffsets(const std::vector<Uint64>& offsets);
  bool fromCodeStreamStarts(E_TransferSyntax transferSyntax);

  DcmPixelSequence* sequence_ = nullptr;
  unsigned fragments_ = 0;       // items after the Basic Offset Table
  std::vector<unsigned> starts_;  // first fragment of each frame; the next one's start ends it
};

}  // namespace annot
