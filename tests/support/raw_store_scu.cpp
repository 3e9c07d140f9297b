// annot-rawstorescu: sends a file's bytes (after its meta header) as a C-STORE dataset with a
// command of our choosing, without parsing or fixing anything: the dataset goes out as raw
// P-DATA fragments. storescu (and DCMTK's DIMSE layer) refuse to send broken data; this tool
// exists to feed the node truncated datasets and commands that contradict their data. Prints "status 0xNNNN" (and the Error Comment) and exits 0 when a response came.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {
// The bytes after the Part 10 meta header (preamble, "DICM", group length element, group).
std::string datasetBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  const std::string bytes = s.str();
  if (bytes.size() < 144 || bytes.compare(128, 4, "DICM") != 0) return bytes;  // raw dataset already
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + 140);
  const uint32_t groupLength = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
  return bytes.size() > 144 + groupLength ? bytes.substr(144 + groupLength) : std::string();
}

// `pauseMs` > 0: after the first fragment, says "paused" and waits that long before the rest,
// so a test can act while a store is in flight.
OFCondition sendRaw(T_ASC_Association* assoc, T_ASC_PresentationContextID presId, std::string data, bool command, int pauseMs = 0) {
  const size_t fragment = assoc->sendPDVLength > 0 ? assoc->sendPDVLength : 16384;
  size_t offset = 0;
  do {
    const size_t n = std::min(fragment, data.size() - offset);
    DUL_PDV pdv;
    pdv.fragmentLength = static_cast<unsigned long>(n);
    pdv.presentationContextID = presId;
    pdv.pdvType = command ? DUL_COMMANDPDV : DUL_DATASETPDV;
    pdv.lastPDV = offset + n >= data.size() ? OFTrue : OFFalse;
    pdv.data = &data[offset];
    DUL_PDVLIST list;
    list.count = 1;
    list.pdv = &pdv;
    const OFCondition cond = DUL_WritePDVs(&assoc->DULassociation, &list);
    if (cond.bad()) return cond;
    offset += n;
    if (pauseMs > 0 && offset == n && offset < data.size()) {
      std::printf("paused\n");
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::milliseconds(pauseMs));
    }
  } while (offset < data.size());
  return EC_Normal;
}
// A C-STORE-RQ command set (PS3.7 9.3.1.1) in Implicit VR Little Endian, as DIMSE encodes it.
std::string encodeStoreCommand(const std::string& sopClass, const std::string& sopInstance, Uint16 messageId) {
  DcmDataset cmd;
  cmd.putAndInsertString(DCM_AffectedSOPClassUID, sopClass.c_str());
  cmd.putAndInsertUint16(DCM_CommandField, 0x0001);
  cmd.putAndInsertUint16(DCM_MessageID, messageId);
  cmd.putAndInsertUint16(DCM_Priority, 0x0000);
  cmd.putAndInsertUint16(DCM_CommandDataSetType, 0x0000);
  cmd.putAndInsertString(DCM_AffectedSOPInstanceUID, sopInstance.c_str());
  cmd.computeGroupLengthAndPadding(EGL_withGL, EPD_noChange, EXS_LittleEndianImplicit, EET_ExplicitLength);
  std::vector<char> buffer(8192);
  DcmOutputBufferStream out(buffer.data(), buffer.size());
  cmd.transferInit();
  cmd.write(out, EXS_LittleEndianImplicit, EET_ExplicitLength, nullptr);
  cmd.transferEnd();
  void* data = nullptr;
  offile_off_t length = 0;
  out.flushBuffer(data, length);
  return std::string(static_cast<const char*>(data), static_cast<size_t>(length));
}
}  // namespace

namespace {
// Frees what DCMTK allocated for the association and network, whatever happened.
struct Cleanup {
  T_ASC_Network* net = nullptr;
  T_ASC_Parameters* params = nullptr;  // owned by the association once one was requested
  T_ASC_Association* assoc = nullptr;
  ~Cleanup() {
    if (assoc) ASC_destroyAssociation(&assoc);
    else if (params) ASC_destroyAssociationParameters(&params);
    if (net) ASC_dropNetwork(&net);
  }
};
}  // namespace

