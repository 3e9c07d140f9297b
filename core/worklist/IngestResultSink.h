#pragma once
#include "ingest/IngestPipeline.h"
#include "worklist/ResultSink.h"

namespace annot {

// The node's ResultSink: results enter storage and catalog exactly as received instances do.
class IngestResultSink : public ResultSink {
 public:
  // `source` is recorded as the sending AE title of the stored results (our own AE title).
  IngestResultSink(IngestPipeline& pipeline, std::string source) : pipeline_(pipeline), source_(std::move(source)) {}
  void store(DcmFileFormat& object) override;

 private:
  IngestPipeline& pipeline_;
  std::string source_;
};

}  // namespace annot
