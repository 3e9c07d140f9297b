#pragma once
// Small, forgiving accessors for reading DICOM datasets, shared by every reader in core.
#include <string>

#include "annotation/Code.h"

class DcmDataset;
class DcmItem;
class DcmTagKey;

namespace annot {
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
