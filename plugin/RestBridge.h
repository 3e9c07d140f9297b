#pragma once
// Translates between Orthanc's REST callback and core's transport-neutral HTTP types, so the
// plugin serves exactly the routes the node serves, under a prefix.
#include <orthanc/OrthancCPlugin.h>

#include <string>

#include "http/HttpMessage.h"

namespace annot::plugin {

// `path` is the part of the URI below the plugin's prefix ("/api/v1/tasks").
HttpRequest toHttpRequest(const std::string& path, const OrthancPluginHttpRequest* request);
void sendResponse(OrthancPluginContext* context, OrthancPluginRestOutput* output, const HttpResponse& response);

}  // namespace annot::plugin
