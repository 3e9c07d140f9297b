#pragma once
// Serves one folder of built browser files (the labeling workstation, the OHIF viewer) through
// the transport-neutral handler, so the node and the plugin serve the same bytes. Nothing
// outside the folder is reachable. Files whose names carry a content hash (esbuild's
// "name-HASH.ext") are cached by browsers for a year; the others are revalidated with an ETag
// on every load, so a rebuilt workstation is picked up at once.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "http/HttpMessage.h"

namespace annot {

struct StaticFilesOptions {
  std::string root;                   // the folder; empty: nothing is served (503 naming `missingHint`)
  std::string indexFile = "index.html";
  std::string contentSecurityPolicy;  // sent with HTML documents
  std::string missingHint;            // what to do when the folder is absent ("run scripts/build.sh")
  // A single-page application: a path that names no file (a route of the application, such as
  // OHIF's "viewer?StudyInstanceUIDs=…") gets the index document.
  bool singlePageApplication = false;
  // Placeholders in HTML documents and their values (where the application is mounted).
  std::vector<std::pair<std::string, std::string>> htmlSubstitutions;
};

class StaticFiles {
 public:
  explicit StaticFiles(StaticFilesOptions options) : options_(std::move(options)) {}
  // `relativePath` is the decoded path below the mount point ("" or "/" for the index).
  HttpResponse serve(const std::string& relativePath, const HttpRequest& request);
  // Whether serve() answers this path with the index document (for callers that guard it).
  bool servesIndex(const std::string& relativePath) const;
  const std::string& root() const { return options_.root; }

 private:
  struct Cached {
    int64_t mtimeNs = 0;
    int64_t size = -1;
    std::string body;
    std::string etag;
  };
  // The file's bytes, read again when it changed on disk; false when it is not a regular file.
  bool load(const std::string& path, Cached& out);

  const StaticFilesOptions options_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;
};

// The media type for a file name's extension (application/octet-stream when unknown).
std::string mediaTypeForFile(const std::string& name);

}  // namespace annot
