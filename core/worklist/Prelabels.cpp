#include "worklist/Prelabels.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/Digest.h"
#include "dicom/DatasetAccess.h"
#include "dicom/Uid.h"
#include "seg/BitPacking.h"
#include "seg/Segmentation.h"
#include "seg/SegmentationReader.h"
#include "sr/MeasurementReportReader.h"

namespace annot {
namespace {
using nlohmann::json;

bool isMeasurementReportClass(const std::string& sopClass) {
  return sopClass == UID_EnhancedSRStorage || sopClass == UID_ComprehensiveSRStorage || sopClass == UID_Comprehensive3DSRStorage;
}

Provenance fromAlgorithm(const AlgorithmIdentity& a, const std::string& prelabel) {
  return Provenance{Provenance::Source::Algorithm, a.name, a.version, prelabel};
}

// A SEG's masks as binary runs in the segmentation input format; fractional masks count where
// they are above half of their maximum (the readers paint binary labelmaps).
json segmentationInput(const Segmentation& seg, const AlgorithmIdentity& algorithm) {
  Segmentation binary = seg;
  if (seg.fractional) {
    binary.fractional = false;
    const uint64_t pixels = static_cast<uint64_t>(seg.rows) * seg.columns;
    for (auto& f : binary.frames) {
      std::vector<uint8_t> packed(bits::packedLength(pixels), 0);
      for (uint64_t p = 0; p < pixels; ++p) {
        if (f.data[p] * 2 > seg.maxFractionalValue) bits::set(packed.data(), p);
      }
      f.data = std::move(packed);
    }
  }
  const json described = describe(binary, /*withRuns=*/true);
  json segments = json::array();
  for (size_t i = 0; i < seg.segments.size(); ++i) {
    const SegmentDescription& s = seg.segments[i];
    json j = {{"label", s.label}, {"category", toJson(s.category)}, {"type", toJson(s.type)},
              {"color", {s.color[0], s.color[1], s.color[2]}}};
    json a = {{"type", "AUTOMATIC"}, {"name", algorithm.name}};
    // Version goes with a family (both Type 1 in the Segmentation Algorithm Identification).
    if (s.algorithmFamily) {
      a["family"] = toJson(*s.algorithmFamily);
      a["version"] = algorithm.version;
    }
    j["algorithm"] = a;
    if (s.anatomicRegion) j["anatomicRegion"] = toJson(*s.anatomicRegion);
    if (!s.description.empty()) j["description"] = s.description;
    if (!s.trackingUid.empty()) {
      j["trackingId"] = s.trackingId;
      j["trackingUid"] = s.trackingUid;
    }
    segments.push_back(j);
  }
  return {{"contentLabel", "PRELABEL"}, {"segments", segments}, {"masks", described.value("masks", json::array())}};
}

// A device observer needs a UID (TID 1004); an algorithm that names none gets one derived from
// its name and version, the same for every object of that version.
void completeDeviceUid(AlgorithmIdentity& a) {
  if (a.uid.empty()) a.uid = uidFromDigest(sha256("pre-label algorithm\n" + a.name + "\n" + a.version));
}

void requireAlgorithm(const AlgorithmIdentity& a, const std::string& what) {
  if (a.name.empty()) {
    throw PrelabelError(what + " names no algorithm: give its name (?algorithm=) and version (?algorithmVersion=)");
  }
  if (a.version.empty()) {
    throw PrelabelError(what + " does not say which version of '" + a.name +
                        "' made it (no TID 4019 version, no Software Versions): give ?algorithmVersion=");
  }
}

Prelabel readSrPrelabel(DcmDataset& ds, const AlgorithmIdentity& given) {
  MeasurementReportContent content;
  try {
    content = readMeasurementReport(ds);
  } catch (const std::exception& e) {
    throw PrelabelError(std::string("the SR cannot be read as a TID 1500 Measurement Report: ") + e.what());
  }
  AnnotationDocument& doc = content.document;
  AlgorithmIdentity a;
  if (doc.observer.kind == Observer::Kind::Device) {
    a = {doc.observer.name, "", doc.observer.uid, doc.observer.manufacturer, doc.observer.modelName};
  }
  for (const auto& f : doc.findings) {
    if (f.provenance && a.name.empty()) a.name = f.provenance->algorithmName;
    if (f.provenance && a.version.empty()) a.version = f.provenance->algorithmVersion;
  }
  if (a.version.empty()) a.version = getString(ds, DCM_SoftwareVersions);
  if (!given.name.empty()) a.name = given.name;
  if (!given.version.empty()) a.version = given.version;
  if (doc.observer.kind == Observer::Kind::Person && given.name.empty()) {
    throw PrelabelError("the SR's observer is a person (" + doc.observer.name +
                        "): a pre-label comes from an algorithm; name it with ?algorithm= and ?algorithmVersion=");
  }
  requireAlgorithm(a, "the SR");
  if (!given.name.empty() && doc.observer.kind == Observer::Kind::Person) a.uid.clear();
  completeDeviceUid(a);
  if (doc.findings.empty() && doc.classifications.empty()) throw PrelabelError("the SR holds no finding and no classification to offer");
  // A Tracking UID names one finding; a writer that repeats one gets fresh ones for the
  // repeats (made when the import is resolved).
  std::set<std::string> seen;
  for (auto& f : doc.findings) {
    if (!f.trackingUid.empty() && !seen.insert(f.trackingUid).second) {
      f.trackingUid.clear();
      f.trackingId.clear();
    }
    f.provenance = fromAlgorithm(a, content.info.sopInstanceUid);
  }
  for (auto& c : doc.classifications) c.provenance = fromAlgorithm(a, content.info.sopInstanceUid);
  doc.observer = Observer{Observer::Kind::Device, a.name, "", a.uid, a.manufacturer, a.modelName, ""};
  doc.protocol.reset();
  doc.segmentation.reset();
  Prelabel p;
  p.studyInstanceUid = content.info.studyInstanceUid;
  p.sopInstanceUid = content.info.sopInstanceUid;
  p.kind = "SR";
  p.algorithm = a;
  p.document = toJson(doc);
  p.unmapped = content.unmapped;
  return p;
}

Prelabel readSegPrelabel(DcmDataset& ds, const AlgorithmIdentity& given) {
  SegmentationContent content;
  try {
    content = readSegmentation(ds);
  } catch (const std::exception& e) {
    throw PrelabelError(std::string("the Segmentation cannot be read: ") + e.what());
  }
  const Segmentation& seg = content.segmentation;
  AlgorithmIdentity a;
  for (const auto& s : seg.segments) {
    if (s.algorithm == SegmentAlgorithm::Manual) continue;
    if (a.name.empty()) a.name = s.algorithmName;
    if (a.version.empty()) a.version = s.algorithmVersion;
  }
  if (a.version.empty()) a.version = getString(ds, DCM_SoftwareVersions);
  a.manufacturer = getString(ds, DCM_Manufacturer);
  a.modelName = getString(ds, DCM_ManufacturerModelName);
  if (!given.name.empty()) a.name = given.name;
  if (!given.version.empty()) a.version = given.version;
  requireAlgorithm(a, "the SEG");
  completeDeviceUid(a);
  if (seg.frames.empty()) throw PrelabelError("the SEG holds no mask frame to offer");
  // Masks become runs for the readers' editor: a bound keeps a noisy or huge SEG from taking
  // the node's memory (the product's own masks go up to this size too).
  constexpr uint64_t kMaxPixels = uint64_t{512} * 1024 * 1024;
  if (static_cast<uint64_t>(seg.rows) * seg.columns * seg.frames.size() > kMaxPixels) {
    throw PrelabelError("the SEG has " + std::to_string(seg.frames.size()) + " frames of " + std::to_string(seg.columns) + "x" +
                        std::to_string(seg.rows) + ": more than a reader's draft can hold (512 Mpixel)");
  }
  AnnotationDocument doc;
  doc.observer = Observer{Observer::Kind::Device, a.name, "", a.uid, a.manufacturer, a.modelName, ""};
  doc.segmentation = segmentationInput(seg, a);
  Prelabel p;
  p.studyInstanceUid = content.studyInstanceUid;
  p.sopInstanceUid = content.sopInstanceUid;
  p.kind = "SEG";
  p.algorithm = a;
  p.document = toJson(doc);
  if (seg.fractional) p.unmapped.push_back("fractional masks are offered where they exceed half their maximum value");
  return p;
}

// The newest SEG pre-label (the readers paint one set of masks).
const Prelabel* newestSeg(const std::vector<Prelabel>& prelabels) {
  const Prelabel* newest = nullptr;
  for (const auto& p : prelabels) {
    if (p.kind == "SEG" && (!newest || p.id > newest->id)) newest = &p;
  }
  return newest;
}

// A pre-label's segmentation limited to the given images (masks elsewhere left out).
json segmentationOn(const json& segmentation, const SourceImageSet& images) {
  json out = segmentation;
  json masks = json::array();
  for (const auto& m : segmentation.value("masks", json::array())) {
    if (images.find(m["image"].value("sopInstanceUid", ""))) masks.push_back(m);
  }
  out["masks"] = masks;
  return out;
}

bool samePoints(const std::vector<Point2>& a, const std::vector<Point2>& b) {
  if (a.size() != b.size()) return false;
  // Editors keep shapes in patient space; a round trip moves a coordinate by far less than this.
  constexpr double kTolerance = 0.01;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::fabs(a[i][0] - b[i][0]) > kTolerance || std::fabs(a[i][1] - b[i][1]) > kTolerance) return false;
  }
  return true;
}

