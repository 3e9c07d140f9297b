#pragma once
// Labeling protocols: which studies they apply to, which labels readers may use (codes,
// geometries, required evaluations and measurements), how many readers and whether a reviewer
// signs off. Loaded from JSON files in sr-templates/protocols (schema in
// docs/protocol.schema.json) and checked when loaded.
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "annotation/AnnotationDocument.h"
#include "annotation/Code.h"

namespace annot {

struct EvaluationRule {
  Code concept;
  bool required = false;
  std::vector<Code> values;  // allowed coded values; empty with allowText means free text
  bool allowText = false;
};

struct MeasurementRule {
  Code concept;
  Code unit;
  bool required = false;
};

struct LabelRule {
  std::string key;
  Code finding;
  std::optional<Code> findingSite;       // default site, used when the reader gives none
  std::vector<Code> allowedSites;        // empty: any site
  std::vector<GeometryType> geometries;  // allowed geometry types
  bool segmentation = false;             // may also be labelled with a mask (SEG)
  // The mask's segment: its CID 7150 category (default: Morphologically Abnormal Structure)
  // and display colour (sRGB; default: from the workstation's palette).
  std::optional<Code> segmentCategory;
  std::optional<std::array<int, 3>> color;
  std::vector<EvaluationRule> evaluations;
  std::vector<MeasurementRule> measurements;
};

struct ClassificationRule {
  std::string key;
  Code concept;
  std::vector<Code> values;
  bool required = false;
  bool imageLevel = false;  // per image rather than per study
};

struct StudyFacts {
  std::vector<std::string> modalities;
  std::vector<std::string> bodyParts;
  std::vector<std::string> sopClasses;
  std::string description;
  // For cohort reports.
  std::string patientSex;
  std::string patientAge;  // DICOM AS, e.g. 055Y
  std::vector<std::string> manufacturers;
  std::vector<std::string> seriesInstanceUids;
};

struct Protocol {
  std::string id;
  std::string version;
  std::string title;
  std::string description;
  std::string sourceFile;
  // Applicability: every non-empty criterion must match.
  std::vector<std::string> modalities;
  std::vector<std::string> bodyParts;
  std::vector<std::string> sopClasses;
  std::string descriptionPattern;  // ECMAScript regex, case-insensitive
  Code procedure;                  // "Procedure reported" in the SR
  unsigned readers = 1;
  bool review = false;
  std::vector<LabelRule> labels;
  std::vector<ClassificationRule> classifications;

  bool appliesTo(const StudyFacts& study) const;
  const LabelRule* label(const std::string& key) const;
  const LabelRule* labelForFinding(const Code& finding) const;
  const ClassificationRule* classification(const std::string& key) const;
  const ClassificationRule* classificationForConcept(const Code& concept) const;
};

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses one protocol; problems are reported together, prefixed with `source`.
Protocol parseProtocol(const nlohmann::json& json, const std::string& source);

class ProtocolSet {
 public:
  // Loads every *.json file of a folder. Throws ProtocolError listing every problem found.
  static ProtocolSet loadDirectory(const std::string& dir);
  void add(Protocol protocol);
  // Exact version when given, else the newest loaded version of that id.
  const Protocol* find(const std::string& id, const std::string& version = "") const;
  std::vector<const Protocol*> matching(const StudyFacts& study) const;
  const std::vector<Protocol>& all() const { return protocols_; }

 private:
  std::vector<Protocol> protocols_;
};

nlohmann::json toJson(const Protocol& protocol);

}  // namespace annot
