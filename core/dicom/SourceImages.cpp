#include "dicom/SourceImages.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <stdexcept>

#include "dicom/DatasetAccess.h"
#include "dicom/PiecesInputStream.h"
#include "dicom/SopClasses.h"
#include "dicom/Uid.h"

namespace annot {
namespace {

std::optional<std::array<double, 2>> spacing(DcmItem& item, const DcmTagKey& tag) {
  Float64 r = 0, c = 0;
  if (item.findAndGetFloat64(tag, r, 0).good() && item.findAndGetFloat64(tag, c, 1).good() && r > 0 && c > 0) {
    return std::array<double, 2>{r, c};
  }
  return std::nullopt;
}

// Enhanced multi-frame objects keep Pixel Spacing in the Pixel Measures functional group.
std::optional<std::array<double, 2>> functionalGroupSpacing(DcmItem& ds) {
  for (const DcmTagKey& group : {DCM_SharedFunctionalGroupsSequence, DCM_PerFrameFunctionalGroupsSequence}) {
    DcmItem* fg = nullptr;
    if (ds.findAndGetSequenceItem(group, fg, 0).bad() || !fg) continue;
    DcmItem* measures = nullptr;
    if (fg->findAndGetSequenceItem(DCM_PixelMeasuresSequence, measures, 0).good() && measures) {
      if (auto s = spacing(*measures, DCM_PixelSpacing)) return s;
    }
  }
  return std::nullopt;
}

std::optional<std::array<double, 6>> orientationIn(DcmItem& item) {
  std::array<double, 6> o{};
  for (unsigned long i = 0; i < 6; ++i) {
    if (item.findAndGetFloat64(DCM_ImageOrientationPatient, o[i], i).bad()) return std::nullopt;
  }
  return o;
}

std::optional<std::array<double, 3>> positionIn(DcmItem& item) {
  std::array<double, 3> p{};
  for (unsigned long i = 0; i < 3; ++i) {
    if (item.findAndGetFloat64(DCM_ImagePositionPatient, p[i], i).bad()) return std::nullopt;
  }
  return p;
}

// Value of a functional group macro: per-frame item first, then the shared one.
DcmItem* functionalGroup(DcmItem& ds, unsigned long frame, const DcmTagKey& macro) {
  DcmItem* perFrame = nullptr;
  DcmItem* found = nullptr;
  if (ds.findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, perFrame, static_cast<int>(frame)).good() && perFrame &&
      perFrame->findAndGetSequenceItem(macro, found, 0).good() && found) {
    return found;
  }
  DcmItem* shared = nullptr;
  if (ds.findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good() && shared &&
      shared->findAndGetSequenceItem(macro, found, 0).good() && found) {
    return found;
  }
  return nullptr;
}

void readGeometry(DcmDataset& ds, SourceImage& img) {
  if (!img.multiFrame || !ds.tagExists(DCM_PerFrameFunctionalGroupsSequence)) {
    img.orientation = orientationIn(ds);
    if (auto p = positionIn(ds)) img.framePositions.assign(img.frames, *p);
    img.sliceThickness = getString(ds, DCM_SliceThickness);
    return;
  }
  if (DcmItem* o = functionalGroup(ds, 0, DCM_PlaneOrientationSequence)) img.orientation = orientationIn(*o);
  if (DcmItem* m = functionalGroup(ds, 0, DCM_PixelMeasuresSequence)) img.sliceThickness = getString(*m, DCM_SliceThickness);
  for (uint32_t f = 0; f < img.frames; ++f) {
    DcmItem* position = functionalGroup(ds, f, DCM_PlanePositionSequence);
    auto p = position ? positionIn(*position) : std::nullopt;
    if (!p) {
      img.framePositions.clear();
      return;
    }
    img.framePositions.push_back(*p);
  }
}

void collect(const std::string& path, std::vector<std::string>& files) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("image path '" + path + "' does not exist");
  if (!S_ISDIR(st.st_mode)) {
    files.push_back(path);
    return;
  }
  DIR* d = ::opendir(path.c_str());
  if (!d) throw std::runtime_error("cannot read folder '" + path + "'");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) collect(path + "/" + name, files);
}
}  // namespace