bool sameRegion(const Finding& a, const Finding& b) {
  if (!a.geometry || !b.geometry) return !a.geometry && !b.geometry;
  const Geometry& g = *a.geometry;
  const Geometry& h = *b.geometry;
  return g.type == h.type && g.image.sopInstanceUid == h.image.sopInstanceUid && g.image.frame == h.image.frame &&
         samePoints(g.points, h.points);
}

struct AlgorithmItems {
  std::map<std::string, std::pair<Finding, const Prelabel*>> findings;  // by Tracking UID
  std::vector<std::pair<Classification, const Prelabel*>> classifications;
  const Prelabel* seg = nullptr;
};

AlgorithmItems algorithmItems(const std::vector<Prelabel>& prelabels) {
  AlgorithmItems items;
  for (const auto& p : prelabels) {
    if (p.kind != "SR") continue;
    const AnnotationDocument doc = parseAnnotationDocument(p.document);
    for (const auto& f : doc.findings) {
      if (!f.trackingUid.empty()) items.findings.emplace(f.trackingUid, std::make_pair(f, &p));
    }
    for (const auto& c : doc.classifications) items.classifications.emplace_back(c, &p);
  }
  items.seg = newestSeg(prelabels);
  return items;
}

const std::pair<Classification, const Prelabel*>* sameQuestion(const AlgorithmItems& items, const Classification& c) {
  for (const auto& entry : items.classifications) {
    const Classification& a = entry.first;
    const bool sameImage = a.image.has_value() == c.image.has_value() &&
                           (!a.image || (a.image->sopInstanceUid == c.image->sopInstanceUid && a.image->frame == c.image->frame));
    if (a.concept.sameConcept(c.concept) && sameImage) return &entry;
  }
  return nullptr;
}

