#include <gtest/gtest.h>

#include "config/NodeConfig.h"
#include "support/TestSupport.h"

using annot::NodeConfig;
using annot::ResultFallback;

TEST(NodeConfig, DefaultsMatchTheDocumentedEmbeddedSetup) {
  const NodeConfig c;
  EXPECT_EQ(c.dataDirectory, "./var");
  EXPECT_EQ(c.dicomPort, 11112);
  EXPECT_EQ(c.httpPort, 8080);
  EXPECT_EQ(c.dicomAet, "ANNOTNODE");
  EXPECT_EQ(c.stableAgeSeconds, 60u);
  EXPECT_NO_THROW(c.validate());
}

TEST(NodeConfig, ReadsEveryKeyAndAllowsComments) {
  const NodeConfig c = NodeConfig::fromJsonText(R"({
    // site configuration
    "DataDirectory": "/srv/annot", "DicomAet": "LABELS", "DicomPort": 104, "HttpPort": 9000,
    "AllowedCallingAets": ["CT1", "MR2"], "CheckCalledAet": false, "MaxAssociations": 8,
    "MaxPduSize": 65536, "DimseTimeout": 10, "AcseTimeout": 5, "HttpBindAddress": "127.0.0.1",
    "HttpThreads": 2, "MaxHttpBodySize": 1000, "StableAge": 5, "LogLevel": "debug", "MinFreeDiskSpaceMB": 10,
    "MallocArenaMax": 2
  })");
  EXPECT_EQ(c.dataDirectory, "/srv/annot");
  EXPECT_EQ(c.dicomAet, "LABELS");
  EXPECT_EQ(c.dicomPort, 104);
  EXPECT_EQ(c.httpPort, 9000);
  EXPECT_EQ(c.allowedCallingAets, (std::vector<std::string>{"CT1", "MR2"}));
  EXPECT_FALSE(c.checkCalledAet);
  EXPECT_EQ(c.maxAssociations, 8u);
  EXPECT_EQ(c.maxPduSize, 65536u);
  EXPECT_EQ(c.httpBindAddress, "127.0.0.1");
  EXPECT_EQ(c.maxHttpBodyBytes, 1000u);
  EXPECT_EQ(c.stableAgeSeconds, 5u);
  EXPECT_EQ(c.logLevel, "debug");
  EXPECT_EQ(c.minFreeDiskSpaceMb, 10u);
  EXPECT_EQ(c.mallocArenaMax, 2u);
}

TEST(NodeConfig, ReadsTheTlsKeysAndRefusesHalfOfAPair) {
  const NodeConfig c = NodeConfig::fromJsonText(R"({
    "HttpsCertificate": "/etc/a/http.crt", "HttpsPrivateKey": "/etc/a/http.key",
    "DicomTlsCertificate": "/etc/a/dicom.crt", "DicomTlsPrivateKey": "/etc/a/dicom.key",
    "DicomTlsTrustedCertificates": "/etc/a/modalities.pem",
    "PacsTlsTrustedCertificates": "/etc/a/pacs-ca.pem", "PacsTlsCertificate": "/etc/a/client.crt",
    "PacsTlsPrivateKey": "/etc/a/client.key"
  })");
  EXPECT_EQ(c.httpsCertificate, "/etc/a/http.crt");
  EXPECT_EQ(c.httpsPrivateKey, "/etc/a/http.key");
  EXPECT_EQ(c.dicomTlsCertificate, "/etc/a/dicom.crt");
  EXPECT_EQ(c.dicomTlsPrivateKey, "/etc/a/dicom.key");
  EXPECT_EQ(c.dicomTlsTrustedCertificates, "/etc/a/modalities.pem");
  EXPECT_EQ(c.pacsTlsTrustedCertificates, "/etc/a/pacs-ca.pem");
  EXPECT_EQ(c.pacsTlsCertificate, "/etc/a/client.crt");
  EXPECT_EQ(c.pacsTlsPrivateKey, "/etc/a/client.key");
  EXPECT_EQ(NodeConfig::fromJsonText(c.toJsonText()).toJsonText(), c.toJsonText());

  auto errorOf = [](const std::string& json) -> std::string {
    try {
      NodeConfig::fromJsonText(json);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(errorOf(R"({"HttpsCertificate": "a.crt"})").find("HttpsCertificate and HttpsPrivateKey must be given together"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"DicomTlsPrivateKey": "a.key"})").find("DicomTlsCertificate and DicomTlsPrivateKey must be given together"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"DicomTlsTrustedCertificates": "m.pem"})").find("DicomTlsTrustedCertificates needs DicomTlsCertificate"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"PacsTlsCertificate": "c.crt", "PacsTlsPrivateKey": "c.key"})").find("PacsTlsCertificate needs PacsTlsTrustedCertificates"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"PacsTlsTrustedCertificates": "p.pem", "PacsTlsCertificate": "c.crt"})")
                .find("PacsTlsCertificate and PacsTlsPrivateKey must be given together"),
            std::string::npos);
}

