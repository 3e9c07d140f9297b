#pragma once
// TLS for DICOM (PS3.15 Annex B, BCP 195 non-downgrading profile: TLS 1.2+): on the node's
// port, and towards the PACS that results are sent to.
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "config/NodeConfig.h"

class DcmTLSTransportLayer;
class DcmTransportLayer;
struct T_ASC_Association;

namespace annot::node {

// The layers the configuration asks for; either may be null. Built together before any thread
// starts, since building the first one initialises OpenSSL.
struct DicomTlsLayers {
  // The port: the node's certificate and key; with trusted certificates configured, client
  // certificates are required and checked against them. Each handshake must finish within
  // the ACSE timeout: DCMTK runs it on the pool's single listening thread, so a peer that
  // stalls its handshake would otherwise hold every other association (and shutdown) back.
  std::unique_ptr<DcmTLSTransportLayer> port;
  // Towards the PACS, one per destination host: the PACS must present a certificate that
  // PacsTlsTrustedCertificates trusts and that names the host (DNS name or IP address) the
  // destination is configured with; PacsTlsCertificate/PacsTlsPrivateKey, when set, are ours.
  std::map<std::string, std::unique_ptr<DcmTLSTransportLayer>> pacsByHost;

  // The layer for a destination host; nullptr when results travel without TLS.
  DcmTransportLayer* pacsLayerFor(const std::string& host) const;

  DicomTlsLayers();
  DicomTlsLayers(DicomTlsLayers&&) noexcept;
  ~DicomTlsLayers();
};

// The subject (RFC 2253, e.g. "CN=CT1,O=Hospital") of the certificate the peer of a TLS
// association presented; empty without TLS or without a client certificate.
std::string peerCertificateSubject(T_ASC_Association* association);

// Throws std::runtime_error naming the file that cannot be used (certificate, key, trust
// list) or a key that does not match its certificate.
DicomTlsLayers dicomTlsLayersFor(const NodeConfig& config);

}  // namespace annot::node
