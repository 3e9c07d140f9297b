// ATNA audit messages: what each product action is in PS3.15's vocabulary, the XML's escaping,
// the RFC 5424 framing, the repository address, and the forwarder's place in the trail across
// restarts (a UDP socket here stands for the repository).
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "audit/AtnaForwarder.h"
#include "audit/AtnaMessage.h"
#include "common/Base64.h"
#include "config/ConfigReaders.h"
#include "support/TestSupport.h"

using namespace annot;

namespace {
AuditEvent event(const std::string& action, const std::string& detail = "", const std::string& outcome = "success") {
  AuditEvent e;
  e.user = "rita";
  e.role = "annotator";
  e.action = action;
  e.objectType = "task";
  e.objectId = "7";
  e.outcome = outcome;
  e.detail = detail;
  e.source = "10.1.2.3";
  return e;
}

AtnaSource source() {
  AtnaSource s;
  s.sourceId = "ANNOTNODE";
  s.aeTitle = "ANNOTNODE";
  s.hostName = "reading room 3";
  s.processId = "4242";
  return s;
}
}  // namespace

TEST(Atna, ProductActionsMapOntoTheStandardsEventIdsAndActionCodes) {
  struct Case {
    std::string action, detail, eventId;
    char actionCode;
    std::string typeCode;
  };
  const std::vector<Case> cases = {
      {"sign-in", "", "110114", 'E', "110122"},          {"sign-out", "", "110114", 'E', "110123"},
      {"authenticate", "", "110114", 'E', "110122"},     {"access", "", "110113", 'E', "110132"},
      {"create-user", "", "110113", 'E', "110137"},      {"revoke-token", "", "110113", 'E', "110137"},
      {"list-studies", "", "110112", 'E', ""},           {"dicomweb-search", "", "110112", 'E', ""},
      {"dicomweb-retrieve", "", "110104", 'R', ""},      {"dicomweb-store", "", "110104", 'C', ""},
      {"export", "", "110104", 'R', ""},                 {"view-annotation", "", "110103", 'R', ""},
      {"save-annotation", "revision 1", "110103", 'C', ""}, {"save-draft", "revision 2", "110103", 'U', ""},
      {"claim", "", "110111", 'U', ""},                  {"schedule-tasks", "", "110111", 'C', ""},
      {"review-approve", "", "110111", 'U', ""},         {"query-audit", "", "110101", 'R', ""},
  };
  for (const auto& c : cases) {
    const AtnaEventKind kind = atnaEventKind(event(c.action, c.detail));
    EXPECT_EQ(kind.id.code, c.eventId) << c.action;
    EXPECT_EQ(kind.id.system, "DCM") << c.action;
    EXPECT_EQ(kind.action, c.actionCode) << c.action;
    EXPECT_EQ(kind.type ? kind.type->code : "", c.typeCode) << c.action;
  }
}

TEST(Atna, TheMessageEscapesWhatPeopleTypeAndNamesStudyPatientAndOutcome) {
  AuditEntry entry;
  entry.id = 9;
  entry.timeMs = 1796000000123;  // 2026-11-30T00:53:20.123Z
  entry.event = event("save-annotation", "problems: <none> & \"quoted\"", "failure");
  AtnaStudy study{"1.2.3", "Chest & <abdomen>", "ACC-1", "P-9", "O'Brien^Ann"};
  const std::string xml = atnaMessage(entry, {study}, source());
  EXPECT_NE(xml.find("<EventOutcomeDescription>problems: &lt;none&gt; &amp; &quot;quoted&quot;</EventOutcomeDescription>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("EventOutcomeIndicator=\"8\""), std::string::npos);
  EXPECT_NE(xml.find("EventDateTime=\"2026-11-30T00:53:20.123Z\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<ParticipantObjectName>O&apos;Brien^Ann</ParticipantObjectName>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<ParticipantObjectName>Chest &amp; &lt;abdomen&gt;</ParticipantObjectName>"), std::string::npos);
  EXPECT_NE(xml.find("<Accession Number=\"ACC-1\"/>"), std::string::npos);
  EXPECT_NE(xml.find("ParticipantObjectID=\"P-9\" ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\""), std::string::npos);
  EXPECT_NE(xml.find("UserID=\"rita\" AlternativeUserID=\"annotator\" UserIsRequestor=\"true\" NetworkAccessPointID=\"10.1.2.3\""),
            std::string::npos) << xml;
  // Bytes that are not UTF-8 (a name in another character set) become U+FFFD; valid ones stay.
  AtnaStudy latin1{"1.2.3", "", "", "P-9", std::string("M\xFCller^J\xC3\xBCrgen")};
  const std::string odd = atnaMessage(entry, {latin1}, source());
  EXPECT_NE(odd.find("M\xEF\xBF\xBDller^J\xC3\xBCrgen"), std::string::npos) << odd;
    // Success says nothing more than its indicator.
  entry.event.outcome = "success";
  EXPECT_EQ(atnaMessage(entry, {study}, source()).find("EventOutcomeDescription"), std::string::npos);
}

