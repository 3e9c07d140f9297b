#include "sr/MeasurementReportWriter.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmsr/cmr/init.h>
#include <dcmtk/dcmsr/cmr/tid1500.h>
#include <dcmtk/dcmsr/codes/dcm.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>

#include "annotation/AnnotationValidator.h"
#include "dicom/DatasetAccess.h"
#include "dicom/PatientStudyModules.h"
#include "sr/SrCodes.h"

namespace annot {
namespace {
namespace c = sr_codes;

DSRCodedEntryValue dsr(const Code& code) { return DSRCodedEntryValue(code.value.c_str(), code.scheme.c_str(), code.meaning.c_str()); }

void must(const OFCondition& cond, const std::string& what) {
  if (cond.bad()) throw SrWriteError(what + ": " + cond.text());
}

// Cornerstone3D tool names for the OHIF-editable layout (Tracking Identifier suffix).
const char* cornerstoneTool(const Geometry& g) {
  switch (g.type) {
    case GeometryType::Point: return "Probe";
    case GeometryType::Polyline: return g.points.size() == 2 ? "Length" : "PlanarFreehandROI";
    case GeometryType::Polygon: return "PlanarFreehandROI";
    case GeometryType::BBox: return "RectangleROI";
    case GeometryType::Ellipse: return "EllipticalROI";
    case GeometryType::Circle: return "CircleROI";
  }
  return "Probe";
}

// Builds content items below a node of the document tree.
class TreeBuilder {
 public:
  explicit TreeBuilder(DSRDocumentTree& tree) : tree_(tree) {}

  size_t add(size_t parent, DSRTypes::E_RelationshipType rel, DSRTypes::E_ValueType type, const Code& concept) {
    if (tree_.gotoNode(parent) == 0) throw SrWriteError("internal: content node " + std::to_string(parent) + " not found");
    const size_t id = tree_.addContentItem(rel, type, DSRTypes::AM_belowCurrent);
    if (id == 0) {
      throw SrWriteError(std::string("cannot add ") + DSRTypes::valueTypeToDefinedTerm(type) + " " + concept.str() +
                         " by " + DSRTypes::relationshipTypeToDefinedTerm(rel));
    }
    if (!concept.empty()) must(tree_.getCurrentContentItem().setConceptName(dsr(concept)), "concept name " + concept.str());
    return id;
  }

  void text(size_t parent, DSRTypes::E_RelationshipType rel, const Code& concept, const std::string& value) {
    add(parent, rel, DSRTypes::VT_Text, concept);
    must(tree_.getCurrentContentItem().setStringValue(value.c_str()), "text " + concept.str());
  }

  void uid(size_t parent, DSRTypes::E_RelationshipType rel, const Code& concept, const std::string& value) {
    add(parent, rel, DSRTypes::VT_UIDRef, concept);
    must(tree_.getCurrentContentItem().setStringValue(value.c_str()), "UID " + concept.str());
  }

  void code(size_t parent, DSRTypes::E_RelationshipType rel, const Code& concept, const Code& value) {
    add(parent, rel, DSRTypes::VT_Code, concept);
    must(tree_.getCurrentContentItem().setCodeValue(dsr(value)), "code " + value.str());
  }

  size_t num(size_t parent, const Measurement& m) {
    const size_t id = add(parent, DSRTypes::RT_contains, DSRTypes::VT_Num, m.concept);
    DSRNumericMeasurementValue value(decimalString(m.value).c_str(), dsr(m.unit));
    // Full double precision next to the 16-character decimal string.
    value.setFloatingPointRepresentation(m.value);
    must(tree_.getCurrentContentItem().setNumericValue(value), "measurement " + m.concept.str());
    return id;
  }

  size_t scoord(size_t parent, DSRTypes::E_RelationshipType rel, const Code& concept, DSRTypes::E_GraphicType graphicType,
                const std::vector<Point2>& points, const SourceImage& image, uint32_t frame) {
    const size_t id = add(parent, rel, DSRTypes::VT_SCoord, concept);
    DSRSpatialCoordinatesValue value(graphicType);
    for (const auto& p : points) value.getGraphicDataList().addItem(static_cast<Float32>(p[0]), static_cast<Float32>(p[1]));
    must(tree_.getCurrentContentItem().setSpatialCoordinates(value), "image region");
    imageRef(id, DSRTypes::RT_selectedFrom, image, frame);
    return id;
  }

