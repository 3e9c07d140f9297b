#pragma once
// What every harness shares: the input as a string, and DICOM bytes parsed the way the product
// parses what arrives (all values read, nothing pointing back into the input).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "dicom/SourceImages.h"

namespace annot::fuzz {

inline std::string text(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// The dataset of a Part 10 file, or nothing when the bytes are refused (a clean refusal is the
// expected outcome for most inputs; only a crash or a sanitizer report is a finding).
inline bool parsed(const uint8_t* data, size_t size, DcmFileFormat& file) {
  try {
    parsePart10(text(data, size), "fuzz input", file);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace annot::fuzz
