#include "StorageScpServer.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scppool.h>
#include <dcmtk/dcmnet/scpthrd.h>
#include <dcmtk/dcmtls/tlslayer.h>
#include <pthread.h>

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>

#include "common/Log.h"
#include "DicomTls.h"
#include "StoreReception.h"
#include "storage/IncomingFile.h"

namespace annot::node {
namespace {

// Preference order when a peer offers several: uncompressed first (lossless, what every viewer
// reads), then the compressed syntaxes, which are kept exactly as received.
const char* kTransferSyntaxes[] = {
    UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
    UID_BigEndianExplicitTransferSyntax, UID_DeflatedExplicitVRLittleEndianTransferSyntax,
    UID_JPEGProcess14SV1TransferSyntax, UID_JPEGProcess14TransferSyntax,
    UID_JPEGProcess1TransferSyntax, UID_JPEGProcess2_4TransferSyntax,
    UID_JPEGLSLosslessTransferSyntax, UID_JPEGLSLossyTransferSyntax,
    UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
    UID_RLELosslessTransferSyntax, UID_MPEG2MainProfileAtMainLevelTransferSyntax,
    UID_MPEG2MainProfileAtHighLevelTransferSyntax, UID_MPEG4HighProfileLevel4_1TransferSyntax,
    UID_MPEG4BDcompatibleHighProfileLevel4_1TransferSyntax};
const char* kVerificationTransferSyntaxes[] = {UID_LittleEndianExplicitTransferSyntax,
                                               UID_LittleEndianImplicitTransferSyntax};

const std::set<std::string>& storageSopClasses() {
  static const std::set<std::string> classes = [] {
    std::set<std::string> s;
    for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i) s.insert(dcmAllStorageSOPClassUIDs[i]);
    return s;
  }();
  return classes;
}

std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  const auto first = s.find_first_not_of(' ');
  return first == std::string::npos ? std::string() : s.substr(first);
}

const char* refuseReasonText(DcmRefuseReasonType reason) {
  switch (reason) {
    case DCMSCP_TOO_MANY_ASSOCIATIONS: return "too many associations";
    case DCMSCP_BAD_APPLICATION_CONTEXT_NAME: return "unsupported application context";
    case DCMSCP_CALLED_AE_TITLE_NOT_RECOGNIZED: return "called AE title is not ours";
    case DCMSCP_CALLING_AE_TITLE_NOT_RECOGNIZED: return "calling AE title not allowed";
    case DCMSCP_NO_PRESENTATION_CONTEXTS: return "no acceptable presentation context (SOP class or transfer syntax)";
    default: return "internal error";
  }
}

struct ScpContext {
  const NodeConfig& config;
  IngestPipeline& pipeline;
  Metrics& metrics;
  AsyncWriterPool& writers;
};

// One association's service: C-ECHO and C-STORE, received straight into a file.
class StoreScp : public DcmThreadSCP {
 public:
  explicit StoreScp(ScpContext& context) : context_(context) {}

 protected:
  OFCondition handleIncomingCommand(T_DIMSE_Message* message, const DcmPresentationContextInfo& presInfo) override {
    if (message->CommandField == DIMSE_C_STORE_RQ) return handleStore(message->msg.CStoreRQ, presInfo);
    if (message->CommandField == DIMSE_C_ECHO_RQ) ++context_.metrics.echoRequests;
    return DcmThreadSCP::handleIncomingCommand(message, presInfo);
  }

  OFBool checkCalledAETitleAccepted(const OFString& calledAE) override {
    if (!context_.config.checkCalledAet) return OFTrue;
    return trimmed(calledAE.c_str()) == context_.config.dicomAet;
  }

  OFBool checkCallingAETitleAccepted(const OFString& callingAE) override {
    const auto& allowed = context_.config.allowedCallingAets;
    if (allowed.empty()) return OFTrue;
    return std::find(allowed.begin(), allowed.end(), trimmed(callingAE.c_str())) != allowed.end();
  }

  void notifyAssociationRequest(const T_ASC_Parameters& params, DcmSCPActionType& desiredAction) override {
    // DcmSCP hands us the very parameters it negotiates on; keep them for negotiateAssociation().
    params_ = const_cast<T_ASC_Parameters*>(&params);
    callingAet_ = trimmed(params.DULparams.callingAPTitle);
    peer_ = trimmed(params.DULparams.callingPresentationAddress);
    // Over TLS with client certificates, who the peer proved to be goes into every line about it.
    const std::string subject = peerCertificateSubject(association_);
    certified_ = !subject.empty();
    if (certified_) peer_ += ", certificate " + subject;
    DcmThreadSCP::notifyAssociationRequest(params, desiredAction);
  }

