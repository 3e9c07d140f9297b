#pragma once
// TLS for DICOM (PS3.15 Annex B, BCP 195 non-downgrading profile: TLS 1.2+): on the node's
// port, and towards the PACS that results are sent to.
#include <memory>

#include "config/NodeConfig.h"

class DcmTLSTransportLayer;

namespace annot::node {

// Nullptr when the configuration names no DICOM certificate. Throws std::runtime_error naming
// the file when a certificate, key or trust list cannot be used or the key does not match.
// The port: the node's certificate and key; with trusted certificates configured, client
// certificates are required and checked against them.
std::unique_ptr<DcmTLSTransportLayer> dicomTlsLayerFor(const NodeConfig& config);

// Towards the PACS: nullptr when PacsTlsTrustedCertificates is not set. The PACS must present a
// certificate the bundle trusts; PacsTlsCertificate/PacsTlsPrivateKey, when set, are ours.
// Throws std::runtime_error naming the file that cannot be used.
std::unique_ptr<DcmTLSTransportLayer> pacsTlsLayerFor(const NodeConfig& config);

}  // namespace annot::node
