#pragma once
// The real validators every SR and SEG the product writes must satisfy: dicom3tools'
// dciodvfy and PixelMed's DicomSRValidator. Each returns its full output and error count.
#include <gtest/gtest.h>

#include <string>

namespace annot::test {

struct ValidatorResult {
  int errors = 0;
  bool completed = false;  // the validator ran to its end
  std::string output;
};

// dciodvfy on `path`, which must be recognised as the IOD `iod` ("EnhancedSR", "Segmentation",
// "KeyObjectSelectionDocument"): `completed` only when dciodvfy ran and named that IOD, so a
// validator that could not start, or read the file as something else, never passes.
ValidatorResult dciodvfy(const std::string& path, const std::string& iod);
// Succeeds when dciodvfy recognised `iod` in `path` and reported no error; says why not.
::testing::AssertionResult passesDciodvfy(const std::string& path, const std::string& iod);
ValidatorResult pixelmedSrValidator(const std::string& path);

}  // namespace annot::test
