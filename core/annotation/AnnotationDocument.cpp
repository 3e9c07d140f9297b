#include "annotation/AnnotationDocument.h"

#include <cmath>
#include <set>

#include "common/EnumNames.h"
#include "common/JsonFieldReader.h"
#include "dicom/Uid.h"

namespace annot {
namespace {
using nlohmann::json;

const std::pair<GeometryType, const char*> kGeometryNames[] = {
    {GeometryType::Point, "point"},   {GeometryType::Polyline, "polyline"}, {GeometryType::Polygon, "polygon"},
    {GeometryType::BBox, "bbox"},     {GeometryType::Ellipse, "ellipse"},   {GeometryType::Circle, "circle"}};

// Collects problems with their JSON path while walking the document.
class Parser : public JsonFieldReader {
 public:
  std::optional<ImageRef> image(const json& j, const std::string& path) {
    if (!j.is_object()) {
      problem(path, "must be an object {\"sopInstanceUid\", \"frame\"}");
      return std::nullopt;
    }
    ImageRef ref;
    ref.sopInstanceUid = string(j, "sopInstanceUid", path, true);
    if (!ref.sopInstanceUid.empty() && !isValidUid(ref.sopInstanceUid)) {
      problem(path + ".sopInstanceUid", "'" + ref.sopInstanceUid + "' is not a valid UID");
    }
    if (j.contains("frame")) {
      if (!j.at("frame").is_number_integer() || j.at("frame").get<long long>() < 1) {
        problem(path + ".frame", "must be a frame number starting at 1");
      } else {
        ref.frame = static_cast<uint32_t>(j.at("frame").get<long long>());
      }
    }
    return ref;
  }

  std::optional<Geometry> geometry(const json& j, const std::string& path) {
    if (!j.is_object()) {
      problem(path, "must be an object {\"type\", \"image\", \"points\"}");
      return std::nullopt;
    }
    Geometry g;
    const std::string typeName = string(j, "type", path, true);
    const auto type = geometryTypeFromName(typeName);
    if (!type) {
      if (!typeName.empty()) {
        problem(path + ".type", "unknown geometry '" + typeName + "' (use point, polyline, polygon, bbox, ellipse, circle)");
      }
      return std::nullopt;
    }
    g.type = *type;
    if (!j.contains("image")) {
      problem(path, "'image' is required");
    } else if (auto ref = image(j.at("image"), path + ".image")) {
      g.image = *ref;
    }
    if (!j.contains("points") || !j.at("points").is_array()) {
      problem(path + ".points", "must be an array of [column, row] pairs");
      return g;
    }
    const json& points = j.at("points");
    for (size_t i = 0; i < points.size(); ++i) {
      const json& p = points[i];
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number() ||
          !std::isfinite(p[0].get<double>()) || !std::isfinite(p[1].get<double>())) {
        problem(path + ".points[" + std::to_string(i) + "]", "must be a [column, row] pair of numbers");
        continue;
      }
      g.points.push_back({p[0].get<double>(), p[1].get<double>()});
    }
    checkPointCount(g, path + ".points");
    return g;
  }

  void checkPointCount(const Geometry& g, const std::string& path) {
    const size_t n = g.points.size();
    switch (g.type) {
      case GeometryType::Point:
        if (n != 1) problem(path, "a point has exactly 1 [column, row] pair, got " + std::to_string(n));
        break;
      case GeometryType::Polyline:
        if (n < 2) problem(path, "a polyline needs at least 2 points, got " + std::to_string(n));
        break;
      case GeometryType::Polygon:
        if (n < 3) problem(path, "a polygon needs at least 3 points, got " + std::to_string(n));
        break;
      case GeometryType::BBox:
        if (n != 2) problem(path, "a bbox has exactly 2 opposite corners, got " + std::to_string(n));
        break;
      case GeometryType::Ellipse:
        if (n != 4) problem(path, "an ellipse has exactly 4 points (major axis ends, minor axis ends), got " + std::to_string(n));
        break;
      case GeometryType::Circle:
        if (n != 2) problem(path, "a circle has exactly 2 points (centre, a point on the rim), got " + std::to_string(n));
        break;
    }
  }

