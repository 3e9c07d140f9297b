#pragma once
// Checks an annotation document against the images it refers to and, when it names one, its
// labeling protocol; fills in what the protocol implies (finding codes of labels, default
// finding sites), computes derived measurements and tracking UIDs. Every problem is reported
// at once, each saying what to fix.
#include "annotation/AnnotationDocument.h"
#include "dicom/SourceImages.h"
#include "protocol/Protocol.h"

namespace annot {

// Returns the resolved document; throws AnnotationError listing every problem, including
// what the protocol requires and the document lacks.
AnnotationDocument resolveAnnotation(const AnnotationDocument& document, const SourceImageSet& images,
                                     const Protocol* protocol);

// A draft: everything present must be right (geometry, codes, masks), but what the protocol
// requires may still be missing. Throws AnnotationError for the former; lists the latter.
struct ResolvedDraft {
  AnnotationDocument document;
  std::vector<std::string> missing;  // "path: what is missing", as in AnnotationError's problems
};
ResolvedDraft resolveDraft(const AnnotationDocument& document, const SourceImageSet& images, const Protocol* protocol);

// Generates a fresh UID under the product's root.
std::string newUid();

}  // namespace annot
