// The plugin's section of Orthanc's configuration, and the small Orthanc conventions core relies on.
#include <gtest/gtest.h>

#include "config/PluginConfig.h"
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