  Evaluation evaluation(const json& j, const std::string& path) {
    Evaluation e;
    if (!j.is_object()) {
      problem(path, "must be an object {\"concept\", \"value\" | \"text\"}");
      return e;
    }
    if (!j.contains("concept")) problem(path, "'concept' is required");
    else e.concept = code(j.at("concept"), path + ".concept");
    if (e.concept.value == "121106" && e.concept.scheme == "DCM") {
      problem(path + ".concept", "(121106, DCM, \"Comment\") is the finding's 'comment': put the text there");
    }
    const bool hasValue = j.contains("value"), hasText = j.contains("text");
    if (hasValue == hasText) {
      problem(path, "needs exactly one of 'value' (a coded concept) or 'text'");
    } else if (hasValue) {
      e.code = code(j.at("value"), path + ".value");
    } else {
      e.text = string(j, "text", path, true);
      if (e.text.empty()) problem(path + ".text", "must not be empty");
    }
    return e;
  }

  Measurement measurement(const json& j, const std::string& path) {
    Measurement m;
    if (!j.is_object()) {
      problem(path, "must be an object {\"concept\", \"value\", \"unit\"}");
      return m;
    }
    if (!j.contains("concept")) problem(path, "'concept' is required");
    else m.concept = code(j.at("concept"), path + ".concept");
    if (!j.contains("value") || !j.at("value").is_number() || !std::isfinite(j.at("value").get<double>())) {
      problem(path + ".value", "must be a finite number");
    } else {
      m.value = j.at("value").get<double>();
    }
    if (!j.contains("unit")) problem(path, "'unit' is required (a UCUM coded concept)");
    else m.unit = code(j.at("unit"), path + ".unit");
    if (j.contains("derived") && j.at("derived").is_boolean()) m.derived = j.at("derived").get<bool>();
    m.note = string(j, "note", path, false);
    return m;
  }

  std::optional<Provenance> provenance(const json& j, const std::string& path) {
    if (!j.contains("provenance")) return std::nullopt;
    const json& p = j.at("provenance");
    if (!p.is_object()) {
      problem(path + ".provenance", "must be an object {\"source\", \"algorithm\", \"prelabel\"}");
      return std::nullopt;
    }
    Provenance out;
    const std::string source = string(p, "source", path + ".provenance", true);
    if (source == "algorithm-edited") out.source = Provenance::Source::AlgorithmEdited;
    else if (source != "algorithm" && !source.empty()) problem(path + ".provenance.source", "must be 'algorithm' or 'algorithm-edited'");
    if (p.contains("algorithm") && p.at("algorithm").is_object()) {
      out.algorithmName = string(p.at("algorithm"), "name", path + ".provenance.algorithm", true);
      out.algorithmVersion = string(p.at("algorithm"), "version", path + ".provenance.algorithm", false);
    } else {
      problem(path + ".provenance.algorithm", "is required {\"name\", \"version\"}");
    }
    out.prelabel = string(p, "prelabel", path + ".provenance", false);
    return out;
  }

  void trackingUid(const std::string& uid, const std::string& path) {
    if (!uid.empty() && !isValidUid(uid)) problem(path, "'" + uid + "' is not a valid UID");
  }

  Finding finding(const json& j, const std::string& path) {
    Finding f;
    if (!j.is_object()) {
      problem(path, "must be an object");
      return f;
    }
    f.trackingId = string(j, "trackingId", path, false);
    f.trackingUid = string(j, "trackingUid", path, false);
    trackingUid(f.trackingUid, path + ".trackingUid");
    f.label = string(j, "label", path, false);
    if (j.contains("finding")) f.finding = code(j.at("finding"), path + ".finding");
    else if (f.label.empty()) problem(path, "needs a 'finding' code or a protocol 'label'");
    if (j.contains("findingSite")) f.findingSite = code(j.at("findingSite"), path + ".findingSite");
    if (j.contains("geometry")) f.geometry = geometry(j.at("geometry"), path + ".geometry");
    else problem(path, "'geometry' is required (classifications without geometry go in 'classifications')");
    if (j.contains("evaluations")) {
      const json& list = j.at("evaluations");
      if (!list.is_array()) problem(path + ".evaluations", "must be an array");
      else for (size_t i = 0; i < list.size(); ++i) f.evaluations.push_back(evaluation(list[i], path + ".evaluations[" + std::to_string(i) + "]"));
    }
    if (j.contains("measurements")) {
      const json& list = j.at("measurements");
      if (!list.is_array()) problem(path + ".measurements", "must be an array");
      else for (size_t i = 0; i < list.size(); ++i) f.measurements.push_back(measurement(list[i], path + ".measurements[" + std::to_string(i) + "]"));
    }
    f.comment = string(j, "comment", path, false);
    f.provenance = provenance(j, path);
    return f;
  }