// Each segment's mask frames keyed by image, from a parsed segmentation.
using MaskFrames = std::map<std::pair<std::string, uint32_t>, std::vector<uint8_t>>;
std::vector<MaskFrames> masksBySegment(const Segmentation& seg) {
  std::vector<MaskFrames> out(seg.segments.size());
  for (const auto& f : seg.frames) {
    const uint64_t pixels = static_cast<uint64_t>(seg.rows) * seg.columns;
    if (bits::countSetBits(f.data.data(), pixels) == 0) continue;  // an empty frame is no mask
    out[f.segment - 1][{f.image.sopInstanceUid, f.image.frame}] = f.data;
  }
  return out;
}

// For each segment of `document`'s segmentation: the index of the algorithm's segment of the same
// type (or -1), and whether the masks are the algorithm's exactly.
struct SegmentMatch {
  int algorithmSegment = -1;
  bool unchanged = false;
};
std::vector<SegmentMatch> matchSegments(const json& segmentation, const Prelabel& prelabel, const SourceImageSet& images,
                                        Segmentation* algorithmOut = nullptr) {
  const Segmentation mine = parseSegmentation(segmentation, images);
  const Segmentation theirs = parseSegmentation(segmentationOn(prelabel.document.at("segmentation"), images), images, false);
  const std::vector<MaskFrames> mineMasks = masksBySegment(mine);
  const std::vector<MaskFrames> theirMasks = masksBySegment(theirs);
  std::vector<SegmentMatch> out(mine.segments.size());
  for (size_t i = 0; i < mine.segments.size(); ++i) {
    for (size_t k = 0; k < theirs.segments.size(); ++k) {
      if (!mine.segments[i].type.sameConcept(theirs.segments[k].type)) continue;
      out[i].algorithmSegment = static_cast<int>(k);
      out[i].unchanged = mineMasks[i] == theirMasks[k];
      break;
    }
  }
  if (algorithmOut) *algorithmOut = theirs;
  return out;
}
}  // namespace

