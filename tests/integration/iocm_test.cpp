// IOCM (IHE Imaging Object Change Management): results withdrawn from a real Orthanc PACS with a
// rejection note (KOS, CID 7011) that passes dciodvfy and references exactly the withdrawn
// instances; the next completion revises them; and a node that receives such a note over
// C-STORE takes the rejected instances out of its index (DICOMweb no longer serves them).
#include <gtest/gtest.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <thread>

#include "NodeHarness.h"
#include "OrthancHarness.h"
#include "Validators.h"
#include "sr/RejectionNote.h"

using namespace annot::test;
using nlohmann::json;

namespace {
HttpResult as(const RunningNode& node, const std::string& token, const std::string& method, const std::string& target,
              const std::string& body = "") {
  return httpRequest(node.httpPort(), method, target, body, {{"Authorization", "Bearer " + token}, {"Accept", "application/dicom+json"}});
}

json outputsOf(const RunningNode& node, const std::string& task) { return node.getJson("/api/v1/tasks/" + task)["outputs"]; }

bool sentEverywhere(const json& output) {
  return !output["exports"].empty() && output["exports"][0]["state"] == "sent";
}

json noteAt(const std::string& point) {
  return {{"observer", {{"name", "Reader^Rita"}}},
          {"findings", {{{"label", "nodule"}, {"geometry", {{"type", "point"}, {"image", {{"sopInstanceUid", point}}}, {"points", {{9, 9}}}}}}}}};
}

// The SOP Instance UIDs a study lists over QIDO-RS on a node.
std::string listed(const RunningNode& node, const std::string& token, const std::string& study) {
  const HttpResult r = as(node, token, "GET", "/dicomweb/studies/" + study + "/instances");
  return r.status == 200 ? r.body : "";
}
}  // namespace

