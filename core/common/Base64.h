#pragma once
// Base64 encoding (RFC 4648): the standard alphabet with padding (XML's base64Binary, MIME) and
// the URL-safe one without (JSON Web Tokens).
#include <string>

namespace annot {

std::string base64Encode(const std::string& bytes);
std::string base64UrlEncodeUnpadded(const std::string& bytes);

}  // namespace annot