json toJson(const AlgorithmIdentity& a) {
  json j = {{"name", a.name}, {"version", a.version}};
  if (!a.uid.empty()) j["uid"] = a.uid;
  if (!a.manufacturer.empty()) j["manufacturer"] = a.manufacturer;
  if (!a.modelName.empty()) j["modelName"] = a.modelName;
  return j;
}

json toJson(const Prelabel& p, bool withDocument) {
  json j = {{"id", p.id},
            {"studyInstanceUid", p.studyInstanceUid},
            {"sopInstanceUid", p.sopInstanceUid},
            {"kind", p.kind},
            {"algorithm", toJson(p.algorithm)},
            {"unmapped", p.unmapped},
            {"importedBy", p.importedBy}};
  j["findings"] = p.document.value("findings", json::array()).size();
  j["classifications"] = p.document.value("classifications", json::array()).size();
  if (p.document.contains("segmentation")) {
    j["segments"] = p.document["segmentation"].value("segments", json::array()).size();
    j["maskFrames"] = p.document["segmentation"].value("masks", json::array()).size();
  }
  if (withDocument) j["annotation"] = p.document;
  return j;
}

Prelabel readPrelabel(DcmDataset& ds, const AlgorithmIdentity& given) {
  const std::string sopClass = getString(ds, DCM_SOPClassUID);
  if (isMeasurementReportClass(sopClass)) return readSrPrelabel(ds, given);
  if (sopClass == UID_SegmentationStorage) return readSegPrelabel(ds, given);
  throw PrelabelError("SOP Class " + (sopClass.empty() ? std::string("(none)") : sopClass) +
                      " is not a pre-label: send a TID 1500 SR (Enhanced, Comprehensive or Comprehensive 3D) or a Segmentation");
}

