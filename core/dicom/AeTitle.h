#pragma once
#include <string>

namespace annot {
// An AE title per PS3.5 (VR AE): 1-16 characters of the default repertoire, no backslash or
// control characters, not only spaces.
bool isValidAeTitle(const std::string& aet);
}  // namespace annot
