#pragma once
// The real validators every SR and SEG the product writes must satisfy: dicom3tools'
// dciodvfy and PixelMed's DicomSRValidator. Each returns its full output and error count.
#include <string>

namespace annot::test {

struct ValidatorResult {
  int errors = 0;
  bool completed = false;  // the validator ran to its end
  std::string output;
};

ValidatorResult dciodvfy(const std::string& path);
ValidatorResult pixelmedSrValidator(const std::string& path);

}  // namespace annot::test
