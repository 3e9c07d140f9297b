#include "common/SecureRandom.h"

#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

#include "common/Digest.h"

namespace annot {
std::string randomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) throw std::runtime_error("no randomness available for secrets");
  return toHex(buf.data(), bytes);
}
}  // namespace annot
