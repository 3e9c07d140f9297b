#include "DicomTls.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <stdexcept>

namespace annot::node {
namespace {
void must(const OFCondition& condition, const std::string& what) {
  if (condition.bad()) throw std::runtime_error(what + ": " + condition.text());
}

// A layer with the BCP 195 non-downgrading profile: TLS 1.2 or later with its ciphersuites.
// Built before any association thread exists (it initialises OpenSSL).
std::unique_ptr<DcmTLSTransportLayer> bcp195Layer(T_ASC_NetworkRole role) {
  auto layer = std::make_unique<DcmTLSTransportLayer>(role, nullptr, OFTrue);
  must(layer->setTLSProfile(TSP_Profile_BCP195_ND), "cannot select the BCP 195 TLS profile");
  must(layer->activateCipherSuites(), "cannot activate the BCP 195 ciphersuites");
  return layer;
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
}  // namespace

std::unique_ptr<DcmTLSTransportLayer> dicomTlsLayerFor(const NodeConfig& config) {
  if (config.dicomTlsCertificate.empty()) return nullptr;
  auto layer = bcp195Layer(NET_ACCEPTOR);
  useIdentity(*layer, config.dicomTlsCertificate, config.dicomTlsPrivateKey, "DICOM TLS");
  if (config.dicomTlsTrustedCertificates.empty()) {
    layer->setCertificateVerification(DCV_ignoreCertificate);
  } else {
    trust(*layer, config.dicomTlsTrustedCertificates, "DICOM TLS");
  }
  return layer;
}

std::unique_ptr<DcmTLSTransportLayer> pacsTlsLayerFor(const NodeConfig& config) {
  if (config.pacsTlsTrustedCertificates.empty()) return nullptr;
  auto layer = bcp195Layer(NET_REQUESTOR);
  if (!config.pacsTlsCertificate.empty()) {
    useIdentity(*layer, config.pacsTlsCertificate, config.pacsTlsPrivateKey, "PACS TLS");
  }
  trust(*layer, config.pacsTlsTrustedCertificates, "PACS TLS");
  return layer;
}

}  // namespace annot::node
