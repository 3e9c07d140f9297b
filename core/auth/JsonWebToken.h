#pragma once
// Verification of a JSON Web Token signed with RSA (RS256/384/512, RFC 7515/7518) against a
// JSON Web Key Set: what an OpenID provider's ID token needs. Unsigned ("none"), HMAC and
// unknown algorithms are refused, never "verified".
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace annot {

class TokenVerificationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DecodedJwt {
  nlohmann::json header;
  nlohmann::json claims;
};

// Splits and decodes without verifying (to read `kid` before fetching keys). Throws on a
// malformed token.
DecodedJwt decodeJwt(const std::string& token);
// Verifies the signature with the RSA key of `jwks` ({"keys": [...]}) whose kid matches the
// header's (or the only RSA key when the header names none). Returns the claims; throws
// TokenVerificationError saying why not. `jwks` lacking the key: std::nullopt (fetch again).
std::optional<nlohmann::json> verifyJwt(const std::string& token, const nlohmann::json& jwks);

std::string base64UrlEncode(const std::string& bytes);
std::string base64UrlDecode(const std::string& text);  // throws TokenVerificationError

}  // namespace annot
