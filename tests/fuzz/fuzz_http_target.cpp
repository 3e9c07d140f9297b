// The request target of every HTTP request: path and query, percent-decoded.
#include <map>

#include "FuzzSupport.h"
#include "http/HttpMessage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string target = annot::fuzz::text(data, size);
  std::string path;
  std::multimap<std::string, std::string> query;
  if (annot::parseRequestTarget(target, path, query)) annot::encodeQuery(query);
  bool ok = false;
  annot::percentDecode(target, true, ok);
  return 0;
}
