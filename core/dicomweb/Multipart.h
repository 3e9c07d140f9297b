#pragma once
// multipart/related bodies (RFC 2387) as DICOMweb uses them: WADO-RS answers and STOW-RS requests.
#include <string>
#include <vector>

namespace annot::dicomweb {

struct Part {
  std::string contentType;
  std::string contentLocation;
  std::string body;
};

// A fresh boundary that does not occur in any of the parts.
std::string newBoundary(const std::vector<Part>& parts);
std::string buildMultipart(const std::vector<Part>& parts, const std::string& boundary);

// A parameter of a Content-Type header ("boundary", "type"), unquoted; "" when absent.
std::string contentTypeParameter(const std::string& contentType, const std::string& name);
// The media type of a Content-Type header, lower case, without parameters.
std::string mediaType(const std::string& contentType);

// Splits a body; throws std::invalid_argument when it is not multipart with that boundary.
std::vector<Part> parseMultipart(const std::string& body, const std::string& boundary);

}  // namespace annot::dicomweb