PrelabelDraft draftFromPrelabels(const std::vector<Prelabel>& prelabels, const Protocol& protocol, const SourceImageSet& images) {
  PrelabelDraft draft;
  AnnotationDocument& doc = draft.document;
  doc.protocol = ProtocolRef{protocol.id, protocol.version};
  bool named = false;
  auto nameObserver = [&](const Prelabel& p) {
    if (named) return;
    doc.observer = Observer{Observer::Kind::Device, p.algorithm.name, "", p.algorithm.uid, p.algorithm.manufacturer, p.algorithm.modelName, ""};
    named = true;
  };
  for (const auto& p : prelabels) {
    if (p.kind != "SR") continue;
    const AnnotationDocument sr = parseAnnotationDocument(p.document);
    nameObserver(p);
    for (Finding f : sr.findings) {
      if (!f.geometry || !images.find(f.geometry->image.sopInstanceUid)) continue;  // another series' task
      const LabelRule* label = protocol.labelForFinding(f.finding);
      if (!label) {
        draft.notes.push_back(p.algorithm.name + "'s finding " + f.finding.str() + " is not a label of protocol " + protocol.id +
                              ": not offered");
        continue;
      }
      if (std::find(label->geometries.begin(), label->geometries.end(), f.geometry->type) == label->geometries.end()) {
        draft.notes.push_back(p.algorithm.name + "'s " + geometryTypeName(f.geometry->type) + " for '" + label->key +
                              "' is a shape the protocol does not allow for it: not offered");
        continue;
      }
      f.label = label->key;
      // Only what the protocol asks of the label goes to the reader; the product computes its
      // own measurements from the region.
      std::set<std::string> dropped;
      std::vector<Measurement> measurements;
      for (const auto& m : f.measurements) {
        const bool asked = std::any_of(label->measurements.begin(), label->measurements.end(),
                                       [&](const MeasurementRule& r) { return r.concept.sameConcept(m.concept); });
        if (asked) measurements.push_back(m);
        else dropped.insert(m.concept.meaning.empty() ? m.concept.value : m.concept.meaning);
      }
      std::vector<Evaluation> evaluations;
      for (const auto& e : f.evaluations) {
        const bool asked = std::any_of(label->evaluations.begin(), label->evaluations.end(),
                                       [&](const EvaluationRule& r) { return r.concept.sameConcept(e.concept); });
        if (asked) evaluations.push_back(e);
        else dropped.insert(e.concept.meaning.empty() ? e.concept.value : e.concept.meaning);
      }
      f.measurements = std::move(measurements);
      f.evaluations = std::move(evaluations);
      for (const auto& what : dropped) {
        const std::string note = p.algorithm.name + "'s '" + what + "' is not asked of '" + label->key + "' by the protocol: not offered";
        if (std::find(draft.notes.begin(), draft.notes.end(), note) == draft.notes.end()) draft.notes.push_back(note);
      }
      doc.findings.push_back(f);
    }
    for (Classification c : sr.classifications) {
      if (c.image && !images.find(c.image->sopInstanceUid)) continue;
      const ClassificationRule* rule = protocol.classificationForConcept(c.concept);
      if (!rule) {
        draft.notes.push_back(p.algorithm.name + "'s classification " + c.concept.str() + " is not a question of protocol " +
                              protocol.id + ": not offered");
        continue;
      }
      c.label = rule->key;
      doc.classifications.push_back(c);
    }
  }
  if (const Prelabel* segPrelabel = newestSeg(prelabels)) {
    nameObserver(*segPrelabel);
    json seg = segmentationOn(segPrelabel->document.at("segmentation"), images);
    json segments = json::array();
    std::map<int, int> renumbered;  // the pre-label's segment number -> the draft's
    const json& all = seg["segments"];
    for (size_t i = 0; i < all.size(); ++i) {
      const Code type = {all[i]["type"].value("code", ""), all[i]["type"].value("scheme", ""), all[i]["type"].value("meaning", "")};
      const LabelRule* label = protocol.labelForFinding(type);
      if (!label || !label->segmentation) {
        draft.notes.push_back(segPrelabel->algorithm.name + "'s segment '" + all[i].value("label", "") + "' " + type.str() +
                              " is not a mask label of protocol " + protocol.id + ": not offered");
        continue;
      }
      segments.push_back(all[i]);
      renumbered[static_cast<int>(i) + 1] = static_cast<int>(segments.size());
    }
    json masks = json::array();
    for (auto m : seg["masks"]) {
      const auto to = renumbered.find(m.value("segment", 0));
      if (to == renumbered.end()) continue;
      m["segment"] = to->second;
      masks.push_back(m);
    }
    if (!masks.empty()) {
      seg["segments"] = segments;
      seg["masks"] = masks;
      doc.segmentation = seg;
    }
  }
  return draft;
}

