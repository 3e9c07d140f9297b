#pragma once
// A plain, tolerant view of an SR content tree read straight from the dataset, so SRs written
// by other tools can be read even where a strict SR parser would refuse them.
#include <memory>
#include <string>
#include <vector>

#include "annotation/Code.h"

class DcmItem;

namespace annot {

struct SrContentItem {
  std::string relationship;  // CONTAINS, HAS OBS CONTEXT, ... (empty for the root)
  std::string valueType;     // CONTAINER, CODE, NUM, TEXT, UIDREF, PNAME, SCOORD, IMAGE, ...
  Code concept;
  std::string text;          // TEXT, UIDREF, PNAME, DATETIME, DATE, TIME values
  Code code;                 // CODE value
  bool hasNumber = false;    // NUM with a measured value
  double number = 0;
  Code unit;
  std::string graphicType;   // SCOORD
  std::vector<float> graphicData;
  std::string referencedSopClassUid;     // IMAGE
  std::string referencedSopInstanceUid;
  uint32_t referencedFrame = 0;
  std::string templateId;    // ContentTemplateSequence, when present
  std::vector<SrContentItem> children;

  const SrContentItem* child(const Code& concept) const;
  std::string describe() const;  // e.g. "NUM (410668003, SCT, \"Length\")"
};

// Reads the document content (root CONTAINER and its tree) of an SR dataset.
SrContentItem readSrContentTree(DcmItem& dataset);

}  // namespace annot