  Classification classification(const json& j, const std::string& path) {
    Classification c;
    if (!j.is_object()) {
      problem(path, "must be an object {\"concept\", \"value\"}");
      return c;
    }
    c.label = string(j, "label", path, false);
    if (j.contains("concept")) c.concept = code(j.at("concept"), path + ".concept");
    else if (c.label.empty()) problem(path, "needs a 'concept' code or a protocol 'label'");
    if (!j.contains("value")) problem(path, "'value' is required (a coded concept)");
    else c.value = code(j.at("value"), path + ".value");
    if (j.contains("image")) c.image = image(j.at("image"), path + ".image");
    c.trackingId = string(j, "trackingId", path, false);
    c.trackingUid = string(j, "trackingUid", path, false);
    trackingUid(c.trackingUid, path + ".trackingUid");
    c.provenance = provenance(j, path);
    return c;
  }

  Observer observer(const json& j, const std::string& path) {
    Observer o;
    if (!j.is_object()) {
      problem(path, "must be an object {\"type\": \"person\"|\"device\", \"name\", ...}");
      return o;
    }
    const std::string type = string(j, "type", path, false);
    if (type == "device") o.kind = Observer::Kind::Device;
    else if (!type.empty() && type != "person") problem(path + ".type", "must be 'person' or 'device'");
    o.name = string(j, "name", path, true);
    if (j.contains("name") && o.name.empty()) problem(path + ".name", "must not be empty");
    o.organization = string(j, "organization", path, false);
    o.uid = string(j, "uid", path, o.kind == Observer::Kind::Device);
    if (!o.uid.empty() && !isValidUid(o.uid)) problem(path + ".uid", "'" + o.uid + "' is not a valid UID");
    o.manufacturer = string(j, "manufacturer", path, false);
    o.modelName = string(j, "modelName", path, false);
    o.serialNumber = string(j, "serialNumber", path, false);
    return o;
  }
};
}  // namespace

const char* provenanceSourceName(Provenance::Source source) {
  return source == Provenance::Source::Algorithm ? "algorithm" : "algorithm-edited";
}

json toJson(const Provenance& p) {
  json algorithm = {{"name", p.algorithmName}};
  if (!p.algorithmVersion.empty()) algorithm["version"] = p.algorithmVersion;
  json out = {{"source", provenanceSourceName(p.source)}, {"algorithm", algorithm}};
  if (!p.prelabel.empty()) out["prelabel"] = p.prelabel;
  return out;
}

const char* geometryTypeName(GeometryType type) { return enumName(kGeometryNames, type); }
std::optional<GeometryType> geometryTypeFromName(const std::string& name) { return enumFromName(kGeometryNames, name); }

AnnotationDocument parseAnnotationDocument(const json& j) {
  Parser p;
  AnnotationDocument doc;
  if (!j.is_object()) throw AnnotationError({"document: must be a JSON object"});
  static const std::set<std::string> known = {"observer", "protocol", "studyInstanceUid", "findings", "classifications", "schemaVersion",
                                              "segmentation"};
  for (const auto& item : j.items()) {
    if (!known.count(item.key())) p.problem(item.key(), "unknown key (allowed: observer, protocol, studyInstanceUid, findings, classifications)");
  }
  if (!j.contains("observer")) p.problem("observer", "is required (who made these annotations)");
  else doc.observer = p.observer(j.at("observer"), "observer");
  if (j.contains("protocol")) {
    const json& pr = j.at("protocol");
    if (!pr.is_object()) {
      p.problem("protocol", "must be an object {\"id\", \"version\"}");
    } else {
      doc.protocol = ProtocolRef{p.string(pr, "id", "protocol", true), p.string(pr, "version", "protocol", false)};
    }
  }
  doc.studyInstanceUid = p.string(j, "studyInstanceUid", "document", false);
  if (!doc.studyInstanceUid.empty() && !isValidUid(doc.studyInstanceUid)) {
    p.problem("studyInstanceUid", "'" + doc.studyInstanceUid + "' is not a valid UID");
  }
  if (j.contains("findings")) {
    const json& list = j.at("findings");
    if (!list.is_array()) p.problem("findings", "must be an array");
    else for (size_t i = 0; i < list.size(); ++i) doc.findings.push_back(p.finding(list[i], "findings[" + std::to_string(i) + "]"));
  }
  if (j.contains("classifications")) {
    const json& list = j.at("classifications");
    if (!list.is_array()) p.problem("classifications", "must be an array");
    else for (size_t i = 0; i < list.size(); ++i) doc.classifications.push_back(p.classification(list[i], "classifications[" + std::to_string(i) + "]"));
  }
  if (j.contains("segmentation")) {
    if (!j.at("segmentation").is_object()) p.problem("segmentation", "must be an object {\"segments\", \"masks\"}");
    else doc.segmentation = j.at("segmentation");
  }
  if (!p.problems.empty()) throw AnnotationError(p.problems);
  return doc;
}

