#pragma once
// Small, forgiving accessors for reading DICOM datasets, shared by every reader in core.
#include <cstdint>
#include <string>

#include "annotation/Code.h"

class DcmDataset;
class DcmItem;
class DcmTagKey;

namespace annot {
// How much of each value a load reads (DCMTK's maxReadLength): all of it, or, for header-only
// reads, values up to this length (pixel data and other bulk data stay unread until used).
constexpr uint32_t kLoadAllValues = 0xFFFFFFFFu;  // DCMTK's own DCM_MaxReadLength is only 4096
constexpr uint32_t kHeaderValuesOnly = 4096;

// The whole value (all of its VM, backslash-separated) with trailing padding removed; "" when
// absent.
std::string getString(DcmItem& item, const DcmTagKey& tag);
// The first item of a code sequence as a Code (Long/URN Code Value when there is no Code Value).
Code getCode(DcmItem& item, const DcmTagKey& sequence);
// Converts a dataset's text to UTF-8 (its Specific Character Set becomes ISO_IR 192) unless it
// already is UTF-8 or ASCII. Returns why it could not, naming the character set; "" when done.
std::string convertToUtf8(DcmDataset& dataset);
// A DS value of at most 16 characters, as precise as fits.
std::string decimalString(double value);
}  // namespace annot
