#pragma once
#include "ingest/IngestPipeline.h"
#include "worklist/ResultSink.h"

namespace annot {

// The node's ResultSink: results enter storage and catalog exactly as received instances do.
class IngestResultSink : public ResultSink {
 public:
  explicit IngestResultSink(IngestPipeline& pipeline) : pipeline_(pipeline) {}
  void store(DcmFileFormat& object) override;

 private:
  IngestPipeline& pipeline_;
};

}  // namespace annot
