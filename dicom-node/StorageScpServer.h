#pragma once
// Binds core's IngestPipeline to DICOM: a DCMTK SCP pool answering C-ECHO and C-STORE for all
// storage SOP classes, one worker thread per association.
#include <memory>

#include "config/NodeConfig.h"
#include "ingest/IngestPipeline.h"
#include "metrics/Metrics.h"
#include "storage/AsyncWriter.h"

class DcmTLSTransportLayer;

namespace annot::node {

class StorageScpServer {
 public:
  // `tls`, when given, makes the port TLS-only; borrowed, it must outlive the server.
  StorageScpServer(const NodeConfig& config, IngestPipeline& pipeline, Metrics& metrics, DcmTLSTransportLayer* tls = nullptr);
  ~StorageScpServer();
  // Listens until stop(); returns after the in-flight associations have finished.
  // Throws std::runtime_error when the port cannot be opened.
  void run();
  // Thread-safe; new associations are no longer accepted.
  void stop();
  bool secure() const { return tls_ != nullptr; }

 private:
  class Pool;
  AsyncWriterPool writers_;  // declared first: outlives the associations that borrow from it
  DcmTLSTransportLayer* tls_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace annot::node
