#include "annotation/AnnotationValidator.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cmath>
#include <set>

#include "annotation/DerivedMeasurements.h"
#include "seg/Segmentation.h"

namespace annot {
namespace {

std::string listKeys(const std::vector<LabelRule>& labels) {
  std::string out;
  for (const auto& l : labels) out += (out.empty() ? "" : ", ") + l.key;
  return out;
}

std::string listCodes(const std::vector<Code>& codes) {
  std::string out;
  for (const auto& c : codes) out += (out.empty() ? "" : ", ") + c.str();
  return out;
}

bool containsCode(const std::vector<Code>& codes, const Code& c) {
  for (const auto& x : codes) {
    if (x.sameConcept(c)) return true;
  }
  return false;
}

class Resolver {
 public:
  Resolver(const SourceImageSet& images, const Protocol* protocol) : images_(images), protocol_(protocol) {}
  std::vector<std::string> problems;
  // What the protocol requires and the document does not have yet: refused on submission,
  // allowed in a draft.
  std::vector<std::string> missing;
  std::set<std::string> studies;

  void problem(const std::string& path, const std::string& message) { problems.push_back(path + ": " + message); }
  void absent(const std::string& path, const std::string& message) { missing.push_back(path + ": " + message); }

  // Checks an image reference; returns the image when usable.
  const SourceImage* image(ImageRef& ref, const std::string& path) {
    const SourceImage* img = images_.find(ref.sopInstanceUid);
    if (!img) {
      problem(path, "SOP Instance UID " + ref.sopInstanceUid +
                        " is not among the referenced images (add its file or folder to the images)");
      return nullptr;
    }
    studies.insert(img->studyInstanceUid);
    if (auto why = unlabelableReason(*img)) {
      problem(path, *why);
      return nullptr;
    }
    if (auto wrong = resolveFrame(*img, ref.frame)) problem(path + (ref.frame ? ".frame" : ""), *wrong);
    return img;
  }

  void geometry(Finding& f, const std::string& path) {
    Geometry& g = *f.geometry;
    const SourceImage* img = image(g.image, path + ".image");
    if (!img) return;
    bool inside = true;
    for (size_t i = 0; i < g.points.size(); ++i) {
      const auto& p = g.points[i];
      if (p[0] < 0 || p[1] < 0 || p[0] > img->columns || p[1] > img->rows) {
        problem(path + ".points[" + std::to_string(i) + "]",
                "(" + trimNumber(p[0]) + ", " + trimNumber(p[1]) + ") is outside the image (columns 0.." +
                    std::to_string(img->columns) + ", rows 0.." + std::to_string(img->rows) + ")");
        inside = false;
      }
    }
    if (!inside) return;
    if (g.type != GeometryType::Point && pixelExtent(g) < 1e-6) {
      problem(path, std::string("degenerate ") + geometryTypeName(g.type) +
                        ": it has no length or area (points coincide or are collinear)");
      return;
    }
    if (g.type == GeometryType::Ellipse && !ellipseAxes(g, path)) return;
    // Recompute derived values; an explicit measurement of the same concept wins.
    std::vector<Measurement> kept;
    for (const auto& m : f.measurements) {
      if (!m.derived) kept.push_back(m);
    }
    for (const auto& d : deriveMeasurements(g, *img)) {
      bool explicitOne = false;
      for (const auto& m : kept) explicitOne = explicitOne || m.concept.sameConcept(d.concept);
      if (!explicitOne) kept.push_back(d);
    }
    f.measurements = std::move(kept);
  }

