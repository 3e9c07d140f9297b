#include "DicomTls.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <stdexcept>

namespace annot::node {
namespace {
void must(const OFCondition& condition, const std::string& what) {
  if (condition.bad()) throw std::runtime_error(what + ": " + condition.text());
}
}  // namespace

std::unique_ptr<DcmTLSTransportLayer> dicomTlsLayerFor(const NodeConfig& config) {
  if (config.dicomTlsCertificate.empty()) return nullptr;
  // OpenSSL is initialised once here, before any association thread exists.
  auto layer = std::make_unique<DcmTLSTransportLayer>(NET_ACCEPTOR, nullptr, OFTrue);
  // TLS 1.2 or later with the BCP 195 ciphersuites, and no downgrade below that.
  must(layer->setTLSProfile(TSP_Profile_BCP195_ND), "cannot select the BCP 195 TLS profile");
  must(layer->activateCipherSuites(), "cannot activate the BCP 195 ciphersuites");
  must(layer->setPrivateKeyFile(config.dicomTlsPrivateKey.c_str(), DCF_Filetype_PEM),
       "cannot use DICOM TLS private key '" + config.dicomTlsPrivateKey + "'");
  must(layer->setCertificateFile(config.dicomTlsCertificate.c_str(), DCF_Filetype_PEM),
       "cannot use DICOM TLS certificate '" + config.dicomTlsCertificate + "'");
  if (!layer->checkPrivateKeyMatchesCertificate()) {
    throw std::runtime_error("DICOM TLS private key '" + config.dicomTlsPrivateKey + "' does not match certificate '" +
                             config.dicomTlsCertificate + "'");
  }
  if (config.dicomTlsTrustedCertificates.empty()) {
    layer->setCertificateVerification(DCV_ignoreCertificate);
  } else {
    must(layer->addTrustedCertificateFile(config.dicomTlsTrustedCertificates.c_str(), DCF_Filetype_PEM),
         "cannot use DICOM TLS trusted certificates '" + config.dicomTlsTrustedCertificates + "'");
    layer->setCertificateVerification(DCV_requireCertificate);
  }
  return layer;
}

}  // namespace annot::node