  // DcmSCPConfig caps an association profile at 128 presentation contexts, fewer than the
  // storage SOP classes; negotiate directly against the full list as DCMTK's storescp does.
  OFCondition negotiateAssociation() override {
    if (!params_) return DIMSE_ILLEGALASSOCIATION;
    const char* verification[] = {UID_VerificationSOPClass};
    OFCondition cond = ASC_acceptContextsWithPreferredTransferSyntaxes(
        params_, verification, 1, kVerificationTransferSyntaxes, 2);
    if (cond.good()) {
      cond = ASC_acceptContextsWithPreferredTransferSyntaxes(
          params_, dcmAllStorageSOPClassUIDs, numberOfDcmAllStorageSOPClassUIDs, kTransferSyntaxes,
          static_cast<int>(sizeof kTransferSyntaxes / sizeof kTransferSyntaxes[0]));
    }
    if (cond.bad()) LOG_ERROR("dicom", "association negotiation failed: " << cond.text());
    return cond;
  }

  void refuseAssociation(const DcmRefuseReasonType reason) override {
    ++context_.metrics.associationsRejected;
    LOG_WARN("dicom", "association from " << callingAet_ << " (" << peer_ << ") refused: " << refuseReasonText(reason));
    DcmThreadSCP::refuseAssociation(reason);
  }

  void notifyAssociationAcknowledge() override {
    acknowledged_ = true;
    ++context_.metrics.associationsAccepted;
    ++context_.metrics.associationsActive;
    // Who proved a certificate's identity is worth a line at info level; the rest at debug.
    if (certified_) {
      LOG_INFO("dicom", "association accepted from " << callingAet_ << " (" << peer_ << ")");
    } else {
      LOG_DEBUG("dicom", "association accepted from " << callingAet_ << " (" << peer_ << ")");
    }
  }

  void notifyAssociationTermination() override {
    if (acknowledged_) --context_.metrics.associationsActive;
    acknowledged_ = false;
    DcmThreadSCP::notifyAssociationTermination();
  }

 private:
  // Objects up to this size stay in memory after reception, so their header is parsed from
  // there; larger ones (big multi-frame images) are read back from the file. Bounds the memory
  // an association holds (times the worker pool size).
  static constexpr uint64_t kKeptInMemory = 32ull << 20;

  // Receives the data set of a C-STORE into the scratch area and hands it to the pipeline.
  // `received` is bad when reception itself failed (no response can be sent then).
  IngestResult receiveAndStore(T_DIMSE_C_StoreRQ& request, const DcmPresentationContextInfo& presInfo, OFCondition& received) {
    const T_ASC_PresentationContextID presId = presInfo.presentationContextID;
    const StoreReceptionContext reception{association_, getDIMSEBlockingMode(), static_cast<int>(getDIMSETimeout()),
                                          callingAet_};
    const bool storageClass = storageSopClasses().count(trimmed(request.AffectedSOPClassUID)) > 0;
    const std::string scratch = context_.pipeline.newIncomingPath();
    const AsyncWriterPool::Lease writer = context_.writers.lease();  // outlives the file
    std::optional<IncomingFile> file;
    std::optional<StorageError> storageError;  // the object could not be written
    try {
      file.emplace(scratch, kKeptInMemory, IncomingFile::Caching::DirectWherePossible, &chunks_, writer.get());
    } catch (const StorageError& e) {
      storageError = e;
    }
    if (file) {
      received = receiveStoreDataset(reception, request, presId, presInfo.acceptedTransferSyntax.c_str(), *file);
    } else {
      DIC_UL bytes = 0, pdvs = 0;
      received = DIMSE_ignoreDataSet(association_, reception.blocking, reception.timeoutSeconds, &bytes, &pdvs);
    }
    ReceivedObject object{scratch, request.AffectedSOPClassUID, request.AffectedSOPInstanceUID, callingAet_};
    std::optional<ExaminedObject> examined;
    if (received.good() && file && file->failure().empty() && storageClass) {
      file->writeWholeBlocks();
      object.contents = file->contents();
      object.size = file->size();
      // The header is parsed and checked while the last queued writes are still on their
      // way to the device; finish() below waits for them.
      if (!object.contents.empty()) examined = context_.pipeline.examine(object);
    }
    if (received.good() && file) {
      try {
        file->finish();
      } catch (const StorageError& e) {
        storageError = e;
      }
    }
    if (received.bad()) {
      LOG_ERROR("dicom", "receiving C-STORE " << request.AffectedSOPInstanceUID << " from " << callingAet_
                                              << " failed: " << received.text());
      return context_.pipeline.refuse(object, store_status::ProcessingFailure, received.text());
    }
    if (storageError) {
      const bool full = storageError->kind() == StorageError::Kind::OutOfSpace;
      return context_.pipeline.refuse(object, full ? store_status::OutOfResources : store_status::ProcessingFailure,
                                      std::string("cannot store the received data: ") + storageError->what());
    }
    if (!storageClass) {
      return context_.pipeline.refuse(object, store_status::SopClassNotSupported,
                                      std::string("SOP class ") + request.AffectedSOPClassUID + " is not a storage SOP class");
    }
    if (!examined) examined = context_.pipeline.examine(object);
    return context_.pipeline.complete(object, std::move(*examined));
  }

