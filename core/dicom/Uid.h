#pragma once
#include <string>

namespace annot {
// A UID per PS3.5 §9: 1-64 characters, digits separated by single dots. Leading zeros in a
// component are tolerated (real modalities emit them) but empty components are not.
bool isValidUid(const std::string& uid);
// Strips the trailing NUL/space padding DICOM allows on UI values.
std::string trimUid(std::string uid);
// A UID under 2.25 (PS3.5 B.2) from the first 16 bytes of a digest (at least 16 bytes long),
// keeping 122 bits as UUID-derived UIDs do: the same digest always gives the same UID.
std::string uidFromDigest(const std::string& digest);
}  // namespace annot
