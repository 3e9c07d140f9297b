#include "sr/SrContentTree.h"
#include "dicom/DatasetAccess.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

namespace annot {
namespace {
SrContentItem readItem(DcmItem& item) {
  SrContentItem out;
  out.relationship = getString(item, DCM_RelationshipType);
  out.valueType = getString(item, DCM_ValueType);
  out.concept = getCode(item, DCM_ConceptNameCodeSequence);
  if (out.valueType == "TEXT") out.text = getString(item, DCM_TextValue);
  else if (out.valueType == "UIDREF") out.text = getString(item, DCM_UID);
  else if (out.valueType == "PNAME") out.text = getString(item, DCM_PersonName);
  else if (out.valueType == "DATETIME") out.text = getString(item, DCM_DateTime);
  else if (out.valueType == "DATE") out.text = getString(item, DCM_Date);
  else if (out.valueType == "TIME") out.text = getString(item, DCM_Time);
  else if (out.valueType == "CODE") out.code = getCode(item, DCM_ConceptCodeSequence);
  else if (out.valueType == "NUM") {
    DcmItem* mv = nullptr;
    if (item.findAndGetSequenceItem(DCM_MeasuredValueSequence, mv, 0).good() && mv) {
      Float64 value = 0;
      if (mv->findAndGetFloat64(DCM_NumericValue, value).good()) {
        out.hasNumber = true;
        out.number = value;
        // FloatingPointValue carries full precision where the writer gave it.
        Float64 precise = 0;
        if (mv->findAndGetFloat64(DCM_FloatingPointValue, precise).good()) out.number = precise;
      }
      out.unit = getCode(*mv, DCM_MeasurementUnitsCodeSequence);
    }
  } else if (out.valueType == "SCOORD") {
    out.graphicType = getString(item, DCM_GraphicType);
    const Float32* data = nullptr;
    unsigned long count = 0;
    if (item.findAndGetFloat32Array(DCM_GraphicData, data, &count).good() && data) out.graphicData.assign(data, data + count);
  } else if (out.valueType == "IMAGE") {
    DcmItem* ref = nullptr;
    if (item.findAndGetSequenceItem(DCM_ReferencedSOPSequence, ref, 0).good() && ref) {
      out.referencedSopClassUid = getString(*ref, DCM_ReferencedSOPClassUID);
      out.referencedSopInstanceUid = getString(*ref, DCM_ReferencedSOPInstanceUID);
      Sint32 frame = 0;
      if (ref->findAndGetSint32(DCM_ReferencedFrameNumber, frame).good() && frame > 0) out.referencedFrame = static_cast<uint32_t>(frame);
    }
  }
  DcmItem* tpl = nullptr;
  if (item.findAndGetSequenceItem(DCM_ContentTemplateSequence, tpl, 0).good() && tpl) out.templateId = getString(*tpl, DCM_TemplateIdentifier);
  DcmSequenceOfItems* children = nullptr;
  if (item.findAndGetSequence(DCM_ContentSequence, children).good() && children) {
    for (unsigned long i = 0; i < children->card(); ++i) out.children.push_back(readItem(*children->getItem(i)));
  }
  return out;
}
}  // namespace

const SrContentItem* SrContentItem::child(const Code& c) const {
  for (const auto& ch : children) {
    if (ch.concept.sameConcept(c)) return &ch;
  }
  return nullptr;
}

std::string SrContentItem::describe() const { return valueType + " " + (concept.empty() ? std::string("(no concept name)") : concept.str()); }

SrContentItem readSrContentTree(DcmItem& dataset) { return readItem(dataset); }

}  // namespace annot