TEST(Atna, TheNodeActingOnItsOwnIsTheRequestorAndNamesWhereItSent) {
  AuditEntry entry;
  entry.timeMs = 1796000000000;
  entry.event = {"", "", "export", "instance", "1.2.3.4.5", "success", "PACS@10.0.0.9:104 status 0000: stored", "outbox"};
  const std::string xml = atnaMessage(entry, {AtnaStudy{"1.2.3", "", "", "P-9", "Doe^J"}}, source());
  EXPECT_NE(xml.find("<ActiveParticipant UserID=\"ANNOTNODE\" AlternativeUserID=\"4242\" UserIsRequestor=\"true\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<ActiveParticipant UserID=\"PACS@10.0.0.9:104\" UserIsRequestor=\"false\"><RoleIDCode csd-code=\"110152\""),
            std::string::npos) << xml;
  EXPECT_NE(xml.find("<SOPClass NumberOfInstances=\"1\"><Instance UID=\"1.2.3.4.5\"/></SOPClass>"), std::string::npos);
  EXPECT_EQ(xml.find("UserID=\"\""), std::string::npos) << "no anonymous participant";
}

TEST(Atna, SyslogRecordsFollowRfc5424) {
  const std::string record = syslogRecord("<AuditMessage/>", 1796000000005, source());
  EXPECT_EQ(record.rfind("<85>1 2026-11-30T00:53:20", 0), 0u) << record;
  // Header fields carry no spaces: the host name loses its own.
  EXPECT_NE(record.find(".005Z readingroom3 annotation-node 4242 IHE+RFC-3881 - \xEF\xBB\xBF<AuditMessage/>"), std::string::npos) << record;
  AtnaSource empty = source();
  empty.hostName = "";
  EXPECT_NE(syslogRecord("x", 0, empty).find("Z - annotation-node"), std::string::npos) << "an unknown host is '-'";
}

TEST(Atna, Base64FollowsRfc4648) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [in, out] : vectors) EXPECT_EQ(base64Encode(in), out) << in;
  EXPECT_EQ(base64UrlEncodeUnpadded("\xfb\xff"), "-_8");
}

TEST(Atna, RepositoryAddressesAndSettingsAreCheckedWhenRead) {
  EXPECT_EQ(parseSyslogAddress("udp://audit.example").port, "514");
  const SyslogAddress tls = parseSyslogAddress("tls://[::1]:7000");
  EXPECT_TRUE(tls.tls);
  EXPECT_EQ(tls.host, "::1");
  EXPECT_EQ(tls.port, "7000");
  EXPECT_EQ(parseSyslogAddress("tls://audit.example").port, "6514");
  for (const char* bad : {"tcp://a:1", "udp://", "udp://a:x", "audit.example:514"}) {
    EXPECT_THROW(parseSyslogAddress(bad), std::invalid_argument) << bad;
  }
  using nlohmann::json;
  EXPECT_FALSE(config::readAuditRepository(json::object()).enabled());
  const auto ok = config::readAuditRepository(json{{"AuditRepository", {{"Url", "tls://a:6514"}, {"SourceId", "RAD1"}}}});
  EXPECT_EQ(ok.sourceId, "RAD1");
  const std::vector<json> refused = {
      {{"AuditRepository", "udp://a:514"}},
      {{"AuditRepository", json::object()}},
      {{"AuditRepository", {{"Url", "udp://a:514"}, {"Certificate", "c.pem"}, {"PrivateKey", "k.pem"}}}},
      {{"AuditRepository", {{"Url", "tls://a:6514"}, {"Certificate", "c.pem"}}}},
      {{"AuditRepository", {{"Url", "tls://a:6514"}, {"Port", 1}}}},
  };
  for (const auto& doc : refused) EXPECT_THROW(config::readAuditRepository(doc), std::invalid_argument) << doc.dump();
}

TEST(Atna, TheForwarderStartsAtTheEndOfTheTrailAndResumesWhereItStoppedAfterARestart) {
  namespace asio = boost::asio;
  test::TempDir dir;
  StateDatabase db(dir / "state.sqlite");
  AuditLog log(db);
  asio::io_context io;
  asio::ip::udp::socket repository(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  AuditRepositorySettings settings;
  settings.url = "udp://127.0.0.1:" + std::to_string(repository.local_endpoint().port());
  auto received = [&](size_t expected) {
    std::vector<std::string> out;
    char buffer[70000];
    while (out.size() < expected) out.emplace_back(buffer, repository.receive(asio::buffer(buffer)));
    EXPECT_EQ(repository.available(), 0u) << "nothing more than expected";
    return out;
  };
  const AtnaStudyLookup none = [](const AuditEvent&) { return std::vector<AtnaStudy>{}; };

  log.record(event("claim"));  // history before the repository is configured: not sent
  {
    AtnaForwarder forwarder(log, db, settings, source(), none);
    forwarder.start();
    forwarder.stop();
    log.record(event("save-annotation", "revision 1"));
    log.record(event("submit"));
    EXPECT_EQ(forwarder.forward(), 2u);
    const auto two = received(2);
    EXPECT_NE(two[0].find("csd-code=\"110103\""), std::string::npos);
    EXPECT_NE(two[1].find("csd-code=\"110111\""), std::string::npos);
    EXPECT_EQ(forwarder.forward(), 0u) << "each entry once";
  }
  // Recorded while no forwarder runs (the node was stopped), sent by the next one.
  log.record(event("release"));
  AtnaForwarder again(log, db, settings, source(), none);
  again.start();
  again.stop();
  EXPECT_EQ(again.forward(), 1u);
  EXPECT_EQ(received(1).size(), 1u);
}
