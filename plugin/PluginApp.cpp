#include "PluginApp.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "RestBridge.h"
#include "audit/AtnaStudies.h"
#include "common/Log.h"
#include "storage/FileSync.h"

namespace annot::plugin {
namespace {
std::string protocolsDirectory(const PluginConfig& c) {
  return c.protocolsDirectory.empty() ? std::string(ANNOT_DEFAULT_PROTOCOLS_DIR) : c.protocolsDirectory;
}
BrowserSettings browserSettings(const PluginConfig& c) {
  BrowserSettings b;
  b.workstationDirectory = c.workstationDirectory.empty() ? std::string(ANNOT_DEFAULT_WORKSTATION_DIR) : c.workstationDirectory;
  b.viewerDirectory = c.viewerDirectory.empty() ? std::string(ANNOT_DEFAULT_VIEWER_DIR) : c.viewerDirectory;
  b.sessions.idle = std::chrono::minutes(c.sessionIdleMinutes);
  b.secureCookies = c.orthancHttps;
  b.ldap = c.ldap;
  b.oidc = c.oidc;
  return b;
}
// The data directory (rejected instances, the first admin's token, the embedded state) must
// exist before the state database opens.
std::string stateDatabaseOf(const PluginConfig& config) {
  filesync::ensureDirectory(config.dataDirectory);
  return config.stateDatabase();
}
}  // namespace

PluginApp::PluginApp(OrthancPluginContext* context, const PluginConfig& config)
    : context_(context),
      config_(config),
      rest_(context),
      state_(stateDatabaseOf(config)),
      users_(state_, config_.tokenLifetimeDays),
      audit_(state_),
      protocols_(ProtocolSet::loadDirectory(protocolsDirectory(config))),
      headers_(rest_),
      index_(rest_, headers_),
      studies_(index_, [this](const InstanceSummary& i) { return headers_.get(i.storageKey).image; }),
      stored_(rest_,
              [this](const std::string& sop) {
                std::lock_guard<std::mutex> lock(ownMutex_);
                ownOutputs_.insert(sop);
              }),
      outbox_(state_, int64_t{config.outboxMaxBackoffSeconds} * 1000),
      transport_(rest_, index_, config.destinations, config.resultFallback),
      sender_(outbox_, transport_, audit_),
      results_(stored_, outbox_, config.destinations, &sender_),
      worklist_(state_, protocols_, studies_, results_, int64_t{config.taskLeaseSeconds} * 1000),
      dicomwebSource_(rest_, config.orthancDicomwebRoot),
      // STOW-RS stores into Orthanc like any other client; the change feed then sees the study.
      dicomweb_(dicomwebSource_, state_, [this](const std::string& bytes, const std::string&, const InstanceRecord& header) {
        return storeIntoOrthanc(rest_, bytes, &header);
      }),
      api_(index_, metrics_, users_, audit_, worklist_,
           ApiInfo{"annotation-node (Orthanc plugin)", ANNOT_VERSION, config.aeTitle, kPrefix}, browserSettings(config)),
      rejections_(rest_, index_, audit_, config.dataDirectory + "/rejected", RejectionTrust{config.rejectionNoteSenders, false},
                  [this](const std::string& sop) {
                    // Stored by this process (announced before the withdrawal is recorded), or
                    // recorded as the note that withdrew results.
                    {
                      std::lock_guard<std::mutex> lock(ownMutex_);
                      if (ownOutputs_.count(sop)) return true;
                    }
                    return worklist_.isOwnRejectionNote(sop);
                  }),
      feed_(rest_, state_, [this](const std::string& sop) { return isOwnOutput(sop); },
            [this](const std::string& study) { worklist_.scheduleForStudy(study); }) {
  api_.setReadiness([this]() -> std::optional<std::string> {
    if (feed_.following()) return std::nullopt;
    return std::string("not yet following Orthanc's changes: studies received now could go unscheduled");
  });
  feed_.onEveryNewInstance([this](const std::string& instanceId) { rejections_.consider(instanceId); });
  api_.setOutbox(&outbox_);
  api_.setDicomweb(&dicomweb_);
  if (config.auditRepository.enabled()) {
    atna_ = std::make_unique<AtnaForwarder>(audit_, state_, config.auditRepository, atnaSourceFor(config.auditRepository, config.aeTitle),
                                            atnaStudyLookup(index_, worklist_));
  }
  createInitialAdmin();
  const std::string explorer = browserSettings(config).workstationDirectory + "/orthanc-explorer.js";
  std::ifstream in(explorer);
  if (in) {
    std::ostringstream text;
    text << in.rdbuf();
    explorerExtension_ = text.str();
  } else {
    LOG_WARN("plugin", "no " << explorer << ": Orthanc Explorer gets no worklist button (is the workstation built?)");
  }
  LOG_INFO("plugin", protocols_.all().size() << " labeling protocol(s) loaded; data directory " << config_.dataDirectory);
}

PluginApp::~PluginApp() { orthancStopping(); }

void PluginApp::createInitialAdmin() {
  if (config_.initialAdmin.empty() || !users_.list().empty()) {
    if (users_.list().empty()) {
      LOG_WARN("plugin", "no users yet: set AnnotationNode.InitialAdmin, or run 'dicom-node user add NAME --role admin --data-dir "
                             << config_.dataDirectory << "'");
    }
    return;
  }
  const IssuedToken issued = users_.addUser(config_.initialAdmin, Role::Admin);
  audit_.record({"", "", "create-user", "user", config_.initialAdmin, "success", "initial admin from configuration", "plugin"});
  // The token goes to a file only its owner can read; it is never logged.
  const std::string path = config_.dataDirectory + "/initial-admin.token";
  const mode_t old = ::umask(077);
  {
    std::ofstream out(path, std::ios::trunc);
    out << issued.token << '\n';
  }
  ::umask(old);
  LOG_WARN("plugin", "created admin user '" << config_.initialAdmin << "'; its API token is in " << path
                                              << " (read it, then delete the file)");
}

bool PluginApp::isOwnOutput(const std::string& sop) {
  {
    // Orthanc announces each new instance once: the entry has served and goes, so the set
    // holds only results not yet announced.
    std::lock_guard<std::mutex> lock(ownMutex_);
    if (ownOutputs_.erase(sop) > 0) return true;
  }
  return worklist_.isOutput(sop);
}

void PluginApp::serve(const std::string& path, const OrthancPluginHttpRequest* request, OrthancPluginRestOutput* output) {
  sendResponse(context_, output, api_.handle(toHttpRequest(path, request)));
}

void PluginApp::orthancStarted() {
  if (running_) return;
  running_ = true;
  sender_.start();
  feed_.start();
  owedResults_.start();
  if (atna_) atna_->start();
  LOG_INFO("plugin", "following Orthanc's changes; API under " << kPrefix << "/api/v1, DICOMweb with label-aware search under "
                                                        << kPrefix << "/dicomweb, worklist page " << kPrefix << "/ui");
}

void PluginApp::orthancStopping() {
  if (!running_) return;
  running_ = false;
  if (atna_) atna_->stop();
  owedResults_.stop();
  feed_.stop();
  sender_.stop();
}

}  // namespace annot::plugin
