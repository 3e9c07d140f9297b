#pragma once
// Agreement between independent readers: overlap of regions (IoU, and Dice), distance between
// points, chance-corrected agreement of classifications (Cohen's kappa for two readers,
// Fleiss' kappa for more). Pure functions over annotation documents.
#include <optional>
#include <string>
#include <vector>

#include "annotation/AnnotationDocument.h"
#include "dicom/SourceImages.h"

namespace annot {

// Overlap of two closed regions (bbox, polygon, ellipse, circle) on the same image frame,
// measured on the pixel grid they cover; nothing when the regions are not comparable.
std::optional<double> regionIoU(const Geometry& a, const Geometry& b);
double diceFromIoU(double iou);

// Cohen's kappa for two raters: ratings[i] = {rater A's category, rater B's category}.
std::optional<double> cohensKappa(const std::vector<std::pair<std::string, std::string>>& ratings);
// Fleiss' kappa: one vector of categories per subject, same number of raters for each.
std::optional<double> fleissKappa(const std::vector<std::vector<std::string>>& subjects);

struct CaseAgreement {
  std::vector<double> maskDice;         // per segment type and source frame both readers masked
  std::vector<double> maskIoU;
  std::vector<double> regionIoUs;       // best match per finding of the first reader
  std::vector<double> pointDistances;   // in pixels
  size_t unmatchedFindings = 0;         // findings with no counterpart of the same code and image
};

// Pairs every finding of each reader with the best-overlapping finding of the same code on the
// same image in each other reader's document; compares masks of the same segment type on the
// same frame (needs the images the masks are sized by).
CaseAgreement compareReaders(const std::vector<AnnotationDocument>& readers, const SourceImageSet* images = nullptr);

}  // namespace annot
