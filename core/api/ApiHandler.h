#pragma once
// The product's HTTP API, written once: the node serves it through Beast, the Orthanc plugin
// through its REST callbacks. Routes:
//   GET /healthz                       liveness and catalog reachability
//   GET /metrics                       Prometheus text format
//   GET /api/v1/studies                paged, filterable study list
//   GET /api/v1/studies/{StudyUID}     one study with its series and instances
#include <string>

#include "catalog/Catalog.h"
#include "http/HttpMessage.h"
#include "metrics/Metrics.h"

namespace annot {

struct ApiInfo {
  std::string product = "annotation-node";
  std::string version;
  std::string aeTitle;
};

class ApiHandler : public HttpHandler {
 public:
  ApiHandler(Catalog& catalog, Metrics& metrics, ApiInfo info);
  HttpResponse handle(const HttpRequest& request) override;

 private:
  HttpResponse route(const HttpRequest& request);
  HttpResponse health();
  HttpResponse metrics();
  HttpResponse listStudies(const HttpRequest& request);
  HttpResponse getStudy(const std::string& studyUid);

  Catalog& catalog_;
  Metrics& metrics_;
  ApiInfo info_;
};

}  // namespace annot
