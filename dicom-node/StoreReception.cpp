#include "StoreReception.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcuid.h>

namespace annot::node {
namespace {

// DCMTK's stream interface over an IncomingFile: the network layer writes each PDV here.
class FileConsumer : public DcmConsumer {
 public:
  explicit FileConsumer(IncomingFile& file) : file_(file) {}
  OFBool good() const override { return OFTrue; }  // failures are held by the file, see below
  OFCondition status() const override { return EC_Normal; }
  OFBool isFlushed() const override { return OFTrue; }
  offile_off_t avail() const override { return OFstatic_cast(offile_off_t, 1) << 30; }
  offile_off_t write(const void* buf, offile_off_t buflen) override {
    file_.append(buf, static_cast<size_t>(buflen));
    return buflen;
  }
  void flush() override {}

 private:
  IncomingFile& file_;
};

class FileStream : public DcmOutputStream {
 public:
  explicit FileStream(DcmConsumer* consumer) : DcmOutputStream(consumer) {}
};

OFCondition writeMetaHeader(DcmOutputStream& out, const T_DIMSE_C_StoreRQ& request,
                            const std::string& transferSyntax, const std::string& callingAet) {
  DcmMetaInfo meta;
  const Uint8 version[] = {0x00, 0x01};
  OFCondition c = meta.putAndInsertUint8Array(DCM_FileMetaInformationVersion, version, 2);
  if (c.good()) c = meta.putAndInsertString(DCM_MediaStorageSOPClassUID, request.AffectedSOPClassUID);
  if (c.good()) c = meta.putAndInsertString(DCM_MediaStorageSOPInstanceUID, request.AffectedSOPInstanceUID);
  if (c.good()) c = meta.putAndInsertString(DCM_TransferSyntaxUID, transferSyntax.c_str());
  if (c.good()) c = meta.putAndInsertString(DCM_ImplementationClassUID, OFFIS_IMPLEMENTATION_CLASS_UID);
  // The name DCMTK gives files it stores bit-preserving, as these are.
  if (c.good()) c = meta.putAndInsertString(DCM_ImplementationVersionName, OFFIS_DTK_IMPLEMENTATION_VERSION_NAME2);
  if (c.good() && !callingAet.empty()) c = meta.putAndInsertString(DCM_SourceApplicationEntityTitle, callingAet.c_str());
  if (c.good()) c = meta.computeGroupLengthAndPadding(EGL_withGL, EPD_noChange, EXS_LittleEndianExplicit);
  if (c.bad()) return c;
  meta.transferInit();
  c = meta.write(out, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
  meta.transferEnd();
  return c;
}

}  // namespace

OFCondition receiveStoreDataset(const StoreReceptionContext& context, const T_DIMSE_C_StoreRQ& request,
                                T_ASC_PresentationContextID presentationContext, const std::string& transferSyntax,
                                IncomingFile& file) {
  FileConsumer consumer(file);
  FileStream out(&consumer);
  const OFCondition meta = writeMetaHeader(out, request, transferSyntax, context.callingAet);
  T_ASC_PresentationContextID dataContext = presentationContext;
  // Always drain the data set: whatever happened to the file, the association stays in step.
  const OFCondition received = DIMSE_receiveDataSetInFile(context.association, context.blocking, context.timeoutSeconds,
                                                          &dataContext, &out, nullptr, nullptr);
  if (received.bad()) return received;
  if (meta.bad()) return meta;
  if (dataContext != presentationContext) {
    return makeOFCondition(OFM_dcmnet, 999, OF_error, "data set sent on another presentation context than its command");
  }
  return file.failure().empty() ? EC_Normal : DIMSE_RECEIVEFAILED;
}

}  // namespace annot::node
