#include "DicomTls.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmtls/tlslayer.h>
#include <dcmtk/dcmtls/tlstrans.h>
#include <dcmtk/dcmnet/assoc.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "common/Log.h"
#include "outbox/Destination.h"

namespace annot::node {
namespace {
using Clock = std::chrono::steady_clock;

void must(const OFCondition& condition, const std::string& what) {
  if (condition.bad()) throw std::runtime_error(what + ": " + condition.text());
}

// Cuts the socket of a handshake that outlives its deadline (shutdown, not close: the fd stays
// owned by DCMTK, whose handshake then fails and returns).
class HandshakeWatchdog {
 public:
  explicit HandshakeWatchdog(std::chrono::seconds limit) : limit_(limit), thread_([this] { run(); }) {}
  ~HandshakeWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  // Watches `socket` until the returned guard is destroyed.
  class Guard {
   public:
    Guard(HandshakeWatchdog& owner, uint64_t id) : owner_(owner), id_(id) {}
    ~Guard() { owner_.disarm(id_); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    HandshakeWatchdog& owner_;
    uint64_t id_;
  };
  Guard arm(int socket) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t id = ++next_;
    watched_[id] = Watched{socket, Clock::now() + limit_};
    wake_.notify_all();
    return Guard(*this, id);
  }

 private:
  struct Watched {
    int socket;
    Clock::time_point deadline;
  };

  void disarm(uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    watched_.erase(id);
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (watched_.empty()) {
        wake_.wait(lock);
        continue;
      }
      // Ids grow with arming time and every deadline is that time plus one limit: the oldest
      // entry is the first due.
      const auto first = watched_.begin();
      // A copy: wait_until reads the time point again after waking, when the entry may be gone.
      const Clock::time_point deadline = first->second.deadline;
      if (Clock::now() < deadline) {
        wake_.wait_until(lock, deadline);
        continue;
      }
      // Still under the lock: the handshake has not returned, so the socket is still its own.
      ::shutdown(first->second.socket, SHUT_RDWR);
      LOG_WARN("dicom", "TLS handshake not finished within " << limit_.count() << " s: connection dropped");
      watched_.erase(first);
    }
  }

  const std::chrono::seconds limit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<uint64_t, Watched> watched_;
  uint64_t next_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

class DeadlineTlsConnection : public DcmTLSConnection {
 public:
  DeadlineTlsConnection(DcmNativeSocketType socket, SSL* ssl, HandshakeWatchdog& watchdog)
      : DcmTLSConnection(socket, ssl), watchdog_(watchdog) {}
  OFCondition serverSideHandshake() override {
    const auto guard = watchdog_.arm(static_cast<int>(getSocket()));
    return DcmTLSConnection::serverSideHandshake();
  }

 private:
  HandshakeWatchdog& watchdog_;
};

// The port's layer: DCMTK's, with each server-side handshake under the watchdog. Connections
// are made as DCMTK makes them (an SSL object of this context on the accepted socket).
class DeadlineTlsLayer : public DcmTLSTransportLayer {
 public:
  DeadlineTlsLayer(OFBool initializeOpenSsl, std::chrono::seconds handshakeLimit)
      : DcmTLSTransportLayer(NET_ACCEPTOR, nullptr, initializeOpenSsl), watchdog_(handshakeLimit) {}
  DcmTransportConnection* createConnection(DcmNativeSocketType socket, OFBool useSecureLayer) override {
    if (!useSecureLayer) return DcmTLSTransportLayer::createConnection(socket, useSecureLayer);
    SSL* ssl = ::SSL_new(getNativeHandle());
    if (!ssl) return nullptr;
    ::SSL_set_fd(ssl, static_cast<int>(socket));
    return new DeadlineTlsConnection(socket, ssl, watchdog_);
  }

