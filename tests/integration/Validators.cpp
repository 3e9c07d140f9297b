#include "Validators.h"

#include <sstream>

#include "support/TestSupport.h"

namespace annot::test {
namespace {
int countErrorLines(const std::string& output) {
  int errors = 0;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Error", 0) == 0) ++errors;
  }
  return errors;
}
}  // namespace

ValidatorResult dciodvfy(const std::string& path, const std::string& iod) {
  const CommandResult r = runCommand({"dciodvfy", path});
  ValidatorResult v;
  v.output = r.output;
  v.errors = countErrorLines(r.output);
  // dciodvfy prints the IOD it validated against on a line of its own.
  bool named = false;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) named = named || line == iod;
  v.completed = r.exitCode >= 0 && named;
  return v;
}

::testing::AssertionResult passesDciodvfy(const std::string& path, const std::string& iod) {
  const ValidatorResult v = dciodvfy(path, iod);
  if (!v.completed) return ::testing::AssertionFailure() << "dciodvfy did not validate " << path << " as " << iod << ":\n" << v.output;
  if (v.errors != 0) return ::testing::AssertionFailure() << v.errors << " dciodvfy error(s) in " << path << ":\n" << v.output;
  return ::testing::AssertionSuccess();
}

ValidatorResult pixelmedSrValidator(const std::string& path) {
  // PixelMed's XPath-heavy checks exceed the JDK's default XML limits; its exit code is always
  // 0, so the output is what tells.
  const CommandResult r = runCommand({"java", "-Djdk.xml.xpathExprGrpLimit=0", "-Djdk.xml.xpathExprOpLimit=0",
                                      "-Djdk.xml.xpathTotalOpLimit=0", "-cp", "/usr/share/java/pixelmed.jar",
                                      "com.pixelmed.validate.DicomSRValidator", path},
                                     std::chrono::minutes(3));
  ValidatorResult v;
  v.output = r.output;
  v.errors = countErrorLines(r.output);
  v.completed = r.output.find("IOD validation complete") != std::string::npos;
  return v;
}

}  // namespace annot::test
