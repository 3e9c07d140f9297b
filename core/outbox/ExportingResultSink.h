#pragma once
#include "outbox/Outbox.h"
#include "worklist/ResultSink.h"

namespace annot {

// Stores a result where it belongs first (the inner sink), then owes it to every destination.
class ExportingResultSink : public ResultSink {
 public:
  ExportingResultSink(ResultSink& inner, Outbox& outbox, std::vector<std::string> destinations, OutboxSender* sender)
      : inner_(inner), outbox_(outbox), destinations_(std::move(destinations)), sender_(sender) {}
  void store(DcmFileFormat& object) override;

 private:
  ResultSink& inner_;
  Outbox& outbox_;
  std::vector<std::string> destinations_;
  OutboxSender* sender_;
};

}  // namespace annot
