#include "auth/JsonWebToken.h"

#include "common/Base64.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <vector>

namespace annot {
namespace {
using nlohmann::json;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

std::unique_ptr<BIGNUM, BnFree> bignum(const std::string& base64url) {
  const std::string bytes = base64UrlDecode(base64url);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr);
  if (!bn) throw TokenVerificationError("a key component is not a number");
  return std::unique_ptr<BIGNUM, BnFree>(bn);
}

// The RSA public key of a JWK {"kty": "RSA", "n", "e"}.
std::unique_ptr<EVP_PKEY, PkeyFree> rsaKey(const json& jwk) {
  if (jwk.value("kty", "") != "RSA" || !jwk.contains("n") || !jwk.contains("e")) throw TokenVerificationError("the key is not an RSA key");
  const auto n = bignum(jwk.at("n").get<std::string>()), e = bignum(jwk.at("e").get<std::string>());
  if (BN_num_bits(n.get()) < 2048) throw TokenVerificationError("the provider's RSA key is shorter than 2048 bits");
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    throw TokenVerificationError("cannot build the RSA key");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    throw TokenVerificationError("cannot build the RSA key");
  }
  return std::unique_ptr<EVP_PKEY, PkeyFree>(key);
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) parts.push_back(token.substr(start, dot - start));
  parts.push_back(token.substr(start));
  return parts;
}
}  // namespace

std::string base64UrlEncode(const std::string& bytes) { return base64UrlEncodeUnpadded(bytes); }

std::string base64UrlDecode(const std::string& text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else if (c == '=') break;
    else throw TokenVerificationError("not base64url");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

DecodedJwt decodeJwt(const std::string& token) {
  const auto parts = split(token);
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) throw TokenVerificationError("not a signed JWT (three parts)");
  DecodedJwt d;
  try {
    d.header = json::parse(base64UrlDecode(parts[0]));
    d.claims = json::parse(base64UrlDecode(parts[1]));
  } catch (const json::exception&) {
    throw TokenVerificationError("the token's header or claims are not JSON");
  }
  if (!d.header.is_object() || !d.claims.is_object()) throw TokenVerificationError("the token's header or claims are not objects");
  return d;
}

std::optional<json> verifyJwt(const std::string& token, const json& jwks) {
  const DecodedJwt d = decodeJwt(token);
  const std::string alg = d.header.value("alg", "");
  const EVP_MD* digest = alg == "RS256" ? EVP_sha256() : alg == "RS384" ? EVP_sha384() : alg == "RS512" ? EVP_sha512() : nullptr;
  if (!digest) throw TokenVerificationError("signature algorithm '" + alg + "' is not accepted (RS256, RS384 or RS512)");
  const std::string kid = d.header.value("kid", "");
  // Held here: `key` points into it after the loop.
  const json candidates = jwks.value("keys", json::array());
  const json* key = nullptr;
  size_t rsaKeys = 0;
  for (const auto& k : candidates) {
    if (k.value("kty", "") != "RSA" || (k.contains("use") && k["use"] != "sig")) continue;
    ++rsaKeys;
    if (kid.empty() ? !key : k.value("kid", "") == kid) key = &k;
  }
  if (!key || (kid.empty() && rsaKeys != 1)) return std::nullopt;
  const auto pkey = rsaKey(*key);
  const size_t lastDot = token.rfind('.');
  const std::string signed_ = token.substr(0, lastDot);
  const std::string signature = base64UrlDecode(token.substr(lastDot + 1));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr, pkey.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(signed_.data()), signed_.size()) != 1) {
    throw TokenVerificationError("the signature does not verify with the provider's key '" + key->value("kid", "") + "'");
  }
  return d.claims;
}

}  // namespace annot
