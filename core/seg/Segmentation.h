#pragma once
// The segmentation model: segments (what) and per-frame masks on source images (where). The
// JSON contract is docs/segmentation.schema.json.
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "annotation/AnnotationDocument.h"
#include "dicom/SourceImages.h"

namespace annot {

enum class SegmentAlgorithm { Manual, Semiautomatic, Automatic };
const char* segmentAlgorithmName(SegmentAlgorithm algorithm);
// The CID 7162 (Surface Processing Algorithm Families) entry for a code value and scheme, with
// its standard meaning; nullopt when the code is not in the group.
std::optional<Code> algorithmFamilyFor(const Code& code);

struct SegmentDescription {
  std::string label;
  std::string description;
  Code category;                    // CID 7150 Segmentation Property Categories
  Code type;                        // CID 7151 Segmentation Property Types
  std::optional<Code> anatomicRegion;
  SegmentAlgorithm algorithm = SegmentAlgorithm::Manual;
  std::string algorithmName;        // required unless MANUAL
  // Segmentation Algorithm Identification: family (CID 7162) and version go together.
  std::optional<Code> algorithmFamily;
  std::string algorithmVersion;
  std::array<uint8_t, 3> color{255, 0, 0};  // sRGB; stored as CIELab
  std::string trackingId;
  std::string trackingUid;
};

// One segment's mask on one source frame. Binary: Rows x Columns bits, packed LSB first,
// starting at bit 0. Fractional: one byte per pixel.
struct SegmentFrame {
  uint16_t segment = 0;  // 1-based, index into Segmentation::segments
  ImageRef image;
  std::vector<uint8_t> data;
};

struct Segmentation {
  std::vector<SegmentDescription> segments;
  bool fractional = false;
  std::string fractionalType = "PROBABILITY";  // or OCCUPANCY
  uint8_t maxFractionalValue = 255;
  uint32_t rows = 0, columns = 0;
  std::vector<SegmentFrame> frames;
  std::string contentLabel = "SEGMENTATION";
  std::string contentDescription;
  std::string contentCreator;
  std::string seriesDescription = "Segmentation";
  std::string seriesNumber = "9101";
};

class SegmentationError : public ProblemsError {
 public:
  explicit SegmentationError(std::vector<std::string> problems)
      : ProblemsError("invalid segmentation", std::move(problems)) {}
};

// Parses segment descriptions and masks (binary "runs" [[offset, length]...] or fractional
// "values" [[offset, length, value]...] per frame) against the source images they refer to.
// With `masksRequired` false, masks may come from elsewhere (a packed volume).
Segmentation parseSegmentation(const nlohmann::json& json, const SourceImageSet& images, bool masksRequired = true);

// The source frames of one series in slice order (ascending along the normal), the order a
// packed volume's frames follow.
std::vector<ImageRef> framesInSliceOrder(const SourceImageSet& images);

// Adds masks from a packed-bit volume: segment-major, then frames in slice order, each frame
// Rows x Columns bits, bit-contiguous, LSB first (the layout read-seg --volume writes).
void addVolumeMasks(Segmentation& seg, const SourceImageSet& images, const std::vector<uint8_t>& volume,
                    uint32_t columns, uint32_t rows, uint32_t frames);

nlohmann::json describe(const Segmentation& seg, bool withRuns);

}  // namespace annot