  void imageRef(size_t parent, DSRTypes::E_RelationshipType rel, const SourceImage& image, uint32_t frame) {
    add(parent, rel, DSRTypes::VT_Image, Code{});
    // The reference names the instance the PACS holds, as it is: UIDs from old archives that
    // break the UI rules (leading zeros, "999." roots) are referenced unchecked, not refused.
    DSRImageReferenceValue ref(image.sopClassUid.c_str(), image.sopInstanceUid.c_str(), /*check=*/OFFalse);
    if (frame > 0) ref.getFrameList().addItem(static_cast<Sint32>(frame));
    must(tree_.getCurrentContentItem().setImageReference(ref, /*check=*/OFFalse), "image reference to " + image.sopInstanceUid);
  }

  DSRDocumentTree& tree() { return tree_; }

 private:
  DSRDocumentTree& tree_;
};

struct Region {
  DSRTypes::E_GraphicType type;
  std::vector<Point2> points;
};

// SCOORD content for a geometry: boxes become closed 5-point polylines (TL, TR, BR, BL, TL),
// polygons closed polylines.
Region regionOf(const Geometry& g) {
  switch (g.type) {
    case GeometryType::Point: return {DSRTypes::GT_Point, g.points};
    case GeometryType::Polyline: return {DSRTypes::GT_Polyline, g.points};
    case GeometryType::Polygon: {
      std::vector<Point2> closed = g.points;
      closed.push_back(g.points.front());
      return {DSRTypes::GT_Polyline, closed};
    }
    case GeometryType::BBox: {
      const double c0 = std::min(g.points[0][0], g.points[1][0]), c1 = std::max(g.points[0][0], g.points[1][0]);
      const double r0 = std::min(g.points[0][1], g.points[1][1]), r1 = std::max(g.points[0][1], g.points[1][1]);
      return {DSRTypes::GT_Polyline, {{c0, r0}, {c1, r0}, {c1, r1}, {c0, r1}, {c0, r0}}};
    }
    case GeometryType::Ellipse: return {DSRTypes::GT_Ellipse, g.points};
    case GeometryType::Circle: return {DSRTypes::GT_Circle, g.points};
  }
  return {DSRTypes::GT_Point, g.points};
}

void addFindingGroup(TreeBuilder& b, size_t measurements, const Finding& f, const SourceImageSet& images, bool ohifEditable) {
  const Geometry& g = *f.geometry;
  const SourceImage& image = *images.find(g.image.sopInstanceUid);
  const Region region = regionOf(g);
  const bool numCarriesRegion = ohifEditable && g.type != GeometryType::Point && !f.measurements.empty();

  const size_t group = b.add(measurements, DSRTypes::RT_contains, DSRTypes::VT_Container, c::MeasurementGroup);
  must(b.tree().getCurrentContentItem().setTemplateIdentification(ohifEditable ? "1501" : "1410", "DCMR"),
       "template identification");
  const std::string trackingId =
      ohifEditable ? std::string("Cornerstone3DTools@^0.1.0:") + cornerstoneTool(g) : f.trackingId;
  b.text(group, DSRTypes::RT_hasObsContext, c::TrackingIdentifier, trackingId);
  b.uid(group, DSRTypes::RT_hasObsContext, c::TrackingUniqueIdentifier, f.trackingUid);
  b.code(group, DSRTypes::RT_contains, c::Finding, f.finding);
  if (g.type == GeometryType::BBox) {
    // 3D Slicer reads a closed polyline as a box only with this purpose.
    b.code(group, DSRTypes::RT_contains, c::GeometricPurposeOfRegion, c::BoundedBy);
  }
  if (!numCarriesRegion) {
    // TID 1410: the region belongs to the group itself. In the Cornerstone layout a point has no
    // measurement to hang on and is named "Center": a lone "Image Region" would make
    // validators judge every other group of the report as TID 1410.
    b.scoord(group, DSRTypes::RT_contains, ohifEditable ? c::Center : c::ImageRegion, region.type, region.points, image,
             g.image.frame);
  }
  if (f.findingSite) b.code(group, DSRTypes::RT_hasConceptMod, c::FindingSite, *f.findingSite);
  if (f.provenance && f.provenance->source == Provenance::Source::Algorithm) {
    // TID 4019 in the group: the region and finding are the algorithm's, kept by the reader.
    // A finding the reader changed is theirs and carries none.
    b.text(group, DSRTypes::RT_hasConceptMod, c::AlgorithmName, f.provenance->algorithmName);
    b.text(group, DSRTypes::RT_hasConceptMod, c::AlgorithmVersion, f.provenance->algorithmVersion);
  }
  bool first = true;
  for (const auto& m : f.measurements) {
    const size_t num = b.num(group, m);
    if (numCarriesRegion && first) {
      // dcmjs/Cornerstone layout (TID 300/320): the first NUM is INFERRED FROM the region.
      b.scoord(num, DSRTypes::RT_inferredFrom, Code{}, region.type, region.points, image, g.image.frame);
    }
    first = false;
  }
  for (const auto& e : f.evaluations) {
    if (e.code) b.code(group, DSRTypes::RT_contains, e.concept, *e.code);
    else b.text(group, DSRTypes::RT_contains, e.concept, e.text);
  }
  // The finding's comment; in the OHIF layout Cornerstone shows it as the measurement label.
  const std::string comment = !f.comment.empty() ? f.comment : (ohifEditable ? f.trackingId : std::string());
  if (!comment.empty()) b.text(group, DSRTypes::RT_contains, c::Comment, comment);
}

// TID 1500 Row 12-13: qualitative evaluations of the whole subject; image-level ones carry the
// image they were made on (INFERRED FROM IMAGE).
void addClassifications(TID1500_MeasurementReport& report, const AnnotationDocument& doc) {
  for (const auto& cl : doc.classifications) {
    must(report.addQualitativeEvaluation(dsr(cl.concept), dsr(cl.value)), "classification " + cl.concept.str());
  }
}

void attachClassificationImages(TreeBuilder& b, const AnnotationDocument& doc, const SourceImageSet& images) {
  if (doc.classifications.empty()) return;
  DSRDocumentTree& tree = b.tree();
  const size_t container = tree.gotoNamedNode(DSRCodedEntryValue("C0034375", "UMLS", "Qualitative Evaluations"));
  if (!container) throw SrWriteError("internal: Qualitative Evaluations container not found");
  std::vector<size_t> items;
  if (tree.goDown() > 0) {
    do {
      if (tree.getCurrentContentItem().getValueType() == DSRTypes::VT_Code) items.push_back(tree.getNodeID());
    } while (tree.gotoNext() > 0);
  }
  for (size_t i = 0; i < doc.classifications.size() && i < items.size(); ++i) {
    const auto& image = doc.classifications[i].image;
    if (image) b.imageRef(items[i], DSRTypes::RT_inferredFrom, *images.find(image->sopInstanceUid), image->frame);
  }
}

// The images the document refers to, in first-use order.
std::vector<const SourceImage*> referencedImages(const AnnotationDocument& doc, const SourceImageSet& images) {
  std::vector<const SourceImage*> out;
  std::set<std::string> seen;
  auto use = [&](const std::string& uid) {
    const SourceImage* img = images.find(uid);
    if (!img) throw SrWriteError("image " + uid + " is referenced but was not given");
    if (seen.insert(uid).second) out.push_back(img);
  };
  for (const auto& f : doc.findings) {
    if (f.geometry) use(f.geometry->image.sopInstanceUid);
  }
  for (const auto& cl : doc.classifications) {
    if (cl.image) use(cl.image->sopInstanceUid);
  }
  return out;
}

void initializeContextGroups() {
  // The CMR context groups are built lazily and not thread-safe: do it once.
  static std::once_flag once;
  std::call_once(once, [] { CMR_ContentMappingResource::initializeAllContextGroups(); });
}
}  // namespace

SrWriteResult writeMeasurementReport(const AnnotationDocument& doc, const SourceImageSet& images, const Protocol* protocol,
                                     const SrWriteOptions& options, DcmFileFormat& out) {
  initializeContextGroups();
  std::vector<const SourceImage*> used = referencedImages(doc, images);
  // Study-level classifications only: the study's images are the evidence.
  if (used.empty()) {
    for (const auto& img : images.all()) used.push_back(&img);
  }
  const SourceImage& primary = *used.front();
  for (const auto* img : used) {
    if (img->studyInstanceUid != primary.studyInstanceUid) {
      throw SrWriteError("the referenced images belong to more than one study; one report covers one study");
    }
  }
  if (!doc.studyInstanceUid.empty() && doc.studyInstanceUid != primary.studyInstanceUid) {
    throw SrWriteError("the document's study " + doc.studyInstanceUid + " is not the images' study " + primary.studyInstanceUid);
  }

  TID1500_MeasurementReport report(CMR_CID7021::ImagingMeasurementReport);
  // Code meanings as in the standard's CID 5000/5001 tables.
  must(report.setLanguage(CID5000_Languages(DSRCodedEntryValue("en-US", "RFC5646", "English (United States)")),
                          CID5001_Countries(DSRCodedEntryValue("US", "ISO3166_1", "United States"))),
       "language");
  const Observer& o = doc.observer;
  if (o.kind == Observer::Kind::Device) {
    must(report.getObservationContext().addDeviceObserver(o.uid.c_str(), o.name.c_str(), o.manufacturer.c_str(),
                                                          o.modelName.c_str(), o.serialNumber.c_str()),
         "device observer");
  } else {
    must(report.getObservationContext().addPersonObserver(o.name.c_str(), o.organization.c_str()), "person observer");
  }
  // TID 1500 row 4 draws from CID 100; a protocol names its procedure, ad-hoc documents use the
  // CID 100 code for the images' modality.
  Code procedure = protocol ? protocol->procedure : Code{};
  if (procedure.empty()) {
    if (primary.modality == "CT") procedure = {"25045-6", "LN", "CT unspecified body region"};
    else if (primary.modality == "MR") procedure = {"25056-3", "LN", "MRI unspecified body region"};
    else if (primary.modality == "PT") procedure = {"44136-0", "LN", "PET unspecified body region"};
    else if (primary.modality == "NM") procedure = {"49118-3", "LN", "NM unspecified body region"};
    else procedure = {"363679005", "SCT", "Imaging procedure"};
  }
  must(report.addProcedureReported(dsr(procedure), /*check=*/OFFalse), "procedure reported " + procedure.str());

  TID1600_ImageLibrary& library = report.getImageLibrary();
  if (!library.hasImageLibrary()) must(library.createNewImageLibrary(), "image library");
  must(library.addImageGroup(), "image library group");
  for (const auto* img : used) {
    // Target Region is left out: DCMTK maps Body Part Examined to SNOMED codes newer than
    // some validators' context groups, which then report errors.
    TID1600_ImageLibrary::ConceptNameList skip;
    skip.push_back(CODE_DCM_TargetRegion);
    const OFCondition added = library.addImageEntry(*img->header, TID1600_ImageLibrary::withoutSelectedDescriptors, skip, /*check=*/OFFalse);
    if (added.bad() && added != CMR_EC_NoImageLibraryEntryDescriptorsToBeAdded) {
      throw SrWriteError("image library entry for " + img->sopInstanceUid + ": " + added.text());
    }
  }
  addClassifications(report, doc);

  DSRDocument sr(DSRTypes::DT_EnhancedSR);
  must(sr.setTreeFromRootTemplate(report, /*expandTree=*/OFTrue), "document tree");
  must(sr.setSpecificCharacterSetType(DSRTypes::CS_UTF8), "character set");
  must(sr.readStudyData(*primary.header), "study data of " + primary.sopInstanceUid);
  sr.createNewSeries();
  must(sr.setSeriesNumber(options.seriesNumber.c_str()), "series number");
  must(sr.setInstanceNumber(options.instanceNumber.c_str()), "instance number");
  must(sr.setSeriesDescription(options.seriesDescription.c_str()), "series description");
  must(sr.setManufacturer("Annotation node"), "manufacturer");
  must(sr.setManufacturerModelName("dicom-node"), "model");
  must(sr.setSoftwareVersions(ANNOT_VERSION), "software version");
  must(sr.setDeviceSerialNumber("1"), "device serial number");

  TreeBuilder builder(sr.getTree());
  const size_t measurements = sr.getTree().gotoNamedNode(DSRCodedEntryValue("126010", "DCM", "Imaging Measurements"));
  if (!measurements) throw SrWriteError("internal: Imaging Measurements container not found");
  for (const auto& f : doc.findings) {
    if (f.geometry) addFindingGroup(builder, measurements, f, images, options.ohifEditable);
  }
  attachClassificationImages(builder, doc, images);

  // Unchecked for the same reason as the image references: the evidence names what the PACS holds.
  for (const auto* img : used) {
    must(sr.getCurrentRequestedProcedureEvidence().addItem(*img->header, /*check=*/OFFalse), "evidence for " + img->sopInstanceUid);
  }
  if (options.predecessor) {
    const SopReference& p = *options.predecessor;
    must(sr.getPredecessorDocuments().addItem(p.studyInstanceUid.c_str(), p.seriesInstanceUid.c_str(),
                                              p.sopClassUid.c_str(), p.sopInstanceUid.c_str()),
         "predecessor document");
  }
  if (options.complete) must(sr.completeDocument(), "completion flag");
  if (options.verifiedBy) {
    if (!options.complete) throw SrWriteError("only a complete report can be verified");
    must(sr.verifyDocument(options.verifiedBy->c_str(), options.verifyingOrganization.c_str()), "verification");
  }
  if (!sr.isValid()) throw SrWriteError("DCMTK considers the document invalid");

  DcmDataset& ds = *out.getDataset();
  ds.clear();
  must(sr.write(ds), "encoding the SR");
  copyPatientAndStudyModules(*primary.header, ds);
  if (!options.seriesInstanceUid.empty()) {
    // A revision joins the series of its predecessor (viewers show the newest instance).
    ds.putAndInsertString(DCM_SeriesInstanceUID, options.seriesInstanceUid.c_str());
  }
  if (doc.protocol) {
    // Where the product records which protocol the labels follow (read back by the reader).
    ds.putAndInsertString(DCM_ProtocolName, (doc.protocol->id + "@" + doc.protocol->version).c_str());
  }
  SrWriteResult result;
  result.sopInstanceUid = getString(ds, DCM_SOPInstanceUID);
  result.seriesInstanceUid = getString(ds, DCM_SeriesInstanceUID);
  result.studyInstanceUid = getString(ds, DCM_StudyInstanceUID);
  return result;
}

SrWriteResult writeMeasurementReportFile(const AnnotationDocument& doc, const SourceImageSet& images,
                                         const Protocol* protocol, const SrWriteOptions& options, const std::string& path) {
  DcmFileFormat file;
  SrWriteResult result = writeMeasurementReport(doc, images, protocol, options, file);
  const OFCondition saved = file.saveFile(path.c_str(), EXS_LittleEndianExplicit);
  if (saved.bad()) throw SrWriteError("cannot write '" + path + "': " + saved.text());
  return result;
}

SopReference sopReferenceOfFile(const std::string& path) {
  DcmFileFormat file;
  if (file.loadFile(path.c_str()).bad()) throw SrWriteError("cannot read the predecessor '" + path + "'");
  DcmDataset& ds = *file.getDataset();
  return {getString(ds, DCM_StudyInstanceUID), getString(ds, DCM_SeriesInstanceUID), getString(ds, DCM_SOPClassUID), getString(ds, DCM_SOPInstanceUID)};
}

}  // namespace annot