  // A DICOM ELLIPSE (PS3.3 C.18.6.1.2) is its major axis' two ends, then its minor axis' ends:
  // axes that cross at right angles at their midpoints. Axes given minor first are put in
  // order (the figure is the same); axes that do not describe an ellipse are refused.
  bool ellipseAxes(Geometry& g, const std::string& path) {
    auto& p = g.points;
    auto length = [](const Point2& a, const Point2& b) { return std::hypot(b[0] - a[0], b[1] - a[1]); };
    if (length(p[0], p[1]) < length(p[2], p[3])) {
      std::swap(p[0], p[2]);
      std::swap(p[1], p[3]);
    }
    const double major = length(p[0], p[1]), minor = length(p[2], p[3]);
    const double cosine = ((p[1][0] - p[0][0]) * (p[3][0] - p[2][0]) + (p[1][1] - p[0][1]) * (p[3][1] - p[2][1])) / (major * minor);
    // Rounded coordinates tilt a short axis by more degrees than a long one: the allowance is
    // a pixel of sideways drift at the minor axis' ends, or about 3 degrees, whichever is more.
    if (std::abs(cosine) > 0.05 && std::abs(cosine) * minor > 1.0) {
      problem(path + ".points", "the ellipse's axes are not perpendicular (they meet at " +
                                    trimNumber(std::acos(std::abs(cosine)) * 180 / 3.14159265358979323846) + " degrees)");
      return false;
    }
    const Point2 m1{(p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2}, m2{(p[2][0] + p[3][0]) / 2, (p[2][1] + p[3][1]) / 2};
    if (length(m1, m2) > std::max(1.0, 0.02 * major)) {
      problem(path + ".points", "the ellipse's axes do not cross at their midpoints (" + trimNumber(m1[0]) + ", " + trimNumber(m1[1]) +
                                    ") and (" + trimNumber(m2[0]) + ", " + trimNumber(m2[1]) + ")");
      return false;
    }
    return true;
  }

  void protocolRules(Finding& f, const std::string& path) {
    if (!protocol_) {
      if (!f.label.empty()) problem(path + ".label", "label '" + f.label + "' needs a protocol in the document");
      return;
    }
    const LabelRule* rule = nullptr;
    if (!f.label.empty()) {
      rule = protocol_->label(f.label);
      if (!rule) {
        problem(path + ".label", "'" + f.label + "' is not a label of protocol " + protocol_->id + " (labels: " +
                                     listKeys(protocol_->labels) + ")");
        return;
      }
      if (!f.finding.empty() && !f.finding.sameConcept(rule->finding)) {
        problem(path + ".finding", f.finding.str() + " contradicts label '" + f.label + "', which means " + rule->finding.str());
      }
      f.finding = rule->finding;
    } else {
      rule = protocol_->labelForFinding(f.finding);
      if (!rule) {
        problem(path + ".finding", f.finding.str() + " is not allowed by protocol " + protocol_->id + " (labels: " +
                                       listKeys(protocol_->labels) + ")");
        return;
      }
      f.label = rule->key;
    }
    if (!f.findingSite && rule->findingSite) f.findingSite = rule->findingSite;
    if (f.findingSite && !rule->allowedSites.empty() && !containsCode(rule->allowedSites, *f.findingSite)) {
      problem(path + ".findingSite", f.findingSite->str() + " is not an allowed site for '" + rule->key + "' (allowed: " +
                                         listCodes(rule->allowedSites) + ")");
    }
    if (f.geometry) {
      bool allowed = false;
      for (auto t : rule->geometries) allowed = allowed || t == f.geometry->type;
      if (!allowed) {
        std::string names;
        for (auto t : rule->geometries) names += (names.empty() ? "" : ", ") + std::string(geometryTypeName(t));
        problem(path + ".geometry.type", std::string("'") + geometryTypeName(f.geometry->type) + "' is not allowed for '" +
                                             rule->key + "' (allowed: " + (names.empty() ? "none" : names) + ")");
      }
    }
    for (size_t i = 0; i < f.evaluations.size(); ++i) {
      const Evaluation& e = f.evaluations[i];
      const std::string p = path + ".evaluations[" + std::to_string(i) + "]";
      const EvaluationRule* er = nullptr;
      for (const auto& r : rule->evaluations) {
        if (r.concept.sameConcept(e.concept)) er = &r;
      }
      if (!er) {
        problem(p + ".concept", e.concept.str() + " is not an evaluation of '" + rule->key + "' in protocol " + protocol_->id);
        continue;
      }
      if (e.code && !er->values.empty() && !containsCode(er->values, *e.code)) {
        problem(p + ".value", e.code->str() + " is not an allowed value (allowed: " + listCodes(er->values) + ")");
      }
      if (!e.code && !er->allowText) problem(p, "needs a coded value (allowed: " + listCodes(er->values) + ")");
    }
    for (const auto& r : rule->evaluations) {
      if (!r.required) continue;
      bool present = false;
      for (const auto& e : f.evaluations) present = present || e.concept.sameConcept(r.concept);
      if (!present) absent(path + ".evaluations", "required evaluation " + r.concept.str() + " is missing");
    }
    for (size_t i = 0; i < f.measurements.size(); ++i) {
      const Measurement& m = f.measurements[i];
      if (m.derived) continue;
      const MeasurementRule* mr = nullptr;
      for (const auto& r : rule->measurements) {
        if (r.concept.sameConcept(m.concept)) mr = &r;
      }
      const std::string p = path + ".measurements[" + std::to_string(i) + "]";
      if (!mr) {
        problem(p + ".concept", m.concept.str() + " is not a measurement of '" + rule->key + "' in protocol " + protocol_->id);
      } else if (!m.unit.sameConcept(mr->unit)) {
        problem(p + ".unit", "must be " + mr->unit.str() + ", got " + m.unit.str());
      }
    }
    requiredMeasurements_.push_back({&f, rule, path});
  }

  // Runs after derived measurements exist.
  void checkRequiredMeasurements() {
    for (const auto& [f, rule, path] : requiredMeasurements_) {
      for (const auto& r : rule->measurements) {
        if (!r.required) continue;
        bool present = false;
        for (const auto& m : f->measurements) present = present || m.concept.sameConcept(r.concept);
        if (!present) {
          absent(path + ".measurements", "required measurement " + r.concept.str() + " is missing (give it, or draw a " +
                                              "shape it can be derived from)");
        }
      }
    }
  }

  void classification(Classification& c, const std::string& path) {
    if (c.image) image(*c.image, path + ".image");
    if (!protocol_) {
      if (!c.label.empty()) problem(path + ".label", "label '" + c.label + "' needs a protocol in the document");
      return;
    }
    const ClassificationRule* rule = !c.label.empty() ? protocol_->classification(c.label) : protocol_->classificationForConcept(c.concept);
    if (!rule) {
      problem(path, (c.label.empty() ? c.concept.str() : "'" + c.label + "'") + " is not a classification of protocol " + protocol_->id);
      return;
    }
    if (!c.concept.empty() && !c.concept.sameConcept(rule->concept)) {
      problem(path + ".concept", c.concept.str() + " contradicts label '" + rule->key + "'");
    }
    c.concept = rule->concept;
    c.label = rule->key;
    if (!containsCode(rule->values, c.value)) {
      problem(path + ".value", c.value.str() + " is not an allowed answer (allowed: " + listCodes(rule->values) + ")");
    }
    if (rule->imageLevel && !c.image) problem(path, "'" + rule->key + "' is per image: give 'image'");
  }

  void requiredClassifications(const AnnotationDocument& doc) {
    if (!protocol_) return;
    for (const auto& r : protocol_->classifications) {
      if (!r.required) continue;
      bool present = false;
      for (const auto& c : doc.classifications) present = present || c.concept.sameConcept(r.concept);
      if (!present) absent("classifications", "required classification '" + r.key + "' " + r.concept.str() + " is missing");
    }
  }

  static std::string trimNumber(double v) {
    std::string s = std::to_string(v);
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
      const bool dot = s.back() == '.';
      s.pop_back();
      if (dot) break;
    }
    return s;
  }

