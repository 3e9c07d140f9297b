#include "sr/MeasurementReportReader.h"

#include <cstdio>
#include <cstdlib>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cmath>

#include "dicom/DatasetAccess.h"
#include "sr/SrCodes.h"
#include "sr/SrContentTree.h"

namespace annot {
namespace {
namespace c = sr_codes;

// SOP Instance UIDs listed in a hierarchical SOP instance reference sequence.
std::vector<std::string> referencedInstances(DcmItem& ds, const DcmTagKey& sequence) {
  std::vector<std::string> out;
  DcmSequenceOfItems* studies = nullptr;
  if (ds.findAndGetSequence(sequence, studies).bad() || !studies) return out;
  for (unsigned long s = 0; s < studies->card(); ++s) {
    DcmSequenceOfItems* series = nullptr;
    if (studies->getItem(s)->findAndGetSequence(DCM_ReferencedSeriesSequence, series).bad() || !series) continue;
    for (unsigned long r = 0; r < series->card(); ++r) {
      DcmSequenceOfItems* sops = nullptr;
      if (series->getItem(r)->findAndGetSequence(DCM_ReferencedSOPSequence, sops).bad() || !sops) continue;
      for (unsigned long i = 0; i < sops->card(); ++i) out.push_back(getString(*sops->getItem(i), DCM_ReferencedSOPInstanceUID));
    }
  }
  return out;
}

bool isSite(const Code& concept) { return concept.sameConcept(c::FindingSite) || concept.sameConcept(c::FindingSiteSrt); }

// The shortest decimal that is this 32-bit float: GraphicData is FL, so a coordinate written as
// 210.123 reads back as 210.123, not as the float's exact binary value 210.12300109863281.
double shortestDecimal(float value) {
  char text[32];
  for (int precision = 6; precision <= 9; ++precision) {
    std::snprintf(text, sizeof text, "%.*g", precision, static_cast<double>(value));
    if (std::strtof(text, nullptr) == value) break;
  }
  return std::strtod(text, nullptr);
}

std::vector<Point2> pointsOf(const SrContentItem& scoord) {
  std::vector<Point2> points;
  for (size_t i = 0; i + 1 < scoord.graphicData.size(); i += 2) {
    points.push_back({shortestDecimal(scoord.graphicData[i]), shortestDecimal(scoord.graphicData[i + 1])});
  }
  return points;
}

// The image an item (a SCOORD, a classification) is selected from: its IMAGE child, the last
// one if there are several; nullptr when it has none.
const SrContentItem* imageOf(const SrContentItem& item) {
  const SrContentItem* image = nullptr;
  for (const auto& ch : item.children) {
    if (ch.valueType == "IMAGE") image = &ch;
  }
  return image;
}

// Two SCOORDs that draw the same figure on the same image (frame included).
bool sameRegion(const SrContentItem& a, const SrContentItem& b) {
  if (a.graphicType != b.graphicType || a.graphicData != b.graphicData) return false;
  const SrContentItem* ia = imageOf(a);
  const SrContentItem* ib = imageOf(b);
  if (!ia || !ib) return ia == ib;
  return ia->referencedSopInstanceUid == ib->referencedSopInstanceUid && ia->referencedFrame == ib->referencedFrame;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class Mapper {
 public:
  std::vector<std::string> unmapped;
  AnnotationDocument doc;

  void observer(const SrContentItem& root) {
    bool device = false;
    for (const auto& item : root.children) {
      if (item.relationship != "HAS OBS CONTEXT") continue;
      const std::string& v = item.concept.value;
      if (item.concept.scheme != "DCM") continue;
      if (v == "121005" && item.code.value == "121007") device = true;
      else if (v == "121008" && doc.observer.name.empty()) doc.observer.name = item.text;
      else if (v == "121009") doc.observer.organization = item.text;
      else if (v == "121012") doc.observer.uid = item.text;
      else if (v == "121013" && doc.observer.name.empty()) doc.observer.name = item.text;
      else if (v == "121014") doc.observer.manufacturer = item.text;
      else if (v == "121015") doc.observer.modelName = item.text;
      else if (v == "121016") doc.observer.serialNumber = item.text;
    }
    if (device || (!doc.observer.uid.empty() && doc.observer.name.empty())) doc.observer.kind = Observer::Kind::Device;
    if (doc.observer.name.empty()) {
      doc.observer.name = "unknown";
      unmapped.push_back("observer context: no observer name; reported as 'unknown'");
    }
  }

  // TID 1500 rows 12-14: evaluations of the whole subject, or of one image (INFERRED FROM IMAGE).
  void qualitativeEvaluations(const SrContentItem& container) {
    for (const auto& item : container.children) {
      if (item.valueType != "CODE") {
        unmapped.push_back("Qualitative Evaluations: " + item.describe() + " is not a coded classification");
        continue;
      }
      Classification cl;
      cl.concept = item.concept;
      cl.value = item.code;
      if (const SrContentItem* image = imageOf(item)) cl.image = ImageRef{image->referencedSopInstanceUid, image->referencedFrame};
      doc.classifications.push_back(cl);
    }
  }

  void group(const SrContentItem& g, size_t index) {
    const std::string where = "Measurement Group #" + std::to_string(index + 1);
    std::string trackingId, trackingUid;
    Code finding, purpose;
    std::optional<Code> site;
    const SrContentItem* scoord = nullptr;
    const SrContentItem* imageOfGroup = nullptr;
    std::vector<const SrContentItem*> nums;
    std::vector<const SrContentItem*> codes;
    std::vector<const SrContentItem*> texts;
    std::string comment, algorithmName, algorithmVersion;
    for (const auto& item : g.children) {
      if (item.concept.sameConcept(c::TrackingIdentifier)) trackingId = item.text;
      else if (item.concept.sameConcept(c::TrackingUniqueIdentifier)) trackingUid = item.text;
      else if (item.concept.sameConcept(c::Finding) && item.valueType == "CODE") finding = item.code;
      else if (isSite(item.concept) && item.valueType == "CODE") site = item.code;
      else if (item.concept.sameConcept(c::GeometricPurposeOfRegion)) purpose = item.code;
      else if (item.valueType == "SCOORD") {
        if (scoord) unmapped.push_back(where + ": more than one image region; only the first is read");
        else scoord = &item;
      } else if (item.valueType == "NUM") {
        nums.push_back(&item);
        // dcmjs/OHIF layout: NUM --INFERRED FROM--> SCOORD --SELECTED FROM--> IMAGE
        // A dcmjs bidirectional gives each axis its own line: the model keeps one region per
        // finding, so the second line goes (its measured value stays) and the caller is told.
        // Writers that repeat the same region under each measurement lose nothing.
        for (const auto& ch : item.children) {
          if (ch.valueType != "SCOORD") continue;
          if (!scoord) scoord = &ch;
          else if (!sameRegion(*scoord, ch)) {
            unmapped.push_back(where + ": the image region of " + item.describe() + " is a second region and is not kept (its value is)");
          }
        }
      } else if (item.valueType == "CODE") codes.push_back(&item);
      else if (item.valueType == "TEXT" && item.concept.sameConcept(c::Comment)) comment = item.text;
      else if (item.valueType == "TEXT" && item.concept.sameConcept(c::AlgorithmName)) algorithmName = item.text;
      else if (item.valueType == "TEXT" && item.concept.sameConcept(c::AlgorithmVersion)) algorithmVersion = item.text;
      else if (item.valueType == "TEXT") texts.push_back(&item);
      else if (item.valueType == "IMAGE") imageOfGroup = &item;
      else if (item.valueType == "UIDREF" || item.valueType == "CONTAINER" || item.valueType == "SCOORD3D" ||
               item.valueType == "PNAME" || item.valueType == "DATETIME") {
        unmapped.push_back(where + ": " + item.describe() + " is not part of the annotation model");
      }
    }

    if (!scoord) {
      // No geometry: qualitative results become classifications (TID 1501 without a region).
      std::optional<ImageRef> image;
      if (imageOfGroup) image = ImageRef{imageOfGroup->referencedSopInstanceUid, imageOfGroup->referencedFrame};
      std::vector<std::pair<Code, Code>> answers;
      if (!finding.empty()) answers.push_back({c::Finding, finding});
      for (const auto* code : codes) answers.push_back({code->concept, code->code});
      for (const auto& [concept, value] : answers) {
        Classification cl;
        cl.concept = concept;
        cl.value = value;
        cl.image = image;
        if (answers.size() == 1) {
          cl.trackingId = trackingId;
          cl.trackingUid = trackingUid;
        }
        doc.classifications.push_back(cl);
      }
      for (const auto* num : nums) unmapped.push_back(where + ": " + num->describe() + " has no image region; measurements need one");
      for (const auto* t : texts) unmapped.push_back(where + ": " + t->describe() + " has no image region");
      if (answers.empty() && nums.empty()) unmapped.push_back(where + ": no image region and no coded result");
      return;
    }

    Finding f;
    f.trackingId = trackingId;
    f.trackingUid = trackingUid;
    f.finding = finding;
    f.findingSite = site;
    f.comment = comment;
    if (!algorithmName.empty()) f.provenance = Provenance{Provenance::Source::Algorithm, algorithmName, algorithmVersion, {}};
    if (finding.empty()) {
      unmapped.push_back(where + ": no Finding code; reported as (121071, DCM, \"Finding\") itself");
      f.finding = c::Finding;
    }
    const SrContentItem* image = imageOf(*scoord);
    if (!image) {
      unmapped.push_back(where + ": image region without a referenced image");
      return;
    }
    Geometry geometry;
    geometry.image = {image->referencedSopInstanceUid, image->referencedFrame};
    std::vector<Point2> points = pointsOf(*scoord);
    const std::string& type = scoord->graphicType;
    if (type == "POINT" && points.size() == 1) {
      geometry.type = GeometryType::Point;
    } else if (type == "POLYLINE" && points.size() >= 2) {
      const bool closed = points.size() >= 4 && points.front() == points.back();
      const bool box = purpose.sameConcept(c::BoundedBy) || endsWith(trackingId, ":RectangleROI");
      if (closed && box) {
        double minC = points[0][0], maxC = minC, minR = points[0][1], maxR = minR;
        for (const auto& p : points) {
          minC = std::min(minC, p[0]);
          maxC = std::max(maxC, p[0]);
          minR = std::min(minR, p[1]);
          maxR = std::max(maxR, p[1]);
        }
        geometry.type = GeometryType::BBox;
        points = {{minC, minR}, {maxC, maxR}};
      } else if (closed) {
        geometry.type = GeometryType::Polygon;
        points.pop_back();
      } else {
        geometry.type = GeometryType::Polyline;
      }
    } else if (type == "ELLIPSE" && points.size() == 4) {
      geometry.type = GeometryType::Ellipse;
    } else if (type == "CIRCLE" && points.size() == 2) {
      geometry.type = GeometryType::Circle;
    } else {
      unmapped.push_back(where + ": SCOORD " + type + " with " + std::to_string(points.size()) +
                         " points is not a supported region (point, polyline, polygon, bbox, ellipse, circle)");
      return;
    }
    geometry.points = points;
    f.geometry = geometry;
    for (const auto* num : nums) {
      if (!num->hasNumber) {
        unmapped.push_back(where + ": " + num->describe() + " has no measured value");
        continue;
      }
      Measurement m;
      m.concept = num->concept;
      m.value = num->number;
      m.unit = num->unit;
      f.measurements.push_back(m);
    }
    for (const auto* code : codes) f.evaluations.push_back({code->concept, code->code, ""});
    for (const auto* t : texts) f.evaluations.push_back({t->concept, std::nullopt, t->text});
    doc.findings.push_back(f);
  }
};
}  // namespace

MeasurementReportContent readMeasurementReport(DcmDataset& ds) {
  MeasurementReportContent out;
  out.info.sopClassUid = getString(ds, DCM_SOPClassUID);
  out.info.sopInstanceUid = getString(ds, DCM_SOPInstanceUID);
  out.info.seriesInstanceUid = getString(ds, DCM_SeriesInstanceUID);
  out.info.studyInstanceUid = getString(ds, DCM_StudyInstanceUID);
  out.info.completionFlag = getString(ds, DCM_CompletionFlag);
  out.info.verificationFlag = getString(ds, DCM_VerificationFlag);
  DcmItem* verifier = nullptr;
  if (ds.findAndGetSequenceItem(DCM_VerifyingObserverSequence, verifier, 0).good() && verifier) {
    out.info.verifyingObserver = getString(*verifier, DCM_VerifyingObserverName);
  }
  out.info.predecessorSopInstanceUids = referencedInstances(ds, DCM_PredecessorDocumentsSequence);
  out.info.evidenceSopInstanceUids = referencedInstances(ds, DCM_CurrentRequestedProcedureEvidenceSequence);
  if (getString(ds, DCM_Modality) != "SR" && getString(ds, DCM_ValueType) != "CONTAINER") {
    throw SrReadError("not a structured report (Modality " + getString(ds, DCM_Modality) + ")");
  }
  const SrContentItem root = readSrContentTree(ds);
  if (!root.concept.sameConcept(sr_codes::ImagingMeasurementReport)) {
    throw SrReadError("not a TID 1500 Imaging Measurement Report: the document title is " +
                      (root.concept.empty() ? std::string("missing") : root.concept.str()));
  }
  Mapper mapper;
  mapper.doc.studyInstanceUid = out.info.studyInstanceUid;
  mapper.observer(root);
  // The product records the labeling protocol as "<id>@<version>" in Protocol Name.
  const std::string protocol = getString(ds, DCM_ProtocolName);
  if (const auto at = protocol.find('@'); at != std::string::npos && at > 0) {
    mapper.doc.protocol = ProtocolRef{protocol.substr(0, at), protocol.substr(at + 1)};
  }
  const SrContentItem* measurements = root.child(sr_codes::ImagingMeasurements);
  if (!measurements) {
    mapper.unmapped.push_back("document: no Imaging Measurements container");
  } else {
    size_t index = 0;
    for (const auto& g : measurements->children) {
      if (g.valueType == "CONTAINER" && g.concept.sameConcept(sr_codes::MeasurementGroup)) {
        mapper.group(g, index++);
      } else {
        mapper.unmapped.push_back("Imaging Measurements: " + g.describe() + " is not a Measurement Group");
      }
    }
  }
  for (const auto& item : root.children) {
    if (item.valueType != "CONTAINER") continue;
    if (item.concept.sameConcept(sr_codes::ImagingMeasurements) || item.concept.sameConcept(sr_codes::ImageLibrary)) continue;
    if (item.concept.sameConcept(sr_codes::QualitativeEvaluations)) {
      mapper.qualitativeEvaluations(item);
      continue;
    }
    mapper.unmapped.push_back("document: container " + item.concept.str() + " is not read");
  }
  out.document = std::move(mapper.doc);
  out.unmapped = std::move(mapper.unmapped);
  return out;
}

MeasurementReportContent readMeasurementReportFile(const std::string& path) {
  DcmFileFormat file;
  const OFCondition status = file.loadFile(path.c_str());
  if (status.bad()) throw SrReadError("cannot read '" + path + "': " + status.text());
  return readMeasurementReport(*file.getDataset());
}

nlohmann::json toJson(const MeasurementReportContent& content) {
  return {{"sr",
           {{"sopClassUid", content.info.sopClassUid},
            {"sopInstanceUid", content.info.sopInstanceUid},
            {"seriesInstanceUid", content.info.seriesInstanceUid},
            {"studyInstanceUid", content.info.studyInstanceUid},
            {"completionFlag", content.info.completionFlag},
            {"verificationFlag", content.info.verificationFlag},
            {"verifyingObserver", content.info.verifyingObserver},
            {"predecessors", content.info.predecessorSopInstanceUids},
            {"evidence", content.info.evidenceSopInstanceUids}}},
          {"annotation", toJson(content.document)},
          {"unmapped", content.unmapped}};
}

}  // namespace annot
