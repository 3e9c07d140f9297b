#pragma once
// core's OrthancRest over the SDK: in-process calls to Orthanc's REST API.
#include <orthanc/OrthancCPlugin.h>

#include "orthanc/OrthancRest.h"

namespace annot::plugin {

class SdkRest : public OrthancRest {
 public:
  explicit SdkRest(OrthancPluginContext* context) : context_(context) {}
  RestAnswer call(const std::string& method, const std::string& uri, const std::string& body = "") override {
    return send(method, uri, body, false);
  }
  RestAnswer callWithPlugins(const std::string& method, const std::string& uri) override { return send(method, uri, "", true); }

 private:
  RestAnswer send(const std::string& method, const std::string& uri, const std::string& body, bool afterPlugins);
  OrthancPluginContext* context_;
};

}  // namespace annot::plugin
