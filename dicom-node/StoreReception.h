#pragma once
// Receives the data set of one C-STORE request into an IncomingFile, behind a Part 10 file meta
// header built from the command, exactly as the peer encoded it (no parsing, no re-encoding).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <string>

#include "storage/IncomingFile.h"

namespace annot::node {

struct StoreReceptionContext {
  T_ASC_Association* association = nullptr;
  T_DIMSE_BlockingMode blocking = DIMSE_BLOCKING;
  int timeoutSeconds = 0;
  std::string callingAet;
};

// Writes the meta header, then every PDV of the data set as it arrives. A failed write is
// reported after the data set has been drained, so the association stays usable for the
// failure response. Returns the DIMSE condition; a write failure comes back as
// DIMSE_RECEIVEFAILED with file.failure() saying why.
OFCondition receiveStoreDataset(const StoreReceptionContext& context, const T_DIMSE_C_StoreRQ& request,
                                T_ASC_PresentationContextID presentationContext, const std::string& transferSyntax,
                                IncomingFile& file);

}  // namespace annot::node
