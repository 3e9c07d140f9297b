#include "annotation/Code.h"

namespace annot {

std::string parseCode(const nlohmann::json& j, Code& out) {
  if (!j.is_object()) return "must be a coded concept {\"code\", \"scheme\", \"meaning\"}";
  for (const char* key : {"code", "scheme", "meaning"}) {
    if (!j.contains(key) || !j.at(key).is_string() || j.at(key).get<std::string>().empty()) {
      return std::string("needs a non-empty string '") + key + "'";
    }
  }
  out.value = j.at("code").get<std::string>();
  out.scheme = j.at("scheme").get<std::string>();
  out.meaning = j.at("meaning").get<std::string>();
  // PS3.3: Code Value SH (16), Coding Scheme Designator SH (16), Code Meaning LO (64); long
  // code values (URN, > 16) would need LongCodeValue, which viewers rarely read.
  if (out.value.size() > 16) return "code value '" + out.value + "' is longer than 16 characters";
  if (out.scheme.size() > 16) return "coding scheme '" + out.scheme + "' is longer than 16 characters";
  if (out.meaning.size() > 64) return "code meaning is longer than 64 characters";
  return "";
}

nlohmann::json toJson(const Code& code) {
  return {{"code", code.value}, {"scheme", code.scheme}, {"meaning", code.meaning}};
}

}  // namespace annot
