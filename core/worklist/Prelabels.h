#pragma once
// AI pre-labels: a TID 1500 SR or a DICOM Segmentation written elsewhere (a model run outside
// the product) taken as the starting draft of a study's readers. The algorithm is named from the
// object itself (the SR's device observer, TID 1004, or its groups' TID 4019; the SEG's Segment
// Algorithm Name and Identification) or by the importer. Every revision a reader saves is
// compared with the pre-labels, so each item of the results says whether it is the
// algorithm's as made, the algorithm's changed by the reader, or the reader's own.
//
// Pure functions: reading, drafting and comparing. The worklist stores pre-labels and calls them.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "annotation/AnnotationDocument.h"
#include "dicom/SourceImages.h"
#include "protocol/Protocol.h"

class DcmDataset;

namespace annot {

struct AlgorithmIdentity {
  std::string name;
  std::string version;
  std::string uid;  // device observer UID, when the SR names one
  std::string manufacturer;
  std::string modelName;
};
nlohmann::json toJson(const AlgorithmIdentity& algorithm);

struct Prelabel {
  int64_t id = 0;
  std::string studyInstanceUid;
  std::string sopInstanceUid;  // of the imported SR or SEG
  std::string kind;            // SR | SEG
  AlgorithmIdentity algorithm;
  // An annotation document: an SR's findings and classifications, or a SEG's segments and masks
  // (binary, in the segmentation input format), every item marked with its provenance.
  nlohmann::json document;
  std::vector<std::string> unmapped;  // what the object holds that the model cannot carry
  std::string importedBy;
  int64_t importedMs = 0;
};
nlohmann::json toJson(const Prelabel& prelabel, bool withDocument);

// The object cannot be a pre-label (wrong SOP class, no algorithm named, unreadable content).
class PrelabelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads an SR (Enhanced, Comprehensive, Comprehensive 3D) or a SEG into a pre-label.
// `given` names the algorithm when the object does not (a person observer, no version); what it
// gives takes precedence. Throws PrelabelError.
Prelabel readPrelabel(DcmDataset& dataset, const AlgorithmIdentity& given);

// The draft a task's reader starts from: the findings and classifications of the study's SR
// pre-labels and the masks of its newest SEG pre-label, limited to the task's images and mapped
// to the protocol's labels. What cannot be offered is said in `notes`.
struct PrelabelDraft {
  AnnotationDocument document;
  std::vector<std::string> notes;
};
PrelabelDraft draftFromPrelabels(const std::vector<Prelabel>& prelabels, const Protocol& protocol, const SourceImageSet& images);

// Sets the provenance of every item of a resolved document by comparison with the pre-labels
// (what the client sent is replaced): a finding with a pre-label's Tracking UID is the
// algorithm's while its finding code and region are unchanged (the reader may add evaluations,
// measurements and comments, which are theirs), else the algorithm's edited by the reader; a
// classification answering a pre-label's question with its answer is the algorithm's, with
// another answer edited; a segment of a pre-label's segment type is AUTOMATIC while its mask is
// the algorithm's pixel for pixel, else SEMIAUTOMATIC, both with the algorithm's name.
void markProvenance(AnnotationDocument& document, const std::vector<Prelabel>& prelabels, const SourceImageSet& images);

// What the reader did with the algorithm's items in a saved document: kept, edited, removed,
// added (their own).
// With a protocol, only what it offered the reader counts as removed.
nlohmann::json provenanceSummary(const AnnotationDocument& document, const std::vector<Prelabel>& prelabels,
                                 const SourceImageSet& images, const Protocol* protocol = nullptr);

}  // namespace annot