namespace {
// The image described by a parsed file; `path` names it in messages.
SourceImage sourceImageFrom(DcmFileFormat& file, const std::string& path) {
  DcmDataset& ds = *file.getDataset();
  SourceImage img;
  img.path = path;
  img.sopClassUid = getString(ds, DCM_SOPClassUID);
  img.sopInstanceUid = getString(ds, DCM_SOPInstanceUID);
  img.studyInstanceUid = getString(ds, DCM_StudyInstanceUID);
  img.seriesInstanceUid = getString(ds, DCM_SeriesInstanceUID);
  img.frameOfReferenceUid = getString(ds, DCM_FrameOfReferenceUID);
  img.modality = getString(ds, DCM_Modality);
  for (const auto& [uid, name] : {std::pair{img.sopInstanceUid, "SOP Instance UID"}, std::pair{img.studyInstanceUid, "Study Instance UID"},
                                  std::pair{img.seriesInstanceUid, "Series Instance UID"}}) {
    if (!isValidUid(uid)) throw std::runtime_error("'" + path + "' has no valid " + name);
  }
  Uint16 rows = 0, columns = 0;
  ds.findAndGetUint16(DCM_Rows, rows);
  ds.findAndGetUint16(DCM_Columns, columns);
  img.rows = rows;
  img.columns = columns;
  Sint32 frames = 0;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1) img.frames = static_cast<uint32_t>(frames);
  // Frames are referenced by number for a multi-frame class even when it holds one; a
  // single-frame class carrying Number of Frames = 1 is still referenced without one.
  img.multiFrame = isMultiFrameSopClass(img.sopClassUid) || img.frames > 1;
  if (auto s = spacing(ds, DCM_PixelSpacing)) {
    img.pixelSpacing = s;
    img.spacingSource = SourceImage::SpacingSource::PixelSpacing;
  } else if (auto fg = functionalGroupSpacing(ds)) {
    img.pixelSpacing = fg;
    img.spacingSource = SourceImage::SpacingSource::PixelSpacing;
  } else if (auto imager = spacing(ds, DCM_ImagerPixelSpacing)) {
    img.pixelSpacing = imager;
    img.spacingSource = SourceImage::SpacingSource::ImagerPixelSpacing;
  }
  readGeometry(ds, img);
  // Only the header is kept: pixel data is never needed to validate or reference an image.
  delete ds.remove(DCM_PixelData);
  img.header = std::shared_ptr<DcmDataset>(file.getAndRemoveDataset());
  return img;
}
}  // namespace

SourceImage readSourceImage(const std::string& path) {
  DcmFileFormat file;
  const OFCondition status = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kHeaderValuesOnly);
  if (status.bad()) throw std::runtime_error("'" + path + "' is not a readable DICOM file: " + status.text());
  return sourceImageFrom(file, path);
}

namespace {
void parsed(const OFCondition& status, const std::string& name) {
  if (status.bad()) throw std::runtime_error(name + " is not readable DICOM: " + status.text());
}
}  // namespace

void parsePart10(const std::string& bytes, const std::string& name, DcmFileFormat& file) {
  // Long values are first skipped, not allocated: DCMTK allocates a value's declared length
  // before reading it, so a length field claiming gigabytes in a small object would allocate
  // them (found by fuzzing). Skipping checks every length against the bytes there are; then
  // every value is read, so nothing points back into `bytes` once this returns.
  auto owned = std::make_shared<const std::string>(bytes);
  PiecesInputStream in(owned);
  parsed(readWholeObject(file, in, kHeaderValuesOnly), name);
  parsed(file.loadAllDataIntoMemory(), name);
}

void parsePart10(std::shared_ptr<const std::string> bytes, const std::string& name, DcmFileFormat& file,
                 uint32_t maxReadLength) {
  PiecesInputStream in(std::move(bytes));
  parsed(readWholeObject(file, in, maxReadLength), name);
}

SourceImage readSourceImageFromMemory(const std::string& bytes, const std::string& name) {
  DcmFileFormat file;
  parsePart10(bytes, name, file);
  return sourceImageFrom(file, name);
}

std::optional<std::string> resolveFrame(const SourceImage& img, uint32_t& frame) {
  if (!img.multiFrame) {
    if (frame > 1) return "frame " + std::to_string(frame) + " is out of range (single-frame image)";
    frame = 0;
    return std::nullopt;
  }
  if (frame == 0) {
    if (img.frames == 1) {
      frame = 1;
      return std::nullopt;
    }
    return "image " + img.sopInstanceUid + " is multi-frame (" + std::to_string(img.frames) + " frames): give a frame number";
  }
  if (frame > img.frames) {
    return "frame " + std::to_string(frame) + " is out of range (the image has " + std::to_string(img.frames) + " frame" +
           (img.frames == 1 ? "" : "s") + ")";
  }
  return std::nullopt;
}

std::optional<std::string> unlabelableReason(const SourceImage& img) {
  if (auto why = notAnImageReason(img.sopClassUid)) {
    return "image " + img.sopInstanceUid + " (" + sopClassName(img.sopClassUid) + ") cannot be labeled: " + *why;
  }
  if (img.rows == 0 || img.columns == 0) return "image " + img.sopInstanceUid + " has no pixel matrix (Rows/Columns) to annotate";
  return std::nullopt;
}

SourceImageSet SourceImageSet::load(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) collect(p, files);
  SourceImageSet set;
  for (const auto& f : files) set.add(readSourceImage(f));
  if (set.empty()) throw std::runtime_error("no images found in the given paths");
  return set;
}

void SourceImageSet::add(SourceImage image) {
  if (find(image.sopInstanceUid)) return;  // the same instance given twice
  bySopInstanceUid_[image.sopInstanceUid] = images_.size();
  images_.push_back(std::move(image));
}

const SourceImage* SourceImageSet::find(const std::string& sopInstanceUid) const {
  const auto it = bySopInstanceUid_.find(sopInstanceUid);
  return it == bySopInstanceUid_.end() ? nullptr : &images_[it->second];
}

}  // namespace annot
