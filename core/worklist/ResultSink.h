#pragma once
// Where the DICOM objects the worklist produces (SR, SEG) go first. The node hands them to its
// own ingest pipeline (so they are durable, indexed and in the source study); the Orthanc
// plugin will post them to Orthanc.
#include <string>

class DcmFileFormat;

namespace annot {

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  // Stores the object durably; throws with a message when it cannot.
  virtual void store(DcmFileFormat& object) = 0;
};

}  // namespace annot
