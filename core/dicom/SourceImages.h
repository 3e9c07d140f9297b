#pragma once
// The images an annotation or segmentation refers to, read from files (headers only). They
// provide geometry for validation and measurements, and the Patient/Study modules that every
// SR/SEG copies verbatim.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dicom/DatasetAccess.h"

class DcmDataset;
class DcmFileFormat;

namespace annot {

struct SourceImage {
  std::string path;
  std::string sopClassUid;
  std::string sopInstanceUid;
  std::string studyInstanceUid;
  std::string seriesInstanceUid;
  std::string frameOfReferenceUid;
  std::string modality;
  uint32_t rows = 0;
  uint32_t columns = 0;
  uint32_t frames = 1;
  bool multiFrame = false;  // a multi-frame SOP class (or more than one frame): frames are referenced by number
  // Spacing between row centres and between column centres in mm (PixelSpacing order).
  std::optional<std::array<double, 2>> pixelSpacing;
  enum class SpacingSource { PixelSpacing, ImagerPixelSpacing, None } spacingSource = SpacingSource::None;
  // Geometry for frames in patient space (SEG needs it): orientation of rows and columns,
  // the position of each frame's first pixel, slice thickness when known.
  std::optional<std::array<double, 6>> orientation;
  std::vector<std::array<double, 3>> framePositions;  // one per frame (1 for single-frame)
  std::string sliceThickness;
  std::shared_ptr<DcmDataset> header;  // everything but bulk data
};

class SourceImageSet {
 public:
  // Loads files, and folders recursively. Throws std::runtime_error naming a path that does not
  // exist, a file that is not DICOM, or an instance without the UIDs it needs.
  static SourceImageSet load(const std::vector<std::string>& paths);
  void add(SourceImage image);

  const SourceImage* find(const std::string& sopInstanceUid) const;
  const std::vector<SourceImage>& all() const { return images_; }
  bool empty() const { return images_.empty(); }

 private:
  std::vector<SourceImage> images_;
  std::unordered_map<std::string, size_t> bySopInstanceUid_;
};

// Checks a reference to frame `frame` of `image` (0: none given) and puts it in the form the
// SOP class takes: 0 for a single-frame class (frame 1 given is accepted), 1..N for a
// multi-frame class (none given is frame 1 when the image has one frame). Returns what is wrong
// with the reference, in words for the user, or nullopt.
std::optional<std::string> resolveFrame(const SourceImage& image, uint32_t& frame);

// Why `image` cannot carry labels (a dose grid, a waveform, no pixel matrix...), or nullopt.
std::optional<std::string> unlabelableReason(const SourceImage& image);

// Reads one image header. Throws std::runtime_error.
SourceImage readSourceImage(const std::string& path);
// The same from the bytes of a Part 10 file (as Orthanc hands them out); `name` is used in
// messages and as SourceImage::path.
SourceImage readSourceImageFromMemory(const std::string& bytes, const std::string& name);
// Parses the bytes of a Part 10 file into `file`; throws std::runtime_error naming `name`.
void parsePart10(const std::string& bytes, const std::string& name, DcmFileFormat& file);
// The same, leaving values longer than `maxReadLength` in `bytes` until used (kLoadAllValues:
// none, see dicom/DatasetAccess.h); `file` keeps the bytes alive for as long as it may read them.
void parsePart10(std::shared_ptr<const std::string> bytes, const std::string& name, DcmFileFormat& file,
                 uint32_t maxReadLength);

}  // namespace annot