  OFCondition handleStore(T_DIMSE_C_StoreRQ& request, const DcmPresentationContextInfo& presInfo) {
    const T_ASC_PresentationContextID presId = presInfo.presentationContextID;
    OFCondition received = EC_Normal;
    // Whatever the outcome, the instance's claim (IngestPipeline::examine()) is released when
    // this returns, before the response goes out: another association's copy of the instance
    // must not wait on this one's network.
    const IngestResult result = receiveAndStore(request, presInfo, received);
    if (received.bad()) return received;

    if (result.status == store_status::Success) {
      LOG_DEBUG("dicom", (result.duplicate ? "re-received " : "stored ") << result.sopInstanceUid << " from " << callingAet_);
      return sendSTOREResponse(presId, request, result.status);
    }
    LOG_WARN("dicom", "C-STORE " << request.AffectedSOPInstanceUID << " from " << callingAet_ << " refused with status 0x"
                                 << std::hex << result.status << std::dec << ": " << result.message);
    // Error Comment (0000,0902) is LO: at most 64 characters.
    DcmDataset detail;
    detail.putAndInsertString(DCM_ErrorComment, result.message.substr(0, 64).c_str());
    return sendSTOREResponse(presId, request.MessageID, request.AffectedSOPClassUID, request.AffectedSOPInstanceUID,
                             result.status, &detail);
  }

  ScpContext& context_;
  ChunkPool chunks_;  // reused from one object to the next on this association's thread
  T_ASC_Association* association_ = nullptr;
  std::string callingAet_;
  std::string peer_;
  bool certified_ = false;  // the peer presented a client certificate over TLS
  bool acknowledged_ = false;
  T_ASC_Parameters* params_ = nullptr;

 protected:
  // The association being served (DcmSCP keeps its own pointer private).
  OFCondition serve(T_ASC_Association* association) {
    association_ = association;
    const OFCondition result = run(association);
    association_ = nullptr;
    return result;
  }
};

}  // namespace

class StorageScpServer::Pool : public DcmBaseSCPPool {
 public:
  Pool(const NodeConfig& config, IngestPipeline& pipeline, Metrics& metrics, AsyncWriterPool& writers)
      : context_{config, pipeline, metrics, writers} {}

 protected:
  // Gives each worker the shared context (DCMTK's template pool can only default-construct).
  struct Worker : public DcmBaseSCPWorker, private StoreScp {
    Worker(Pool& pool, ScpContext& context) : DcmBaseSCPWorker(pool), StoreScp(context) {}
    // DCMTK's pool deletes a worker from the worker's own thread when its association ends
    // (notifyThreadExit) but never joins or detaches that thread, so each association left its
    // stack (8 MB mapped, the pages it touched resident) and thread descriptor behind: the soak
    // grew by 27 MB a minute. A worker deleted on its own thread detaches it, so its resources
    // go when it exits. At shutdown the pool joins the busy workers and deletes them from the
    // listener thread: those are not detached.
    ~Worker() override {
      if (ownThread_ && pthread_equal(*ownThread_, pthread_self())) pthread_detach(pthread_self());
    }
    OFCondition setSharedConfig(const DcmSharedSCPConfig& config) override { return StoreScp::setSharedConfig(config); }
    OFBool busy() override { return StoreScp::isConnected(); }
    OFCondition workerListen(T_ASC_Association* const assoc) override {
      ownThread_ = pthread_self();
      return StoreScp::serve(assoc);
    }
    std::optional<pthread_t> ownThread_;  // set on the worker's thread
  };

  DcmBaseSCPWorker* createSCPWorker() override { return new Worker(*this, context_); }

 private:
  ScpContext context_;
};

StorageScpServer::StorageScpServer(const NodeConfig& config, IngestPipeline& pipeline, Metrics& metrics,
                                   DcmTLSTransportLayer* tls)
    : tls_(tls), pool_(std::make_unique<Pool>(config, pipeline, metrics, writers_)) {
  DcmSCPConfig& cfg = pool_->getConfig();
  if (tls_) cfg.setTransportLayer(tls_);
  cfg.setAETitle(config.dicomAet.c_str());
  cfg.setPort(config.dicomPort);
  cfg.setMaxReceivePDULength(config.maxPduSize);
  cfg.setACSETimeout(config.acseTimeoutSeconds);
  cfg.setDIMSETimeout(config.dimseTimeoutSeconds);
  cfg.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  // Non-blocking accept with a short timeout so stop() is noticed within a second.
  cfg.setConnectionBlockingMode(DUL_NOBLOCK);
  cfg.setConnectionTimeout(1);
  cfg.setHostLookupEnabled(OFFalse);
  cfg.setRespondWithCalledAETitle(OFTrue);
  pool_->setMaxThreads(static_cast<Uint16>(config.maxAssociations));
}

StorageScpServer::~StorageScpServer() = default;

void StorageScpServer::run() {
  const OFCondition result = pool_->listen();
  if (result.bad()) throw std::runtime_error(std::string("DICOM listener failed: ") + result.text());
}

void StorageScpServer::stop() { pool_->stopAfterCurrentAssociations(); }

}  // namespace annot::node