int main(int argc, char** argv) {
  std::string aec = "ANNOTNODE", aet = "RAWSCU", host = "127.0.0.1", contextClass, sopClass, sopInstance, file;
  std::string ts = UID_LittleEndianExplicitTransferSyntax;
  int port = 0, holdMs = 0, pauseMs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--aec") aec = next();
    else if (a == "--aet") aet = next();
    else if (a == "--port") port = std::stoi(next());
    else if (a == "--context-sop-class") contextClass = next();
    else if (a == "--sop-class") sopClass = next();
    else if (a == "--sop-instance") sopInstance = next();
    else if (a == "--ts") ts = next();
    else if (a == "--hold-ms") holdMs = std::stoi(next());
    else if (a == "--pause-mid-ms") pauseMs = std::stoi(next());
    else file = a;
  }
  if (!port || sopClass.empty() || sopInstance.empty() || file.empty()) {
    std::fprintf(stderr, "usage: annot-rawstorescu --port P --sop-class UID --sop-instance UID "
                         "[--context-sop-class UID] [--ts UID] [--aec AET] [--aet AET] [--hold-ms N] [--pause-mid-ms N] FILE\n"
                         "--hold-ms keeps the association open that long after the response (prints 'holding');\n"
                         "--pause-mid-ms stops that long after the dataset's first fragment (prints 'paused').\n");
    return 2;
  }
  if (contextClass.empty()) contextClass = sopClass;

  Cleanup held;
  T_ASC_Network*& net = held.net;
  T_ASC_Parameters*& params = held.params;
  T_ASC_Association*& assoc = held.assoc;
  OFCondition cond = ASC_initializeNetwork(NET_REQUESTOR, 0, 30, &net);
  if (cond.good()) cond = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
  if (cond.bad()) {
    std::fprintf(stderr, "init failed: %s\n", cond.text());
    return 1;
  }
  ASC_setAPTitles(params, aet.c_str(), aec.c_str(), nullptr);
  const std::string peer = host + ":" + std::to_string(port);
  ASC_setPresentationAddresses(params, "localhost", peer.c_str());
  const char* syntaxes[] = {ts.c_str()};
  ASC_addPresentationContext(params, 1, contextClass.c_str(), syntaxes, 1);
  cond = ASC_requestAssociation(net, params, &assoc);
  if (cond.bad()) {
    std::printf("association failed: %s\n", cond.text());
    return 1;
  }
  const T_ASC_PresentationContextID presId = ASC_findAcceptedPresentationContextID(assoc, contextClass.c_str());
  if (presId == 0) {
    std::printf("presentation context not accepted\n");
    ASC_releaseAssociation(assoc);
    return 1;
  }
  T_DIMSE_C_StoreRQ req;
  std::memset(&req, 0, sizeof req);
  req.MessageID = assoc->nextMsgID++;
  OFStandard::strlcpy(req.AffectedSOPClassUID, sopClass.c_str(), sizeof req.AffectedSOPClassUID);
  OFStandard::strlcpy(req.AffectedSOPInstanceUID, sopInstance.c_str(), sizeof req.AffectedSOPInstanceUID);
  req.DataSetType = DIMSE_DATASET_PRESENT;
  req.Priority = DIMSE_PRIORITY_MEDIUM;
  // Command and dataset go out as raw fragments: the dataset exactly as in the file.
  cond = sendRaw(assoc, presId, encodeStoreCommand(sopClass, sopInstance, req.MessageID), true);
  if (cond.good()) cond = sendRaw(assoc, presId, datasetBytes(file), false, pauseMs);
  if (cond.bad()) {
    std::printf("store failed: %s\n", cond.text());
    ASC_abortAssociation(assoc);
    return 1;
  }
  T_DIMSE_Message response;
  T_ASC_PresentationContextID responseContext = 0;
  DcmDataset* detail = nullptr;
  cond = DIMSE_receiveCommand(assoc, DIMSE_BLOCKING, 0, &responseContext, &response, &detail);
  if (cond.bad() || response.CommandField != DIMSE_C_STORE_RSP) {
    std::printf("no C-STORE response: %s\n", cond.text());
    ASC_abortAssociation(assoc);
    return 1;
  }
  std::printf("status 0x%04x\n", response.msg.CStoreRSP.DimseStatus);
  if (detail) {
    OFString comment;
    if (detail->findAndGetOFString(DCM_ErrorComment, comment).good()) std::printf("comment %s\n", comment.c_str());
    delete detail;
  }
  if (holdMs > 0) {
    std::printf("holding\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(holdMs));
  }
  ASC_releaseAssociation(assoc);
  return 0;
}
