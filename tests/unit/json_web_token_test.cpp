// ID token verification: a token signed by the provider's RSA key verifies; a changed claim,
// another key, an unsigned or HMAC token never do.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <vector>

#include "auth/JsonWebToken.h"

using namespace annot;
using nlohmann::json;

namespace {
struct Key {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey{nullptr, EVP_PKEY_free};
  json jwk;
};

Key makeKey(const std::string& kid) {
  Key k;
  k.pkey.reset(EVP_RSA_gen(2048));
  BIGNUM *n = nullptr, *e = nullptr;
  EVP_PKEY_get_bn_param(k.pkey.get(), OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(k.pkey.get(), OSSL_PKEY_PARAM_RSA_E, &e);
  auto bytes = [](BIGNUM* b) {
    std::string s(static_cast<size_t>(BN_num_bytes(b)), '\0');
    BN_bn2bin(b, reinterpret_cast<unsigned char*>(s.data()));
    BN_free(b);
    return s;
  };
  k.jwk = {{"kty", "RSA"}, {"kid", kid}, {"use", "sig"}, {"alg", "RS256"}, {"n", base64UrlEncode(bytes(n))}, {"e", base64UrlEncode(bytes(e))}};
  return k;
}

std::string sign(const Key& key, const json& header, const json& claims) {
  const std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t length = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.pkey.get()), 1);
  EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string signature(length, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  signature.resize(length);
  return input + "." + base64UrlEncode(signature);
}
}  // namespace

TEST(JsonWebToken, OnlyTheProvidersRsaSignatureOverTheTokenAsSentVerifies) {
  const Key provider = makeKey("k1"), other = makeKey("k2");
  const json jwks = {{"keys", {provider.jwk}}};
  const json claims = {{"iss", "https://idp"}, {"sub", "rad1"}, {"groups", {"radiologists"}}};
  const std::string good = sign(provider, {{"alg", "RS256"}, {"kid", "k1"}}, claims);
  const auto verified = verifyJwt(good, jwks);
  ASSERT_TRUE(verified.has_value());
  EXPECT_EQ((*verified)["sub"], "rad1");

  // A claim changed after signing (made an admin) breaks the signature.
  const auto dot1 = good.find('.'), dot2 = good.rfind('.');
  json forgedClaims = claims;
  forgedClaims["groups"] = {"labeling-admins"};
  const std::string tampered = good.substr(0, dot1 + 1) + base64UrlEncode(forgedClaims.dump()) + good.substr(dot2);
  EXPECT_THROW(verifyJwt(tampered, jwks), TokenVerificationError);
  // Signed by another key under the provider's key id.
  EXPECT_THROW(verifyJwt(sign(other, {{"alg", "RS256"}, {"kid", "k1"}}, claims), jwks), TokenVerificationError);
  // A key id the set does not have: fetch the keys again (nullopt), never accept.
  EXPECT_FALSE(verifyJwt(sign(other, {{"alg", "RS256"}, {"kid", "k2"}}, claims), jwks).has_value());
  // Unsigned and symmetric tokens are refused whatever they carry.
  EXPECT_THROW(verifyJwt(base64UrlEncode(json{{"alg", "none"}}.dump()) + "." + base64UrlEncode(claims.dump()) + ".", jwks),
               TokenVerificationError);
  EXPECT_THROW(verifyJwt(base64UrlEncode(json{{"alg", "HS256"}, {"kid", "k1"}}.dump()) + "." + base64UrlEncode(claims.dump()) + ".c2ln", jwks),
               TokenVerificationError);
  EXPECT_THROW(verifyJwt("not-a-token", jwks), TokenVerificationError);
}

TEST(JsonWebToken, Base64UrlRoundTrips) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\xff\x00\x10", 3)}) EXPECT_EQ(base64UrlDecode(base64UrlEncode(s)), s);
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
}
