#pragma once
// TLS for the DICOM port (DICOM PS3.15 Annex B, BCP 195 non-downgrading profile): the node's
// certificate and key, and, when trusted certificates are configured, mandatory client
// certificates checked against them.
#include <memory>

#include "config/NodeConfig.h"

class DcmTLSTransportLayer;

namespace annot::node {

// Nullptr when the configuration names no DICOM certificate. Throws std::runtime_error naming
// the file when a certificate, key or trust list cannot be used or the key does not match.
std::unique_ptr<DcmTLSTransportLayer> dicomTlsLayerFor(const NodeConfig& config);

}  // namespace annot::node
