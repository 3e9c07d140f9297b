#include "dicomweb/MediaRanges.h"

#include <algorithm>
#include <cstdlib>

#include "dicomweb/Multipart.h"

namespace annot::dicomweb {

bool MediaRange::admits(const std::string& mediaType) const {
  if (type == "*/*" || type == mediaType) return true;
  const auto slash = type.find('/');
  if (slash == std::string::npos) return false;
  return type.compare(slash, std::string::npos, "/*") == 0 && mediaType.compare(0, slash + 1, type, 0, slash + 1) == 0;
}

bool MediaRange::admitsMultipartOf(const std::string& parts) const {
  return admits("multipart/related") && (partType.empty() || partType == parts);
}

namespace {
// PS3.18 Table 8.7.3-5: the image media types of compressed frames, each type's default
// transfer syntax (what it means without a transfer-syntax parameter) listed first.
struct FrameType {
  const char* syntax;
  const char* mediaType;
  bool isDefault;
};
constexpr FrameType kFrameTypes[] = {
    {"1.2.840.10008.1.2.4.50", "image/jpeg", true},  {"1.2.840.10008.1.2.4.51", "image/jpeg", false},
    {"1.2.840.10008.1.2.4.57", "image/jpeg", false}, {"1.2.840.10008.1.2.4.70", "image/jpeg", false},
    {"1.2.840.10008.1.2.4.80", "image/jls", true},   {"1.2.840.10008.1.2.4.81", "image/jls", false},
    {"1.2.840.10008.1.2.4.90", "image/jp2", true},   {"1.2.840.10008.1.2.4.91", "image/jp2", false},
    {"1.2.840.10008.1.2.4.92", "image/jpx", true},   {"1.2.840.10008.1.2.4.93", "image/jpx", false},
    {"1.2.840.10008.1.2.5", "image/dicom-rle", true}};

const FrameType* frameTypeOf(const std::string& uid) {
  for (const auto& t : kFrameTypes) {
    if (uid == t.syntax) return &t;
  }
  return nullptr;
}
}  // namespace

std::string frameMediaTypeOf(const std::string& uid) {
  const FrameType* t = frameTypeOf(uid);
  return t ? t->mediaType : "";
}

bool isDefaultSyntaxOfItsMediaType(const std::string& uid) {
  const FrameType* t = frameTypeOf(uid);
  return t && t->isDefault;
}

std::vector<MediaRange> parseAccept(const std::string& header) {
  std::vector<MediaRange> ranges;
  if (header.find_first_not_of(" \t") == std::string::npos) {
    ranges.push_back({"*/*", "", std::nullopt, 1.0});
    return ranges;
  }
  size_t start = 0;
  while (start <= header.size()) {
    // Commas do not occur inside the parameters DICOMweb uses (type, transfer-syntax, q).
    const size_t end = std::min(header.find(',', start), header.size());
    const std::string text = header.substr(start, end - start);
    start = end + 1;
    MediaRange range;
    range.type = mediaType(text);
    if (range.type.empty()) continue;
    range.partType = mediaType(contentTypeParameter(text, "type"));
    const std::string syntax = contentTypeParameter(text, "transfer-syntax");
    if (!syntax.empty()) range.transferSyntax = syntax;
    const std::string q = contentTypeParameter(text, "q");
    if (!q.empty()) range.quality = std::strtod(q.c_str(), nullptr);
    if (range.quality > 0) ranges.push_back(std::move(range));
  }
  std::stable_sort(ranges.begin(), ranges.end(), [](const MediaRange& a, const MediaRange& b) { return a.quality > b.quality; });
  return ranges;
}

bool accepts(const std::string& header, const std::string& mediaType) {
  const auto ranges = parseAccept(header);
  return std::any_of(ranges.begin(), ranges.end(), [&](const MediaRange& r) { return r.admits(mediaType); });
}

}  // namespace annot::dicomweb
