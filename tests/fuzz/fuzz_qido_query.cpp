// QIDO-RS search parameters at each level, down to the SQL they become.
#include <map>

#include "FuzzSupport.h"
#include "dicomweb/QidoModel.h"
#include "http/HttpMessage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path;
  std::multimap<std::string, std::string> query;
  if (!annot::parseRequestTarget("/dicomweb/studies?" + annot::fuzz::text(data, size), path, query)) return 0;
  for (auto level : {annot::dicomweb::Level::Study, annot::dicomweb::Level::Series, annot::dicomweb::Level::Instance}) {
    try {
      annot::dicomweb::toSql(annot::dicomweb::parseQuery(level, query));
    } catch (const std::exception&) {
    }
  }
  return 0;
}
