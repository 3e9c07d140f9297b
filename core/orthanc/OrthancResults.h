#pragma once
// Where the plugin's results go: stored into Orthanc (POST /instances), and from there to
// Orthanc's own modalities and peers through the durable outbox.
#include <functional>
#include <string>
#include <vector>

#include "orthanc/OrthancRest.h"
#include "orthanc/OrthancStudyIndex.h"
#include "outbox/Destination.h"
#include "outbox/Outbox.h"
#include "outbox/PacsProbe.h"
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
// A modality is first asked what it accepts (probePacs, with the address Orthanc has for it; not
// over DICOM TLS, which Orthanc keeps to itself): a SEG it refuses is held or skipped as
// `fallback` says; an Enhanced SR it refuses is held (Orthanc sends only what it stores, so no
// Comprehensive SR copy is made here).
class OrthancTransport : public OutboxTransport {
 public:
  OrthancTransport(OrthancRest& rest, OrthancStudyIndex& index, std::vector<std::string> destinations, ResultFallback fallback = {})
      : rest_(rest), index_(index), destinations_(std::move(destinations)), fallback_(fallback) {}
  std::vector<std::string> destinations() const override { return destinations_; }
  Delivery send(const std::string& destination, const std::string& sopInstanceUid) override;

 private:
  // What the modality accepts, asked at the address Orthanc has for it; not known (sent all)
  // when it is reached over DICOM TLS.
  PacsCapabilities probeModality(const std::string& modality);

  OrthancRest& rest_;
  OrthancStudyIndex& index_;
  std::vector<std::string> destinations_;
  ResultFallback fallback_;
  PacsCapabilityCache capabilities_;  // by destination
};

}  // namespace annot
