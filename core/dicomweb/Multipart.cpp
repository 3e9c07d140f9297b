#include "dicomweb/Multipart.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <stdexcept>

namespace annot::dicomweb {
namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}
}  // namespace

std::string newBoundary(const std::vector<Part>& parts) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  for (;;) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "annot-%016llx", static_cast<unsigned long long>(random()));
    const std::string b = buf;
    if (std::none_of(parts.begin(), parts.end(), [&](const Part& p) { return p.body.find(b) != std::string::npos; })) return b;
  }
}

std::string buildMultipart(const std::vector<Part>& parts, const std::string& boundary) {
  size_t size = 0;
  for (const auto& p : parts) size += p.body.size() + 200;
  std::string out;
  out.reserve(size + 64);
  for (const auto& p : parts) {
    out += "--" + boundary + "\r\nContent-Type: " + p.contentType + "\r\n";
    if (!p.contentLocation.empty()) out += "Content-Location: " + p.contentLocation + "\r\n";
    out += "Content-Length: " + std::to_string(p.body.size()) + "\r\n\r\n";
    out += p.body;
    out += "\r\n";
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

std::string mediaType(const std::string& contentType) { return lower(trim(contentType.substr(0, contentType.find(';')))); }

std::string contentTypeParameter(const std::string& contentType, const std::string& name) {
  size_t pos = contentType.find(';');
  while (pos != std::string::npos) {
    const size_t next = contentType.find(';', pos + 1);
    const std::string item = contentType.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    const auto eq = item.find('=');
    if (eq != std::string::npos && lower(trim(item.substr(0, eq))) == lower(name)) {
      std::string value = trim(item.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      return value;
    }
    pos = next;
  }
  return "";
}

std::vector<Part> parseMultipart(const std::string& body, const std::string& boundary) {
  if (boundary.empty()) throw std::invalid_argument("the Content-Type has no boundary");
  const std::string delimiter = "--" + boundary;
  std::vector<Part> parts;
  size_t pos = body.find(delimiter);
  if (pos == std::string::npos) throw std::invalid_argument("the body does not contain its boundary");
  for (;;) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0) return parts;  // closing delimiter
    if (body.compare(pos, 2, "\r\n") != 0) throw std::invalid_argument("malformed multipart delimiter");
    pos += 2;
    const size_t headersEnd = body.find("\r\n\r\n", pos);
    if (headersEnd == std::string::npos) throw std::invalid_argument("a part has no end of headers");
    Part part;
    size_t line = pos;
    while (line < headersEnd) {
      const size_t eol = std::min(body.find("\r\n", line), headersEnd);
      const std::string header = body.substr(line, eol - line);
      const auto colon = header.find(':');
      if (colon != std::string::npos) {
        const std::string name = lower(trim(header.substr(0, colon)));
        if (name == "content-type") part.contentType = trim(header.substr(colon + 1));
        if (name == "content-location") part.contentLocation = trim(header.substr(colon + 1));
      }
      line = eol + 2;
    }
    const size_t start = headersEnd + 4;
    const size_t end = body.find("\r\n" + delimiter, start);
    if (end == std::string::npos) throw std::invalid_argument("a part is not terminated by the boundary");
    part.body = body.substr(start, end - start);
    parts.push_back(std::move(part));
    pos = end + 2;
  }
}

}  // namespace annot::dicomweb
