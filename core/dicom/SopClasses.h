#pragma once
// What the product needs to know of a storage SOP class beyond its UID: whether its instances
// are multi-frame (frames are referenced by number) and whether it can be annotated at all.
#include <optional>
#include <string>

namespace annot {

// True for the classes whose IOD includes the Multi-frame Module or the Multi-frame Functional
// Groups (PS3.3): references to their instances name a frame (Referenced Frame Number).
// Decided by class, not by Number of Frames, which single-frame classes may carry too.
bool isMultiFrameSopClass(const std::string& sopClassUid);

// Why instances of this class cannot be labeled as images, in the product's words, or nullopt
// when they can: dose grids, waveforms, documents and other objects without a picture to read.
std::optional<std::string> notAnImageReason(const std::string& sopClassUid);

// "CT Image Storage" and the like (DCMTK's name), or the UID itself when unknown.
std::string sopClassName(const std::string& sopClassUid);

}  // namespace annot
