#pragma once
// Decoding compressed pixel data for clients that ask for it uncompressed (WADO-RS frames,
// rendered previews, instances in Explicit VR Little Endian).
#include <string>

namespace annot {

// Registers DCMTK's JPEG, JPEG-LS and RLE decoders. DCMTK keeps its codec list per process, so
// this is done once (later calls do nothing); JPEG 2000 has no decoder in DCMTK.
void registerDecoders();

// Whether a dataset stored in `transferSyntaxUid` can be written as Explicit VR Little Endian
// here: any uncompressed or deflated syntax, or a compressed one with a registered decoder.
bool decodableToExplicitLittle(const std::string& transferSyntaxUid);

}  // namespace annot