TEST(Iocm, WithdrawnResultsReachThePacsAsAValidRejectionNoteAndTheNextCompletionRevisesThem) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-quick", false);
  RunningOrthanc pacs(tmp / "pacs");
  RunningNode node(tmp / "data", NodeSettings{1,
                                              {{"ProtocolsDirectory", tmp / "protocols"},
                                               {"Pacs", {"ORTHANC@127.0.0.1:" + std::to_string(pacs.dicomPort())}},
                                               {"OutboxMaxBackoffSeconds", 1}}});
  const std::string reader = node.addUser("rita", "annotator");
  const std::string reviewer = node.addUser("rev", "reviewer");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "IOCM-1"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  ASSERT_EQ(storescu(node.dicomPort(), {tmp / "ct"}).exitCode, 0);
  const std::string task = firstTaskOf(node, study);
  ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/claim").status, 200);
  ASSERT_EQ(as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", noteAt(slice).dump()).status, 201);
  ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  ASSERT_TRUE(eventually([&] { return outputsOf(node, task).size() == 1 && sentEverywhere(outputsOf(node, task)[0]); }));
  const std::string firstSr = outputsOf(node, task)[0]["sopInstanceUid"];
  ASSERT_FALSE(pacs.findInstance(firstSr).empty());

  // Only reviewers and admins withdraw; a reason outside CID 7011 is refused.
  EXPECT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/withdraw", "{}").status, 403);
  EXPECT_EQ(as(node, reviewer, "POST", "/api/v1/tasks/" + task + "/withdraw", R"({"reason": "boredom"})").status, 400);
  const HttpResult withdrawn = as(node, reviewer, "POST", "/api/v1/tasks/" + task + "/withdraw",
                                  R"({"reason": "quality", "comment": "the nodule is a vessel"})");
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  const json w = json::parse(withdrawn.body);
  EXPECT_EQ(w["state"], "IN PROGRESS");
  EXPECT_EQ(w["assignee"], "rita") << "back with the reader who completed it";
  EXPECT_EQ(w["withdrawn"], json::array({firstSr}));
  const std::string note = w["rejectionNote"];
  EXPECT_EQ(as(node, reviewer, "POST", "/api/v1/tasks/" + task + "/withdraw", "{}").status, 409) << "open again: nothing to withdraw";

  // The note reaches the PACS, valid, titled "Rejected for Quality Reasons", naming the SR.
  ASSERT_TRUE(eventually([&] { return !pacs.findInstance(note).empty(); })) << "the rejection note reaches the PACS";
  writeFile(tmp / "note.dcm", pacs.instanceFile(pacs.findInstance(note)));
  EXPECT_TRUE(passesDciodvfy(tmp / "note.dcm", "KeyObjectSelectionDocument"));
  const std::string dump = runCommand({"dcmdump", tmp / "note.dcm"}).output;
  EXPECT_NE(dump.find("113001"), std::string::npos) << dump;
  EXPECT_NE(dump.find(firstSr), std::string::npos) << "the note references the withdrawn SR:\n" << dump;
  EXPECT_EQ(dump.find(slice), std::string::npos) << "and only it";
  EXPECT_NE(dump.find("IOCM-1"), std::string::npos) << "filed under the study's patient";
  const json pacsStudy = json::parse(httpGet(pacs.httpPort(), "/instances/" + pacs.findInstance(note) + "/study").body);
  EXPECT_EQ(pacsStudy["MainDicomTags"]["StudyInstanceUID"], study);

  // The node honours its own note: the withdrawn SR leaves its DICOMweb; the task shows why.
  ASSERT_TRUE(eventually([&] { return listed(node, reviewer, study).find(firstSr) == std::string::npos; }));
  EXPECT_NE(listed(node, reviewer, study).find(note), std::string::npos) << "the note itself stays";
  EXPECT_EQ(outputsOf(node, task)[0]["withdrawnBy"], note);

  // The reader revises and submits: the new SR names the withdrawn one as its predecessor.
  json revised = noteAt(slice);
  revised["findings"][0]["geometry"]["points"] = {{14, 12}};
  ASSERT_EQ(as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", revised.dump()).status, 201);
  ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  ASSERT_TRUE(eventually([&] { return outputsOf(node, task).size() == 2 && sentEverywhere(outputsOf(node, task)[1]); }));
  const std::string secondSr = outputsOf(node, task)[1]["sopInstanceUid"];
  writeFile(tmp / "second.dcm", pacs.instanceFile(pacs.findInstance(secondSr)));
  EXPECT_TRUE(passesDciodvfy(tmp / "second.dcm", "EnhancedSR"));
  const std::string predecessor = runCommand({"dcmdump", "+P", "0008,1155", tmp / "second.dcm"}).output;
  EXPECT_NE(predecessor.find(firstSr), std::string::npos) << predecessor;

  // Withdrawn before it reached the PACS (which is down): the result is skipped there, and only
  // the note goes once the PACS is back.
  pacs.stop();
  ASSERT_EQ(as(node, reviewer, "POST", "/api/v1/tasks/" + task + "/withdraw", "{}").status, 200);
  ASSERT_EQ(as(node, reader, "PUT", "/api/v1/tasks/" + task + "/annotation", noteAt(slice).dump()).status, 201);
  ASSERT_EQ(as(node, reader, "POST", "/api/v1/tasks/" + task + "/submit").status, 200);
  ASSERT_TRUE(eventually([&] { return outputsOf(node, task).size() == 3; }));
  const std::string thirdSr = outputsOf(node, task)[2]["sopInstanceUid"];
  const HttpResult unsent = as(node, reviewer, "POST", "/api/v1/tasks/" + task + "/withdraw", R"({"reason": "patient-safety"})");
  ASSERT_EQ(unsent.status, 200) << unsent.body;
  const std::string lastNote = json::parse(unsent.body)["rejectionNote"];
  EXPECT_EQ(outputsOf(node, task)[2]["exports"][0]["state"], "skipped") << outputsOf(node, task)[2].dump();
  pacs.start();
  ASSERT_TRUE(eventually([&] { return !pacs.findInstance(lastNote).empty(); }, std::chrono::seconds(30)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_TRUE(pacs.findInstance(thirdSr).empty()) << "a withdrawn result never reaches the PACS";

  // A second node that holds the withdrawn SR receives the PACS's copy of the note over
  // C-STORE, and takes the SR out of its index too.
  RunningNode other(tmp / "other", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  writeFile(tmp / "first.dcm", pacs.instanceFile(pacs.findInstance(firstSr)));
  ASSERT_EQ(storescu(other.dicomPort(), {tmp / "first.dcm"}).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return listed(other, other.adminToken(), study).find(firstSr) != std::string::npos; }));
  ASSERT_EQ(storescu(other.dicomPort(), {tmp / "note.dcm"}).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return listed(other, other.adminToken(), study).find(firstSr) == std::string::npos; }))
      << listed(other, other.adminToken(), study);
  EXPECT_EQ(listFiles(tmp / "other/rejected/" + note, ".dcm").size(), 1u) << "the file is kept in quarantine, not deleted";
  const json audit = other.getJson("/api/v1/audit?action=reject-instances");
  ASSERT_EQ(audit["entries"].size(), 1u);
  EXPECT_EQ(audit["entries"][0]["objectId"], firstSr);

  // Trust: a note an annotator stores over STOW-RS is kept but rejects nothing (withdrawing is
  // a reviewer's decision, made through the API).
  RunningNode third(tmp / "third", NodeSettings{1, {{"ProtocolsDirectory", tmp / "protocols"}}});
  ASSERT_EQ(storescu(third.dicomPort(), {tmp / "first.dcm"}).exitCode, 0);
  const std::string annotator = third.addUser("ann", "annotator");
  const std::string boundary = "iocm-boundary-7";
  const std::string body = "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + readFile(tmp / "note.dcm") + "\r\n--" + boundary + "--\r\n";
  const HttpResult stowed = httpRequest(third.httpPort(), "POST", "/dicomweb/studies", body,
                                        {{"Authorization", "Bearer " + annotator}, {"Accept", "application/dicom+json"},
                                         {"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + boundary}});
  ASSERT_EQ(stowed.status, 200) << stowed.body;
  ASSERT_TRUE(eventually([&] { return listed(third, third.adminToken(), study).find(note) != std::string::npos; }));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_NE(listed(third, third.adminToken(), study).find(firstSr), std::string::npos) << "an untrusted note rejects nothing";
  EXPECT_TRUE(third.getJson("/api/v1/audit?action=reject-instances")["entries"].empty());
}

TEST(Iocm, InsideOrthancAReviewedCaseIsWithdrawnThroughItsReviewAndApprovedAgain) {
  TempDir tmp;
  writeCtProtocol(tmp / "protocols", "ct-reviewed", true);
  RunningOrthanc orthanc(tmp / "orthanc", OrthancSettings{true, 1, {{"ProtocolsDirectory", tmp / "protocols"}, {"RejectionNoteSenders", {"PACS_A"}}}});
  auto call = [&](const std::string& token, const std::string& method, const std::string& path, const std::string& body = "") {
    return httpRequest(orthanc.httpPort(), method, "/annotation" + path, body, {{"Authorization", "Bearer " + token}});
  };
  const std::string admin = orthanc.adminToken();
  auto token = [&](const std::string& name, const std::string& role) {
    const HttpResult r = call(admin, "POST", "/api/v1/users", json{{"name", name}, {"role", role}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("token", "");
  };
  const std::string reader = token("rita", "annotator"), reviewer = token("rev", "reviewer");
  const std::string study = generateStudy(tmp / "ct", {"--slices", "2", "--rows", "32", "--columns", "32", "--patient-id", "IOCM-2"});
  const std::string slice = sopInstanceUidOf(listFiles(tmp / "ct", ".dcm").at(0));
  ASSERT_EQ(storescu(orthanc.dicomPort(), {tmp / "ct"}).exitCode, 0);
  auto tasksOf = [&](const std::string& step) {
    const HttpResult r = call(admin, "GET", "/api/v1/tasks?study=" + study + "&step=" + step);
    return r.status == 200 ? json::parse(r.body)["tasks"] : json::array();
  };
  ASSERT_TRUE(eventually([&] { return tasksOf("label").size() == 1; }, std::chrono::seconds(60)));
  const std::string label = std::to_string(tasksOf("label")[0]["id"].get<int>());
  ASSERT_EQ(call(reader, "POST", "/api/v1/tasks/" + label + "/claim").status, 200);
  ASSERT_EQ(call(reader, "PUT", "/api/v1/tasks/" + label + "/annotation", noteAt(slice).dump()).status, 201);
  ASSERT_EQ(call(reader, "POST", "/api/v1/tasks/" + label + "/submit").status, 200);
  ASSERT_TRUE(eventually([&] { return tasksOf("review").size() == 1; }));
  const std::string review = std::to_string(tasksOf("review")[0]["id"].get<int>());
  ASSERT_EQ(call(reviewer, "POST", "/api/v1/tasks/" + review + "/claim").status, 200);
  ASSERT_EQ(call(reviewer, "POST", "/api/v1/tasks/" + review + "/review", R"({"decision": "approve"})").status, 200);
  auto outputs = [&] { return json::parse(call(admin, "GET", "/api/v1/tasks/" + label).body)["outputs"]; };
  ASSERT_TRUE(eventually([&] { return outputs().size() == 1; }));
  const std::string firstSr = outputs()[0]["sopInstanceUid"];

  EXPECT_EQ(call(reviewer, "POST", "/api/v1/tasks/" + label + "/withdraw", "{}").status, 409) << "a reviewed case goes through its review";
  const HttpResult withdrawn = call(reviewer, "POST", "/api/v1/tasks/" + review + "/withdraw", R"({"reason": "worklist-entry"})");
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  const std::string note = json::parse(withdrawn.body)["rejectionNote"];
  EXPECT_EQ(json::parse(withdrawn.body)["withdrawn"], json::array({firstSr}));
  EXPECT_EQ(json::parse(withdrawn.body)["assignee"], "rev");
  ASSERT_FALSE(orthanc.findInstance(note).empty()) << "the note is in Orthanc";
  writeFile(tmp / "note.dcm", orthanc.instanceFile(orthanc.findInstance(note)));
  EXPECT_TRUE(passesDciodvfy(tmp / "note.dcm", "KeyObjectSelectionDocument"));
  const std::string dump = runCommand({"dcmdump", tmp / "note.dcm"}).output;
  EXPECT_NE(dump.find("113038"), std::string::npos) << "Incorrect Modality Worklist Entry";
  EXPECT_NE(dump.find(firstSr), std::string::npos);

  // Orthanc honours the product's own note: the withdrawn SR leaves Orthanc, kept in quarantine.
  ASSERT_TRUE(eventually([&] { return orthanc.findInstance(firstSr).empty(); })) << "the withdrawn SR leaves Orthanc";
  const std::string kept = orthanc.pluginDataDir() + "/rejected/" + note + "/" + firstSr + ".dcm";
  EXPECT_EQ(sopInstanceUidOf(kept), firstSr) << "a copy is kept";
  EXPECT_FALSE(orthanc.findInstance(note).empty()) << "the note stays";

  // A note from a DICOM peer: honoured only from a trusted sender (RejectionNoteSenders).
  const std::string other = listFiles(tmp / "ct", ".dcm").at(1);
  auto noteFor = [&](const std::string& path) {
    DcmFileFormat source, out;
    EXPECT_TRUE(source.loadFile(other.c_str()).good());
    DcmDataset& ds = *source.getDataset();
    OFString st, se, cl, in;
    ds.findAndGetOFString(DCM_StudyInstanceUID, st);
    ds.findAndGetOFString(DCM_SeriesInstanceUID, se);
    ds.findAndGetOFString(DCM_SOPClassUID, cl);
    ds.findAndGetOFString(DCM_SOPInstanceUID, in);
    annot::RejectionNoteOptions options;
    annot::writeRejectionNote(ds, {{st.c_str(), se.c_str(), cl.c_str(), in.c_str()}}, options, out);
    EXPECT_TRUE(out.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
    return std::string(in.c_str());
  };
  const std::string otherSlice = noteFor(tmp / "untrusted.dcm");
  noteFor(tmp / "trusted.dcm");
  ASSERT_EQ(storescu(orthanc.dicomPort(), {tmp / "untrusted.dcm"}, "STRANGER").exitCode, 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_FALSE(orthanc.findInstance(otherSlice).empty()) << "an untrusted sender rejects nothing";
  ASSERT_EQ(storescu(orthanc.dicomPort(), {tmp / "trusted.dcm"}, "PACS_A").exitCode, 0);
  EXPECT_TRUE(eventually([&] { return orthanc.findInstance(otherSlice).empty(); })) << "a trusted sender's note is honoured";

  // Approved again: a new SR that revises the withdrawn one.
  ASSERT_EQ(call(reviewer, "POST", "/api/v1/tasks/" + review + "/review", R"({"decision": "approve"})").status, 200);
  ASSERT_TRUE(eventually([&] { return outputs().size() == 2; }));
  EXPECT_EQ(outputs()[0]["withdrawnBy"], note);
  const std::string secondSr = outputs()[1]["sopInstanceUid"];
  ASSERT_FALSE(orthanc.findInstance(secondSr).empty());
  writeFile(tmp / "second.dcm", orthanc.instanceFile(orthanc.findInstance(secondSr)));
  EXPECT_NE(runCommand({"dcmdump", "+P", "0008,1155", tmp / "second.dcm"}).output.find(firstSr), std::string::npos) << "its predecessor";
}
