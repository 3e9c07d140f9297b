#pragma once
// Where the plugin's results go: stored into Orthanc (POST /instances), and from there to
// Orthanc's own modalities and peers through the durable outbox.
#include <functional>
#include <string>
#include <vector>

#include "orthanc/OrthancRest.h"
#include "orthanc/OrthancStudyIndex.h"
#include "outbox/Outbox.h"
#include "worklist/ResultSink.h"

namespace annot {

class OrthancResultSink : public ResultSink {
 public:
  // `storing` learns each result's SOP Instance UID before Orthanc does, so the change that
  // announces it can be recognised as the plugin's own output.
  OrthancResultSink(OrthancRest& rest, std::function<void(const std::string& sop)> storing)
      : rest_(rest), storing_(std::move(storing)) {}
  void store(DcmFileFormat& object) override;

 private:
  OrthancRest& rest_;
  std::function<void(const std::string&)> storing_;
};

// Sends through Orthanc: "modality:NAME" with /modalities/NAME/store (C-STORE by Orthanc),
// "peer:NAME" with /peers/NAME/store (HTTP to another Orthanc). Orthanc answers synchronously.
class OrthancTransport : public OutboxTransport {
 public:
  OrthancTransport(OrthancRest& rest, OrthancStudyIndex& index, std::vector<std::string> destinations)
      : rest_(rest), index_(index), destinations_(std::move(destinations)) {}
  std::vector<std::string> destinations() const override { return destinations_; }
  Delivery send(const std::string& destination, const std::string& sopInstanceUid) override;

 private:
  OrthancRest& rest_;
  OrthancStudyIndex& index_;
  std::vector<std::string> destinations_;
};

}  // namespace annot