void markProvenance(AnnotationDocument& doc, const std::vector<Prelabel>& prelabels, const SourceImageSet& images) {
  for (auto& f : doc.findings) f.provenance.reset();
  for (auto& c : doc.classifications) c.provenance.reset();
  const AlgorithmItems items = algorithmItems(prelabels);
  for (auto& f : doc.findings) {
    const auto found = items.findings.find(f.trackingUid);
    if (found == items.findings.end()) continue;
    const Finding& theirs = found->second.first;
    f.provenance = fromAlgorithm(found->second.second->algorithm, found->second.second->sopInstanceUid);
    if (!f.finding.sameConcept(theirs.finding) || !sameRegion(f, theirs)) f.provenance->source = Provenance::Source::AlgorithmEdited;
  }
  for (auto& c : doc.classifications) {
    const auto* entry = sameQuestion(items, c);
    if (!entry) continue;
    c.provenance = fromAlgorithm(entry->second->algorithm, entry->second->sopInstanceUid);
    if (!c.value.sameConcept(entry->first.value)) c.provenance->source = Provenance::Source::AlgorithmEdited;
  }
  if (!doc.segmentation) return;
  json& segments = (*doc.segmentation)["segments"];
  for (auto& s : segments) s["algorithm"] = {{"type", "MANUAL"}};
  if (!items.seg) return;
  Segmentation algorithm;
  const std::vector<SegmentMatch> matches = matchSegments(*doc.segmentation, *items.seg, images, &algorithm);
  for (size_t i = 0; i < matches.size() && i < segments.size(); ++i) {
    if (matches[i].algorithmSegment < 0) continue;
    const SegmentDescription& theirs = algorithm.segments[static_cast<size_t>(matches[i].algorithmSegment)];
    json a = {{"type", matches[i].unchanged ? "AUTOMATIC" : "SEMIAUTOMATIC"}, {"name", items.seg->algorithm.name}};
    if (theirs.algorithmFamily) {
      a["family"] = toJson(*theirs.algorithmFamily);
      a["version"] = items.seg->algorithm.version;
    }
    segments[i]["algorithm"] = a;
  }
}

json provenanceSummary(const AnnotationDocument& doc, const std::vector<Prelabel>& prelabels, const SourceImageSet& images,
                       const Protocol* protocol) {
  const AlgorithmItems items = algorithmItems(prelabels);
  json findings = {{"kept", 0}, {"edited", 0}, {"removed", 0}, {"added", 0}};
  std::set<std::string> present;
  for (const auto& f : doc.findings) {
    if (!f.provenance) findings["added"] = findings["added"].get<int>() + 1;
    else if (f.provenance->source == Provenance::Source::Algorithm) findings["kept"] = findings["kept"].get<int>() + 1;
    else findings["edited"] = findings["edited"].get<int>() + 1;
    present.insert(f.trackingUid);
  }
  for (const auto& [uid, entry] : items.findings) {
    const Finding& theirs = entry.first;
    const bool offered = !protocol || protocol->labelForFinding(theirs.finding);
    if (offered && theirs.geometry && images.find(theirs.geometry->image.sopInstanceUid) && !present.count(uid)) {
      findings["removed"] = findings["removed"].get<int>() + 1;
    }
  }
  json out = {{"findings", findings}};
  if (items.seg) {
    json segments = {{"kept", 0}, {"edited", 0}, {"removed", 0}, {"added", 0}};
    std::set<int> matched;
    if (doc.segmentation) {
      for (const auto& m : matchSegments(*doc.segmentation, *items.seg, images)) {
        const char* key = m.algorithmSegment < 0 ? "added" : m.unchanged ? "kept" : "edited";
        segments[key] = segments[key].get<int>() + 1;
        matched.insert(m.algorithmSegment);
      }
    }
    const json offered = segmentationOn(items.seg->document.at("segmentation"), images);
    std::set<int> withMasks;
    for (const auto& m : offered["masks"]) withMasks.insert(m.value("segment", 0) - 1);
    for (int k : withMasks) {
      if (!matched.count(k)) segments["removed"] = segments["removed"].get<int>() + 1;
    }
    out["segments"] = segments;
  }
  return out;
}

}  // namespace annot
