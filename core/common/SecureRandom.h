#pragma once
// Secrets (tokens, session ids, CSRF tokens) from OpenSSL's CSPRNG.
#include <cstddef>
#include <string>

namespace annot {
// Lower-case hex of `bytes` random bytes; throws when no randomness is available.
std::string randomHex(size_t bytes);
}  // namespace annot
