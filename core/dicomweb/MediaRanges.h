#pragma once
// The Accept header of a DICOMweb request (RFC 9110 §12.5.1 with the PS3.18 §8.7.3 parameters):
// which media types a client takes, and for DICOM payloads in which transfer syntax.
#include <optional>
#include <string>
#include <vector>

namespace annot::dicomweb {

constexpr const char* kExplicitVrLittleEndian = "1.2.840.10008.1.2.1";

struct MediaRange {
  std::string type;                           // lower case: "multipart/related", "image/*", "*/*"
  std::string partType;                       // the "type" parameter of a multipart range, lower case
  std::optional<std::string> transferSyntax;  // the "transfer-syntax" parameter ("*" for any)
  double quality = 1.0;

  // Whether this range names `mediaType`: exactly, by its type with "/*", or as "*/*".
  bool admits(const std::string& mediaType) const;
  // Whether a multipart/related answer of `parts` fits this range: the range admits
  // multipart/related and either has no type parameter or names `parts`.
  bool admitsMultipartOf(const std::string& parts) const;
};

// The ranges of an Accept header, best first (by quality, then as written); ranges with q=0
// are left out. An empty header admits anything and reads as one "*/*".
std::vector<MediaRange> parseAccept(const std::string& header);

// The image media type PS3.18 (Table 8.7.3-5) gives frames compressed in `transferSyntaxUid`:
// image/jpeg, image/jls, image/jp2, image/jpx or image/dicom-rle; empty for other syntaxes.
std::string frameMediaTypeOf(const std::string& transferSyntaxUid);
// Whether `transferSyntaxUid` is what its image media type means when a range names no
// transfer-syntax (image/jpeg: baseline .4.50, image/jls: .4.80, image/jp2: .4.90, image/jpx:
// .4.92, image/dicom-rle: RLE).
bool isDefaultSyntaxOfItsMediaType(const std::string& transferSyntaxUid);

// Whether any range of `header` admits `mediaType` (parameters not weighed).
bool accepts(const std::string& header, const std::string& mediaType);

}  // namespace annot::dicomweb
