// The plugin's section of Orthanc's configuration, and the small Orthanc conventions core relies on.
#include <gtest/gtest.h>

#include "config/PluginConfig.h"
#include "dicomweb/DicomwebService.h"
#include "orthanc/OrthancDicomwebSource.h"
#include "orthanc/OrthancRest.h"

using namespace annot;

namespace {
std::string errorOf(const std::string& text) {
  try {
    PluginConfig::fromOrthancConfiguration(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(PluginConfig, DefaultsFollowOrthancsOwnSettings) {
  const auto c = PluginConfig::fromOrthancConfiguration(R"({"StorageDirectory": "/srv/orthanc", "DicomAet": "HOSPITAL"})");
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.dataDirectory, "/srv/orthanc/annotation");
  EXPECT_EQ(c.aeTitle, "HOSPITAL");
  EXPECT_TRUE(c.destinations.empty());
  EXPECT_EQ(c.taskLeaseSeconds, 1800u);
  EXPECT_EQ(c.orthancDicomwebRoot, "/dicom-web/");
  EXPECT_EQ(PluginConfig::fromOrthancConfiguration(R"({"DicomWeb": {"Root": "/web/"}})").orthancDicomwebRoot, "/web/");
}

TEST(PluginConfig, ReadsItsSectionWithCommentsAsOrthancDoes) {
  const auto c = PluginConfig::fromOrthancConfiguration(R"({
    // Orthanc's files may carry comments
    "AnnotationNode": {"DataDirectory": "/data/labels", "Destinations": ["modality:PACS", "peer:research-1"],
                       "TaskLeaseSeconds": 60, "InitialAdmin": "alice", "LogLevel": "debug"}})");
  EXPECT_EQ(c.dataDirectory, "/data/labels");
  EXPECT_EQ(c.destinations, (std::vector<std::string>{"modality:PACS", "peer:research-1"}));
  EXPECT_EQ(c.taskLeaseSeconds, 60u);
  EXPECT_EQ(c.initialAdmin, "alice");
}

TEST(PluginConfig, RefusesWhatItCannotUseNamingTheKey) {
  EXPECT_NE(errorOf(R"({"AnnotationNode": {"Destination": []}})").find("unknown configuration key 'Destination'"), std::string::npos);
  EXPECT_NE(errorOf(R"({"AnnotationNode": {"Destinations": ["PACS@host:104"]}})").find("'PACS@host:104'"), std::string::npos);
  EXPECT_NE(errorOf(R"({"AnnotationNode": {"Destinations": ["modality:../x"]}})").find("modality:../x"), std::string::npos);
  EXPECT_NE(errorOf(R"({"AnnotationNode": {"TaskLeaseSeconds": 0}})").find("TaskLeaseSeconds"), std::string::npos);
  EXPECT_NE(errorOf(R"({"AnnotationNode": {"OutboxMaxBackoffSeconds": 0}})").find("OutboxMaxBackoffSeconds"), std::string::npos);
  EXPECT_NE(errorOf(R"({"AnnotationNode": {"LogLevel": "loud"}})").find("loud"), std::string::npos);
  EXPECT_NE(errorOf(R"({"AnnotationNode": []})").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(errorOf("{").find("not valid JSON"), std::string::npos);
}

TEST(PluginConfig, DestinationsNameOrthancModalitiesOrPeers) {
  OrthancDestination d;
  ASSERT_TRUE(parseOrthancDestination("peer:site_B.2", d));
  EXPECT_EQ(d.kind, OrthancDestination::Kind::Peer);
  EXPECT_EQ(d.name, "site_B.2");
  EXPECT_FALSE(parseOrthancDestination("modality:", d));
  EXPECT_FALSE(parseOrthancDestination("aet:PACS", d));
  EXPECT_FALSE(parseOrthancDestination("modality:a/b", d));
}

TEST(OrthancRest, OrthancTimesBecomeUnixMilliseconds) {
  EXPECT_EQ(orthancTimeToMillis("19700101T000001"), 1000);
  EXPECT_EQ(orthancTimeToMillis("20261122T101530"), 1795342530000);
  EXPECT_EQ(orthancTimeToMillis("20261122T101530.25"), 1795342530250);
  EXPECT_EQ(orthancTimeToMillis("yesterday"), 0);
}

namespace {
// Only what a search becomes is checked here; nothing is sent.
class NoRest : public OrthancRest {
 public:
  RestAnswer call(const std::string&, const std::string& uri, const std::string&) override { throw std::logic_error("unexpected call " + uri); }
};

std::string uriOf(dicomweb::Level level, const std::multimap<std::string, std::string>& params,
                  std::optional<std::vector<std::string>> labeled = std::nullopt, const std::string& study = "") {
  NoRest rest;
  OrthancDicomwebSource source(rest, "dicom-web");
  dicomweb::Query q = dicomweb::parseQuery(level, params);
  q.onlyStudies = std::move(labeled);
  q.studyUid = study;
  return source.searchUri(q, params);
}
}  // namespace

TEST(OrthancDicomwebSource, StandardKeysGoToOrthancsDicomwebPluginAndLabelKeysNarrowTheStudies) {
  // Standard keys pass through (encoded); UID lists use ',' as Orthanc's plugin reads them; the
  // node's default page applies when the caller gives none.
  EXPECT_EQ(uriOf(dicomweb::Level::Study, {{"PatientID", "A B"}, {"StudyInstanceUID", "1.2\\1.3"}}),
            "/dicom-web/studies?PatientID=A B&StudyInstanceUID=1.2,1.3&limit=1000");
  // The product's keys never reach Orthanc; the studies they allow do, intersected with the caller's.
  EXPECT_EQ(uriOf(dicomweb::Level::Study,
                  {{"annotation.status", "approved"}, {"StudyInstanceUID", "1.2,1.3"}, {"includefield", "annotation.summary,StudyDescription"},
                   {"limit", "5"}},
                  std::vector<std::string>{"1.3", "1.4"}),
            "/dicom-web/studies?limit=5&includefield=StudyDescription&StudyInstanceUID=1.3");
  EXPECT_EQ(uriOf(dicomweb::Level::Study, {{"annotation.status", "approved"}, {"StudyInstanceUID", "1.2"}}, std::vector<std::string>{"1.4"}),
            "");
  // Scoped searches: the path names the study; a study outside the label set finds nothing.
  EXPECT_EQ(uriOf(dicomweb::Level::Series, {{"Modality", "SR"}}, std::vector<std::string>{"1.4"}, "1.4"),
            "/dicom-web/studies/1.4/series?Modality=SR&limit=1000");
  EXPECT_EQ(uriOf(dicomweb::Level::Series, {}, std::vector<std::string>{"1.4"}, "1.5"), "");
  EXPECT_EQ(uriOf(dicomweb::Level::Instance, {{"offset", "10"}}), "/dicom-web/instances?offset=10&limit=1000");
  // What the service adds to the query (the de-identified view needs the issuer for its
  // pseudonym) reaches Orthanc too.
  NoRest rest;
  OrthancDicomwebSource source(rest, "/dicom-web/");
  dicomweb::Query q = dicomweb::parseQuery(dicomweb::Level::Study, {});
  q.includeFields = {"PatientID", "IssuerOfPatientID"};
  EXPECT_EQ(source.searchUri(q, {}), "/dicom-web/studies?includefield=IssuerOfPatientID,PatientID&limit=1000");
  // Values go as they are: Orthanc hands them to its DICOMweb plugin without decoding.
  EXPECT_EQ(uriOf(dicomweb::Level::Study, {{"PatientID", "A+1"}, {"PatientName", "Doe^J*"}}),
            "/dicom-web/studies?PatientID=A+1&PatientName=Doe^J*&limit=1000");
  EXPECT_THROW(uriOf(dicomweb::Level::Study, {{"PatientID", "A&limit=1"}}), dicomweb::DicomwebError);
}
