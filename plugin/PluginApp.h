#pragma once
// The plugin's wiring: core's worklist, API, audit and outbox over Orthanc's index and storage.
// Built once at plugin initialisation (no REST calls then: Orthanc's API is not up yet); the
// threads that call Orthanc start when Orthanc reports it has started.
#include <orthanc/OrthancCPlugin.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "SdkRest.h"
#include "api/ApiHandler.h"
#include "audit/AtnaForwarder.h"
#include "audit/AuditLog.h"
#include "auth/UserStore.h"
#include "config/PluginConfig.h"
#include "dicomweb/DicomwebService.h"
#include "metrics/Metrics.h"
#include "orthanc/OrthancChangeFeed.h"
#include "orthanc/OrthancRejectionHonour.h"
#include "orthanc/OrthancDicomwebSource.h"
#include "orthanc/OrthancResults.h"
#include "orthanc/OrthancStudyIndex.h"
#include "outbox/ExportingResultSink.h"
#include "outbox/Outbox.h"
#include "protocol/Protocol.h"
#include "state/StateDatabase.h"
#include "worklist/IndexedStudySource.h"
#include "worklist/OwedResults.h"
#include "worklist/Worklist.h"

namespace annot::plugin {

class PluginApp {
 public:
  static constexpr const char* kPrefix = "/annotation";
  PluginApp(OrthancPluginContext* context, const PluginConfig& config);
  ~PluginApp();

  void serve(const std::string& path, const OrthancPluginHttpRequest* request, OrthancPluginRestOutput* output);
  void orthancStarted();
  void orthancStopping();
  void changed() { feed_.wake(); }
  // The script that adds the worklist buttons to Orthanc Explorer (a file of the workstation's
  // build); empty when it is missing, which is logged.
  const std::string& orthancExplorerExtension() const { return explorerExtension_; }

 private:
  bool isOwnOutput(const std::string& sop);
  void createInitialAdmin();

  OrthancPluginContext* context_;
  PluginConfig config_;
  SdkRest rest_;
  StateDatabase state_;
  UserStore users_;
  AuditLog audit_;
  ProtocolSet protocols_;
  OrthancImageHeaders headers_;
  OrthancStudyIndex index_;
  IndexedStudySource studies_;
  std::string explorerExtension_;
  std::mutex ownMutex_;
  std::set<std::string> ownOutputs_;  // results stored by this process, before Orthanc announces them
  OrthancResultSink stored_;
  Outbox outbox_;
  OrthancTransport transport_;
  OutboxSender sender_;
  ExportingResultSink results_;
  Worklist worklist_;
  Metrics metrics_;
  OrthancDicomwebSource dicomwebSource_;
  dicomweb::DicomwebService dicomweb_;
  ApiHandler api_;
  // IOCM rejection notes Orthanc receives (or the product writes) take what they reject out of
  // Orthanc; the change feed calls it for every new instance.
  OrthancRejectionHonour rejections_;
  OrthancChangeFeed feed_;
  // Stores into Orthanc, so it starts with Orthanc, not with the plugin.
  OwedResults owedResults_{worklist_};
  // Every audit entry also goes to the hospital's audit repository, when one is set; it looks
  // studies up in Orthanc, so it starts with Orthanc.
  std::unique_ptr<AtnaForwarder> atna_;
  bool running_ = false;
};

}  // namespace annot::plugin
