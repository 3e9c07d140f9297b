#pragma once
// The annotation model: one document per reader per study, as published in
// docs/annotation.schema.json. Coordinates are image pixel coordinates (column, row) with the
// DICOM SCOORD convention: (0,0) is the top-left corner of the top-left pixel.
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "annotation/Code.h"
#include "common/JsonFieldReader.h"

namespace annot {

struct ImageRef {
  std::string sopInstanceUid;
  uint32_t frame = 0;  // 1-based frame of a multi-frame image; 0 for single-frame images
};

enum class GeometryType { Point, Polyline, Polygon, BBox, Ellipse, Circle };
const char* geometryTypeName(GeometryType type);
std::optional<GeometryType> geometryTypeFromName(const std::string& name);

using Point2 = std::array<double, 2>;  // column, row

struct Geometry {
  GeometryType type = GeometryType::Point;
  ImageRef image;
  // point: 1; polyline: >= 2; polygon: >= 3 (closed implicitly); bbox: 2 opposite corners;
  // ellipse: 4 (major axis ends, then minor axis ends); circle: centre and a point on the rim.
  std::vector<Point2> points;
};

struct Evaluation {
  Code concept;
  std::optional<Code> code;  // coded value ...
  std::string text;          // ... or free text
};

struct Measurement {
  Code concept;
  double value = 0;
  Code unit;                 // UCUM
  bool derived = false;      // computed by the product from the geometry
  std::string note;          // e.g. which pixel spacing the value is based on
};

// Where an item came from when it is not simply the observer's own work: an algorithm's
// pre-label (imported SR or SEG), as the reader kept it or as the reader changed it. Set by the
// worklist when a revision is saved (by comparison with the study's pre-labels), never trusted
// from the client.
struct Provenance {
  enum class Source { Algorithm, AlgorithmEdited };
  Source source = Source::Algorithm;
  std::string algorithmName;
  std::string algorithmVersion;
  std::string prelabel;  // SOP Instance UID of the imported SR/SEG the item came from
};
const char* provenanceSourceName(Provenance::Source source);

struct Finding {
  std::string trackingId;    // human-readable, stable across revisions
  std::string trackingUid;   // generated when absent
  std::string label;         // protocol label key, when the finding came from a protocol label
  Code finding;
  std::optional<Code> findingSite;
  std::optional<Geometry> geometry;
  std::vector<Evaluation> evaluations;
  std::vector<Measurement> measurements;
  std::string comment;
  std::optional<Provenance> provenance;
};

struct Classification {
  std::string label;         // protocol classification key, optional
  Code concept;
  Code value;
  std::optional<ImageRef> image;  // image-level when set, study-level otherwise
  std::string trackingId;
  std::string trackingUid;
  std::optional<Provenance> provenance;
};

struct Observer {
  enum class Kind { Person, Device };
  Kind kind = Kind::Person;
  std::string name;          // person: DICOM PN "Family^Given"; device: name
  std::string organization;
  std::string uid;           // device observer UID
  std::string manufacturer;
  std::string modelName;
  std::string serialNumber;
};

struct ProtocolRef {
  std::string id;
  std::string version;
};

struct AnnotationDocument {
  Observer observer;
  std::optional<ProtocolRef> protocol;
  std::string studyInstanceUid;  // optional in input; checked against the images when given
  std::vector<Finding> findings;
  std::vector<Classification> classifications;
  // Mask labels, in the segmentation input format (docs/segmentation.schema.json); checked
  // against the images and the protocol when the document is resolved, written as a SEG.
  std::optional<nlohmann::json> segmentation;
};

// Every problem found in one pass, each as "path: what is wrong".
class AnnotationError : public ProblemsError {
 public:
  explicit AnnotationError(std::vector<std::string> problems)
      : ProblemsError("invalid annotation document", std::move(problems)) {}
};

// Parses and checks the document's shape (types, counts, required fields). Image-dependent
// and protocol-dependent checks are in AnnotationValidator. Throws AnnotationError.
AnnotationDocument parseAnnotationDocument(const nlohmann::json& json);
AnnotationDocument parseAnnotationDocument(const std::string& text);
nlohmann::json toJson(const AnnotationDocument& doc);
nlohmann::json toJson(const Provenance& provenance);

}  // namespace annot