TEST(NodeConfig, RoundTripsThroughItsOwnJson) {
  NodeConfig c;
  c.dicomAet = "X1";
  c.allowedCallingAets = {"A"};
  const NodeConfig again = NodeConfig::fromJsonText(c.toJsonText());
  EXPECT_EQ(again.toJsonText(), c.toJsonText());
}

namespace {
std::string errorOf(const std::string& json) {
  try {
    NodeConfig::fromJsonText(json);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(NodeConfig, RejectsBadInputWithAMessageNamingTheKey) {
  EXPECT_NE(errorOf(R"({"DicomPrt": 104})").find("unknown configuration key 'DicomPrt'"), std::string::npos);
  EXPECT_NE(errorOf(R"({"DicomPort": 70000})").find("'DicomPort' is too large"), std::string::npos);
  EXPECT_NE(errorOf(R"({"DicomPort": "104"})").find("'DicomPort' must be a non-negative integer"), std::string::npos);
  EXPECT_NE(errorOf(R"({"DicomAet": "THIS_AE_TITLE_IS_TOO_LONG"})").find("not a valid AE title"), std::string::npos);
  EXPECT_NE(errorOf(R"({"AllowedCallingAets": "CT1"})").find("must be an array"), std::string::npos);
  EXPECT_NE(errorOf(R"({"MaxPduSize": 100})").find("MaxPduSize must be between"), std::string::npos);
  EXPECT_NE(errorOf(R"({"TaskLeaseSeconds": 0})").find("'TaskLeaseSeconds' must be at least 1"), std::string::npos);
  EXPECT_NE(errorOf(R"({"OutboxMaxBackoffSeconds": 0})").find("'OutboxMaxBackoffSeconds' must be at least 1"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"LogLevel": "loud"})").find("unknown log level 'loud'"), std::string::npos);
  EXPECT_NE(errorOf(R"([1,2])").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(errorOf(R"({"DicomPort": )").find("not valid JSON"), std::string::npos);
  EXPECT_NE(errorOf(R"({"ResultFallback": {"Segmentation": "drop"}})").find("ResultFallback.Segmentation must be \"hold\" or \"skip\""),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"ResultFallback": {"EnhancedSR": "basic"}})").find("ResultFallback.EnhancedSR must be"), std::string::npos);
  EXPECT_NE(errorOf(R"({"ResultFallback": {"Seg": "skip"}})").find("unknown configuration key 'Seg'"), std::string::npos);
  EXPECT_NE(errorOf(R"({"ResultFallback": "skip"})").find("ResultFallback must be an object"), std::string::npos);
  EXPECT_NE(errorOf(R"({"MallocArenaMax": 65})").find("MallocArenaMax must be between 0"), std::string::npos);
}

TEST(NodeConfig, ResultFallbackDefaultsToComprehensiveSrAndHeldSegs) {
  const NodeConfig defaults = NodeConfig::fromJsonText("{}");
  EXPECT_EQ(defaults.resultFallback.segmentation, ResultFallback::Segmentation::Hold);
  EXPECT_EQ(defaults.resultFallback.enhancedSr, ResultFallback::EnhancedSr::Comprehensive);
  const NodeConfig skip = NodeConfig::fromJsonText(R"({"ResultFallback": {"Segmentation": "skip", "EnhancedSR": "hold"}})");
  EXPECT_EQ(skip.resultFallback.segmentation, ResultFallback::Segmentation::Skip);
  EXPECT_EQ(skip.resultFallback.enhancedSr, ResultFallback::EnhancedSr::Hold);
  EXPECT_EQ(NodeConfig::fromJsonText(skip.toJsonText()).toJsonText(), skip.toJsonText());
}

TEST(NodeConfig, FileErrorsNameTheFile) {
  annot::test::TempDir dir;
  annot::test::writeFile(dir / "c.json", R"({"HttpThreads": 0})");
  try {
    NodeConfig::fromFile(dir / "c.json");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(dir / "c.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("HttpThreads"), std::string::npos);
  }
  EXPECT_THROW(NodeConfig::fromFile(dir / "missing.json"), std::invalid_argument);
}
