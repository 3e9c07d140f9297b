// An ID token from an OpenID provider (decoded, then checked against a fixed key set).
#include "FuzzSupport.h"
#include "auth/JsonWebToken.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::json keys = {
      {"keys",
       {{{"kty", "RSA"}, {"kid", "k1"}, {"use", "sig"}, {"e", "AQAB"},
         {"n", "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkh"
               "slANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTT"
               "AumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}}}}};
  const std::string token = annot::fuzz::text(data, size);
  try {
    annot::decodeJwt(token);
    annot::verifyJwt(token, keys);
  } catch (const std::exception&) {
  }
  return 0;
}