AnnotationDocument parseAnnotationDocument(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw AnnotationError({std::string("document: not valid JSON (") + e.what() + ")"});
  }
  return parseAnnotationDocument(j);
}

namespace {
json imageJson(const ImageRef& ref) {
  json j = {{"sopInstanceUid", ref.sopInstanceUid}};
  if (ref.frame) j["frame"] = ref.frame;
  return j;
}
}  // namespace

json toJson(const AnnotationDocument& doc) {
  json out = json::object();
  json observer = {{"type", doc.observer.kind == Observer::Kind::Device ? "device" : "person"}, {"name", doc.observer.name}};
  if (!doc.observer.organization.empty()) observer["organization"] = doc.observer.organization;
  if (!doc.observer.uid.empty()) observer["uid"] = doc.observer.uid;
  if (!doc.observer.manufacturer.empty()) observer["manufacturer"] = doc.observer.manufacturer;
  if (!doc.observer.modelName.empty()) observer["modelName"] = doc.observer.modelName;
  if (!doc.observer.serialNumber.empty()) observer["serialNumber"] = doc.observer.serialNumber;
  out["observer"] = observer;
  if (doc.protocol) out["protocol"] = {{"id", doc.protocol->id}, {"version", doc.protocol->version}};
  if (!doc.studyInstanceUid.empty()) out["studyInstanceUid"] = doc.studyInstanceUid;
  json findings = json::array();
  for (const auto& f : doc.findings) {
    json jf = json::object();
    if (!f.trackingId.empty()) jf["trackingId"] = f.trackingId;
    if (!f.trackingUid.empty()) jf["trackingUid"] = f.trackingUid;
    if (!f.label.empty()) jf["label"] = f.label;
    if (!f.finding.empty()) jf["finding"] = toJson(f.finding);
    if (f.findingSite) jf["findingSite"] = toJson(*f.findingSite);
    if (f.geometry) {
      json points = json::array();
      for (const auto& p : f.geometry->points) points.push_back({p[0], p[1]});
      jf["geometry"] = {{"type", geometryTypeName(f.geometry->type)}, {"image", imageJson(f.geometry->image)}, {"points", points}};
    }
    if (!f.evaluations.empty()) {
      json list = json::array();
      for (const auto& e : f.evaluations) {
        json je = {{"concept", toJson(e.concept)}};
        if (e.code) je["value"] = toJson(*e.code);
        else je["text"] = e.text;
        list.push_back(je);
      }
      jf["evaluations"] = list;
    }
    if (!f.measurements.empty()) {
      json list = json::array();
      for (const auto& m : f.measurements) {
        json jm = {{"concept", toJson(m.concept)}, {"value", m.value}, {"unit", toJson(m.unit)}};
        if (m.derived) jm["derived"] = true;
        if (!m.note.empty()) jm["note"] = m.note;
        list.push_back(jm);
      }
      jf["measurements"] = list;
    }
    if (!f.comment.empty()) jf["comment"] = f.comment;
    if (f.provenance) jf["provenance"] = toJson(*f.provenance);
    findings.push_back(jf);
  }
  out["findings"] = findings;
  json classifications = json::array();
  for (const auto& c : doc.classifications) {
    json jc = {{"value", toJson(c.value)}};
    if (!c.concept.empty()) jc["concept"] = toJson(c.concept);
    if (!c.label.empty()) jc["label"] = c.label;
    if (c.image) jc["image"] = imageJson(*c.image);
    if (!c.trackingId.empty()) jc["trackingId"] = c.trackingId;
    if (!c.trackingUid.empty()) jc["trackingUid"] = c.trackingUid;
    if (c.provenance) jc["provenance"] = toJson(*c.provenance);
    classifications.push_back(jc);
  }
  out["classifications"] = classifications;
  if (doc.segmentation) out["segmentation"] = *doc.segmentation;
  return out;
}

}  // namespace annot