 private:
  struct Pending {
    Finding* finding;
    const LabelRule* rule;
    std::string path;
  };
  const SourceImageSet& images_;
  const Protocol* protocol_;
  std::vector<Pending> requiredMeasurements_;
};
}  // namespace

std::string newUid() {
  char buf[100];
  return dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
}

namespace {
// Resolves a document; what is wrong always refuses it, what is missing only when `complete`
// (reported together, so that one answer lists everything to fix).
ResolvedDraft resolve(const AnnotationDocument& input, const SourceImageSet& images, const Protocol* protocol, bool complete) {
  AnnotationDocument doc = input;
  Resolver r(images, protocol);
  if (doc.protocol && !protocol) r.problem("protocol", "unknown protocol '" + doc.protocol->id + "' version '" + doc.protocol->version + "'");
  if (protocol && !doc.protocol) doc.protocol = ProtocolRef{protocol->id, protocol->version};
  for (size_t i = 0; i < doc.findings.size(); ++i) {
    Finding& f = doc.findings[i];
    const std::string path = "findings[" + std::to_string(i) + "]";
    r.protocolRules(f, path);
    if (f.geometry) r.geometry(f, path + ".geometry");
    if (f.trackingUid.empty()) f.trackingUid = newUid();
    if (f.trackingId.empty()) f.trackingId = (f.label.empty() ? f.finding.meaning : f.label) + " #" + std::to_string(i + 1);
  }
  r.checkRequiredMeasurements();
  for (size_t i = 0; i < doc.classifications.size(); ++i) {
    Classification& c = doc.classifications[i];
    r.classification(c, "classifications[" + std::to_string(i) + "]");
    if (c.trackingUid.empty()) c.trackingUid = newUid();
    if (c.trackingId.empty()) c.trackingId = (c.label.empty() ? c.concept.meaning : c.label) + " #" + std::to_string(i + 1);
  }
  r.requiredClassifications(doc);
  if (doc.segmentation) {
    try {
      const Segmentation seg = parseSegmentation(*doc.segmentation, images);
      for (const auto& f : seg.frames) r.studies.insert(images.find(f.image.sopInstanceUid)->studyInstanceUid);
      for (size_t i = 0; protocol && i < seg.segments.size(); ++i) {
        // A mask must stand for a protocol label that allows segmentation.
        bool allowed = false;
        for (const auto& l : protocol->labels) allowed = allowed || (l.segmentation && l.finding.sameConcept(seg.segments[i].type));
        if (!allowed) {
          r.problem("segmentation.segments[" + std::to_string(i) + "].type",
                    seg.segments[i].type.str() + " is not a label of protocol " + protocol->id + " that allows segmentation");
        }
      }
    } catch (const SegmentationError& e) {
      for (const auto& p : e.problems()) r.problem("segmentation." + p.substr(0, p.find(':')), p.substr(p.find(':') + 2));
    }
  }
  if (r.studies.size() > 1) {
    r.problem("document", "refers to images of " + std::to_string(r.studies.size()) + " studies; one document covers one study");
  } else if (r.studies.size() == 1) {
    const std::string study = *r.studies.begin();
    if (!doc.studyInstanceUid.empty() && doc.studyInstanceUid != study) {
      r.problem("studyInstanceUid", doc.studyInstanceUid + " differs from the study of the referenced images (" + study + ")");
    }
    doc.studyInstanceUid = study;
  }
  if (doc.findings.empty() && doc.classifications.empty() && !doc.segmentation) {
    r.absent("document", "has neither findings nor classifications nor a segmentation");
  }
  if (complete) r.problems.insert(r.problems.end(), r.missing.begin(), r.missing.end());
  if (!r.problems.empty()) throw AnnotationError(r.problems);
  return {std::move(doc), std::move(r.missing)};
}
}  // namespace

ResolvedDraft resolveDraft(const AnnotationDocument& input, const SourceImageSet& images, const Protocol* protocol) {
  return resolve(input, images, protocol, false);
}

AnnotationDocument resolveAnnotation(const AnnotationDocument& input, const SourceImageSet& images, const Protocol* protocol) {
  return resolve(input, images, protocol, true).document;
}

}  // namespace annot
