#pragma once
// core's OrthancRest over the SDK: in-process calls to Orthanc's built-in REST API.
#include <orthanc/OrthancCPlugin.h>

#include "orthanc/OrthancRest.h"

namespace annot::plugin {

class SdkRest : public OrthancRest {
 public:
  explicit SdkRest(OrthancPluginContext* context) : context_(context) {}
  RestAnswer call(const std::string& method, const std::string& uri, const std::string& body = "") override;

 private:
  OrthancPluginContext* context_;
};

}  // namespace annot::plugin
