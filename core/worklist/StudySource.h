#pragma once
// Where the worklist learns about a study: its facts (for protocol matching) and its images
// (to validate annotations against). The node reads its catalog and file store; the Orthanc
// plugin will read Orthanc.
#include <optional>
#include <string>

#include "dicom/SourceImages.h"
#include "protocol/Protocol.h"

namespace annot {

class StudySource {
 public:
  virtual ~StudySource() = default;
  virtual std::optional<StudyFacts> facts(const std::string& studyInstanceUid) = 0;
  virtual SourceImageSet images(const std::string& studyInstanceUid) = 0;
};

}  // namespace annot
