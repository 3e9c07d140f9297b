#pragma once
#include <string>

namespace annot {
// A UID per PS3.5 §9: 1-64 characters, digits separated by single dots. Leading zeros in a
// component are tolerated (real modalities emit them) but empty components are not.
bool isValidUid(const std::string& uid);
// Strips the trailing NUL/space padding DICOM allows on UI values.
std::string trimUid(std::string uid);
}  // namespace annot
