#include "http/StaticFiles.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/Digest.h"

namespace annot {
namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "app-5XK2QJ3D.js": esbuild's content hash, eight upper-case letters or digits after a dash.
bool hasContentHash(const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos || dot < 9 || name[dot - 9] != '-') return false;
  for (size_t i = dot - 8; i < dot; ++i) {
    const char c = name[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// Splits a relative path into safe segments; false for anything that could leave the root.
bool safeSegments(const std::string& path, std::vector<std::string>& out) {
  std::string segment;
  std::istringstream in(path);
  while (std::getline(in, segment, '/')) {
    if (segment.empty()) continue;
    if (segment[0] == '.' || segment.find('\\') != std::string::npos || segment.find('\0') != std::string::npos) return false;
    out.push_back(segment);
  }
  return true;
}
}  // namespace

std::string mediaTypeForFile(const std::string& name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},    {".wasm", "application/wasm"},            {".json", "application/json"},
      {".map", "application/json"},           {".svg", "image/svg+xml"},                {".png", "image/png"},
      {".ico", "image/x-icon"},               {".woff2", "font/woff2"},                 {".woff", "font/woff"},
      {".ttf", "font/ttf"},                   {".txt", "text/plain; charset=utf-8"},    {".gif", "image/gif"},
      {".jpg", "image/jpeg"},                 {".webmanifest", "application/manifest+json"}};
  for (const auto& [extension, type] : kTypes) {
    if (endsWith(name, extension)) return type;
  }
  return "application/octet-stream";
}

bool StaticFiles::servesIndex(const std::string& relativePath) const {
  std::vector<std::string> segments;
  if (!safeSegments(relativePath, segments)) return false;
  if (segments.empty() || (segments.size() == 1 && segments[0] == options_.indexFile)) return true;
  // Routes of the application have no extension; a missing "x.js" stays a 404.
  if (!options_.singlePageApplication || segments.back().find('.') != std::string::npos) return false;
  std::string path = options_.root;
  for (const auto& s : segments) path += "/" + s;
  struct stat st {};
  return ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode);
}

bool StaticFiles::load(const std::string& path, Cached& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  const int64_t mtimeNs = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  std::lock_guard<std::mutex> lock(mutex_);
  Cached& entry = cache_[path];
  if (entry.mtimeNs != mtimeNs || entry.size != st.st_size) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    entry.body = bytes.str();
    if (endsWith(path, ".html")) {
      for (const auto& [placeholder, value] : options_.htmlSubstitutions) {
        for (size_t at = entry.body.find(placeholder); at != std::string::npos; at = entry.body.find(placeholder, at + value.size())) {
          entry.body.replace(at, placeholder.size(), value);
        }
      }
    }
    entry.mtimeNs = mtimeNs;
    entry.size = st.st_size;
    entry.etag = "\"" + sha256Hex(entry.body).substr(0, 32) + "\"";
  }
  out = entry;
  return true;
}

HttpResponse StaticFiles::serve(const std::string& relativePath, const HttpRequest& request) {
  std::vector<std::string> segments;
  if (!safeSegments(relativePath, segments)) return errorResponse(404, "no file " + relativePath);
  if (options_.root.empty()) return errorResponse(503, "these pages are not installed: " + options_.missingHint);
  struct stat st {};
  if (::stat(options_.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return errorResponse(503, "these pages are not built (" + options_.root + " is missing): " + options_.missingHint);
  }
  const bool index = servesIndex(relativePath);
  std::string path = options_.root;
  for (const auto& s : segments) path += "/" + s;
  const std::string name = index ? options_.indexFile : segments.back();
  if (index) path = options_.root + "/" + options_.indexFile;
  Cached file;
  if (!load(path, file)) return errorResponse(404, "no file " + relativePath);

  HttpResponse r;
  r.contentType = mediaTypeForFile(name);
  r.headers.emplace_back("ETag", file.etag);
  r.headers.emplace_back("Cache-Control", hasContentHash(name) ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (endsWith(name, ".html")) {
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    if (!options_.contentSecurityPolicy.empty()) r.headers.emplace_back("Content-Security-Policy", options_.contentSecurityPolicy);
  }
  if (request.header("if-none-match") == file.etag) {
    r.status = 304;
    return r;
  }
  r.body = std::move(file.body);
  return r;
}

}  // namespace annot
