#include "NodeApp.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/oflog.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include "DicomTls.h"
#include "HttpServer.h"
#include "StorageScpServer.h"
#include "api/ApiHandler.h"
#include "dicomweb/DicomwebService.h"
#include "dicomweb/IndexedDicomwebSource.h"
#include "audit/AtnaForwarder.h"
#include "audit/AtnaStudies.h"
#include "audit/AuditLog.h"
#include "auth/UserStore.h"
#include "state/StateDatabase.h"
#include "worklist/IndexedStudySource.h"
#include "worklist/IngestResultSink.h"
#include "outbox/Destination.h"
#include "outbox/ExportingResultSink.h"
#include "outbox/Outbox.h"
#include "worklist/OwedResults.h"
#include "worklist/Worklist.h"
#include "catalog/PostgresCatalog.h"
#include "catalog/SqliteCatalog.h"
#include "common/Log.h"
#include "MemoryReturn.h"
#include "events/EventBus.h"
#include "ingest/IngestPipeline.h"
#include "ingest/IngestRecovery.h"
#include "ingest/RejectionHonour.h"
#include "ingest/StabilityMonitor.h"
#include "metrics/Metrics.h"
#include "storage/FileInstanceStore.h"
#include "storage/FileSync.h"

namespace annot::node {
namespace {
// Where this node receives files before they are stored: its own folder when nodes share one
// storage folder (the PostgreSQL layout), named after the host and the DICOM port.
std::string incomingFolderOf(const NodeConfig& config) {
  if (config.database.empty()) return "incoming";
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
  return "incoming/" + std::string(host) + "-" + std::to_string(config.dicomPort);
}

// The index: embedded beside the files, or in the PostgreSQL database the nodes share.
std::unique_ptr<SearchableCatalog> openCatalog(const NodeConfig& config, FileInstanceStore& store) {
  if (!config.database.empty()) return std::make_unique<PostgresCatalog>(config.database);
  const std::string catalogPath = config.dataDirectory + "/index.sqlite";
  // One barrier per ingest group covers files and rows alike when the catalog lives on the
  // store's filesystem (the default layout) and that filesystem has a barrier (syncfs);
  // otherwise every catalog commit flushes itself.
  const Catalog::Durability durability = catalogDurabilityFor(store, catalogPath);
  if (durability == Catalog::Durability::EachCommit) {
    LOG_INFO("node", "no filesystem-wide barrier covers both the data directory and index.sqlite: every catalog "
                     "commit flushes on its own");
  }
  return std::make_unique<SqliteCatalog>(catalogPath, durability);
}
}  // namespace


int serve(const NodeConfig& config) {
  Log::setLevel(Log::parseLevel(config.logLevel));
  // DCMTK's own logger only for real problems; our log says what happened in product terms.
  OFLog::configure(Log::enabled(LogLevel::Debug) ? OFLogger::INFO_LOG_LEVEL : OFLogger::ERROR_LOG_LEVEL);
  // DCMTK leaves Nagle's algorithm on unless this is set; with it off, C-STORE round trips on
  // small PDUs stop waiting for delayed ACKs (30x faster over loopback). Respect an explicit 0.
  ::setenv("TCP_NODELAY", "1", /*overwrite=*/0);

  // Signals are taken by one thread with sigwait, so they are blocked before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Early: a cap on malloc arenas applies to the arenas created after it (its own trimming
  // thread starts here too, before OpenSSL is initialised below, which does not mind).
  MemoryReturn memory(config.mallocArenaMax, std::chrono::seconds(30));
  // Before any thread: building a TLS layer initialises OpenSSL, and a bad certificate stops
  // the start before anything listens.
  const DicomTlsLayers tls = dicomTlsLayersFor(config);

  filesync::ensureDirectory(config.dataDirectory);
  FileInstanceStore store(config.dataDirectory, incomingFolderOf(config));
  const std::unique_ptr<SearchableCatalog> catalogOwner = openCatalog(config, store);
  SearchableCatalog& catalog = *catalogOwner;
  recoverUnconfirmedInstances(catalog, store);
  Metrics metrics;
  EventBus bus;
  IngestPipeline pipeline(catalog, store, bus, metrics, IngestOptions{config.minFreeDiskSpaceMb * 1024 * 1024});
  StabilityMonitor stability(catalog, bus, metrics, std::chrono::seconds(config.stableAgeSeconds));

  StateDatabase state(config.stateDatabase());
  UserStore users(state, config.tokenLifetimeDays);
  AuditLog audit(state);
  // IOCM rejection notes received (or written here when results are withdrawn) take the
  // instances they reject out of the index.
  RejectionHonour rejections(catalog, [&store](const std::string& key) { return store.absolutePath(key); }, audit,
                             config.dataDirectory + "/rejected", {config.dicomAet, RejectionTrust{config.rejectionNoteSenders}});
  rejections.listen(bus);
  rejections.start();
  if (users.list().empty()) {
    // The database URI may carry a password: the hint names the setting, not its value.
    LOG_WARN("node", "no users yet: create one with 'dicom-node user add NAME --role admin "
                         << (config.database.empty() ? "--data-dir " + config.dataDirectory : std::string("--database <this node's Database>"))
                         << "'");
  }
  const ProtocolSet protocols = ProtocolSet::loadDirectory(
      config.protocolsDirectory.empty() ? std::string(ANNOT_DEFAULT_PROTOCOLS_DIR) : config.protocolsDirectory);
  IndexedStudySource studySource(catalog, readFromStore(store));
  // Results go into our own storage first, then to every configured PACS through the outbox.
  std::vector<Destination> peers;
  for (const auto& p : config.pacs) peers.push_back(*parseDestination(p));
  // A claimed result is another node's to send once one send of it must have ended: the
  // association's and the store's timeouts, and a margin.
  Outbox outbox(state, int64_t{config.outboxMaxBackoffSeconds} * 1000,
                (int64_t{config.acseTimeoutSeconds} + config.dimseTimeoutSeconds + 10) * 1000);
  DimseTransport transport(
      peers, config.dicomAet,
      [&](const std::string& sop) {
        const auto found = catalog.findInstance(sop);
        if (!found) throw std::runtime_error("instance " + sop + " is not in storage");
        return store.absolutePath(found->storageKey);
      },
      [&tls](const Destination& to) { return tls.pacsLayerFor(to.host); }, config.resultFallback);
  OutboxSender sender(outbox, transport, audit);
  IngestResultSink stored(pipeline, config.dicomAet);
  ExportingResultSink results(stored, outbox, transport.destinations(), &sender);
  Worklist worklist(state, protocols, studySource, results, int64_t{config.taskLeaseSeconds} * 1000);
  // The worklist hangs off study stability: matching protocols schedule their tasks.
  bus.onStudyStable([&](const StudyStableEvent& e) { worklist.scheduleForStudy(e.studyInstanceUid); });
  LOG_INFO("node", protocols.all().size() << " labeling protocol(s) loaded");
  stability.start();  // after every subscriber is in place: no stable event goes unheard
  // Results that an approval committed before the last stop (SIGKILL, power) are written now,
  // and any that fail later again; the outbox sends them once its sender runs.
  OwedResults owedResults(worklist);
  owedResults.start();
  BrowserSettings browser;
  browser.workstationDirectory =
      config.workstationDirectory.empty() ? std::string(ANNOT_DEFAULT_WORKSTATION_DIR) : config.workstationDirectory;
  browser.viewerDirectory = config.viewerDirectory.empty() ? std::string(ANNOT_DEFAULT_VIEWER_DIR) : config.viewerDirectory;
  browser.sessions.idle = std::chrono::minutes(config.sessionIdleMinutes);
  browser.secureCookies = !config.httpsCertificate.empty();
  browser.ldap = config.ldap;
  browser.oidc = config.oidc;
  ApiHandler api(catalog, metrics, users, audit, worklist, ApiInfo{"annotation-node", ANNOT_VERSION, config.dicomAet, ""}, browser);
  api.setOutbox(&outbox);
  dicomweb::IndexedDicomwebSource dicomwebSource(catalog, store);
  dicomweb::DicomwebService dicomweb(dicomwebSource, state,
                                     [&](const std::string& bytes, const std::string& source, const InstanceRecord& header) {
                                       return pipeline.ingestBytes(bytes, source, &header);
                                     });
  api.setDicomweb(&dicomweb);
  // Every audit entry also goes to the hospital's audit repository (ATNA), when one is set.
  std::optional<AtnaForwarder> atna;
  if (config.auditRepository.enabled()) {
    atna.emplace(audit, state, config.auditRepository, atnaSourceFor(config.auditRepository, config.dicomAet),
                 atnaStudyLookup(catalog, worklist));
    atna->start();
  }
  sender.start();
  HttpServer http(api, HttpServerOptions{config.httpBindAddress, config.httpPort, config.httpThreads,
                                         config.maxHttpBodyBytes, config.httpsCertificate, config.httpsPrivateKey});
  http.start();
  StorageScpServer scp(config, pipeline, metrics, tls.port.get());

  std::thread signalWaiter([&] {
    int received = 0;
    sigwait(&signals, &received);
    LOG_INFO("node", "signal " << received << " received: finishing in-flight associations and shutting down");
    scp.stop();
  });

  LOG_INFO("node", "data directory " << config.dataDirectory << " (catalog schema v" << catalog.schemaVersion() << ")");
  LOG_INFO("node", "HTTP listening on " << (http.secure() ? "https://" : "http://") << config.httpBindAddress << ":"
                                         << http.port());
  if (!http.secure() && !isLoopbackAddress(config.httpBindAddress)) {
    LOG_WARN("node", "HTTP without TLS on " << config.httpBindAddress
                                            << ": tokens and patient data cross the network in clear. Set HttpsCertificate "
                                               "and HttpsPrivateKey, or bind 127.0.0.1 behind a TLS proxy.");
  }
  LOG_INFO("node", "DICOM listening on port " << config.dicomPort << (scp.secure() ? " (TLS)" : "") << " as AE title "
                                               << config.dicomAet);
  int exitCode = 0;
  try {
    scp.run();
  } catch (const std::exception& e) {
    LOG_ERROR("node", e.what());
    exitCode = 1;
    // Wake the signal thread so it can be joined.
    ::kill(::getpid(), SIGTERM);
  }
  signalWaiter.join();
  http.stop();
  sender.stop();
  owedResults.stop();
  rejections.stop();
  if (atna) atna->stop();
  stability.stop();
  pipeline.stop();
  LOG_INFO("node", "stopped");
  return exitCode;
}

}  // namespace annot::node