 private:
  HandshakeWatchdog watchdog_;
};

// The BCP 195 non-downgrading profile: TLS 1.2 or later with its ciphersuites. DCMTK lowers
// OpenSSL's security level to 0 for its older profiles; level 2 refuses peers whose chains
// use keys or signatures weaker than 112 bits (1024-bit RSA, SHA-1), as BCP 195 asks.
void useBcp195(DcmTLSTransportLayer& layer) {
  must(layer.setTLSProfile(TSP_Profile_BCP195_ND), "cannot select the BCP 195 TLS profile");
  must(layer.activateCipherSuites(), "cannot activate the BCP 195 ciphersuites");
  ::SSL_CTX_set_security_level(layer.getNativeHandle(), 2);
}

// `what` names the keys in messages ("DICOM TLS", "PACS TLS").
void useIdentity(DcmTLSTransportLayer& layer, const std::string& certificate, const std::string& key, const std::string& what) {
  must(layer.setPrivateKeyFile(key.c_str(), DCF_Filetype_PEM), "cannot use " + what + " private key '" + key + "'");
  must(layer.setCertificateFile(certificate.c_str(), DCF_Filetype_PEM),
       "cannot use " + what + " certificate '" + certificate + "'");
  if (!layer.checkPrivateKeyMatchesCertificate()) {
    throw std::runtime_error(what + " private key '" + key + "' does not match certificate '" + certificate + "'");
  }
}

void trust(DcmTLSTransportLayer& layer, const std::string& bundle, const std::string& what) {
  must(layer.addTrustedCertificateFile(bundle.c_str(), DCF_Filetype_PEM),
       "cannot use " + what + " trusted certificates '" + bundle + "'");
  layer.setCertificateVerification(DCV_requireCertificate);
}

// The peer's certificate must name `host`: an IP address literal is matched against the IP
// subject alternative names, anything else as a DNS name. DCMTK checks the chain only.
void requireName(DcmTLSTransportLayer& layer, const std::string& host) {
  X509_VERIFY_PARAM* param = ::SSL_CTX_get0_param(layer.getNativeHandle());
  const bool ip = ::X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  if (!ip && ::X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) {
    throw std::runtime_error("cannot require the PACS certificate to name '" + host + "'");
  }
}
}  // namespace

std::string peerCertificateSubject(T_ASC_Association* association) {
  if (!association || !association->DULassociation) return {};
  const unsigned long length = DUL_getPeerCertificateLength(association->DULassociation);
  if (length == 0) return {};
  std::string der(length, '\0');
  if (DUL_getPeerCertificate(association->DULassociation, der.data(), length) != length) return {};
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, decltype(&::X509_free)> certificate(::d2i_X509(nullptr, &cursor, static_cast<long>(length)), &::X509_free);
  if (!certificate) return {};
  std::unique_ptr<BIO, decltype(&::BIO_free)> text(::BIO_new(::BIO_s_mem()), &::BIO_free);
  if (!text || ::X509_NAME_print_ex(text.get(), ::X509_get_subject_name(certificate.get()), 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long size = ::BIO_get_mem_data(text.get(), &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

DicomTlsLayers::DicomTlsLayers() = default;
DicomTlsLayers::DicomTlsLayers(DicomTlsLayers&&) noexcept = default;
DicomTlsLayers::~DicomTlsLayers() = default;

DcmTransportLayer* DicomTlsLayers::pacsLayerFor(const std::string& host) const {
  const auto found = pacsByHost.find(host);
  return found == pacsByHost.end() ? nullptr : found->second.get();
}

DicomTlsLayers dicomTlsLayersFor(const NodeConfig& config) {
  DicomTlsLayers layers;
  bool openSslReady = false;  // the first layer initialises OpenSSL, once
  if (!config.dicomTlsCertificate.empty()) {
    layers.port = std::make_unique<DeadlineTlsLayer>(OFTrue, std::chrono::seconds(config.acseTimeoutSeconds));
    openSslReady = true;
    useBcp195(*layers.port);
    useIdentity(*layers.port, config.dicomTlsCertificate, config.dicomTlsPrivateKey, "DICOM TLS");
    if (config.dicomTlsTrustedCertificates.empty()) {
      layers.port->setCertificateVerification(DCV_ignoreCertificate);
    } else {
      trust(*layers.port, config.dicomTlsTrustedCertificates, "DICOM TLS");
    }
  }
  if (config.pacsTlsTrustedCertificates.empty()) return layers;
  for (const auto& text : config.pacs) {
    const auto destination = parseDestination(text);
    if (!destination || layers.pacsByHost.count(destination->host)) continue;  // validated with the config
    auto layer = std::make_unique<DcmTLSTransportLayer>(NET_REQUESTOR, nullptr, openSslReady ? OFFalse : OFTrue);
    openSslReady = true;
    useBcp195(*layer);
    if (!config.pacsTlsCertificate.empty()) {
      useIdentity(*layer, config.pacsTlsCertificate, config.pacsTlsPrivateKey, "PACS TLS");
    }
    trust(*layer, config.pacsTlsTrustedCertificates, "PACS TLS");
    requireName(*layer, destination->host);
    layers.pacsByHost.emplace(destination->host, std::move(layer));
  }
  return layers;
}

}  // namespace annot::node
