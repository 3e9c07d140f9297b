#include "RestBridge.h"

#include <algorithm>
#include <cctype>

namespace annot::plugin {

HttpRequest toHttpRequest(const std::string& path, const OrthancPluginHttpRequest* request) {
  HttpRequest r;
  switch (request->method) {
    case OrthancPluginHttpMethod_Get: r.method = "GET"; break;
    case OrthancPluginHttpMethod_Post: r.method = "POST"; break;
    case OrthancPluginHttpMethod_Put: r.method = "PUT"; break;
    case OrthancPluginHttpMethod_Delete: r.method = "DELETE"; break;
    default: r.method = "UNKNOWN";
  }
  r.path = path;
  // Orthanc (1.10) hands over query arguments as they came, still percent-encoded: decode them
  // as the node's parser does ('+' is a space in a query), so both deployments see the same.
  auto decoded = [](const char* text) {
    bool ok = true;
    std::string out = percentDecode(text, /*plusAsSpace=*/true, ok);
    return ok ? out : std::string(text);
  };
  for (uint32_t i = 0; i < request->getCount; ++i) r.query.emplace(decoded(request->getKeys[i]), decoded(request->getValues[i]));
  for (uint32_t i = 0; i < request->headersCount; ++i) {
    std::string name = request->headersKeys[i];
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.headers[name] = request->headersValues[i];
  }
  if (request->body && request->bodySize) r.body.assign(static_cast<const char*>(request->body), request->bodySize);
  return r;
}

void sendResponse(OrthancPluginContext* context, OrthancPluginRestOutput* output, const HttpResponse& response) {
  std::string allow, location;
  for (const auto& [name, value] : response.headers) {
    if (name == "Allow") allow = value;
    else if (name == "Location") location = value;
    else OrthancPluginSetHttpHeader(context, output, name.c_str(), value.c_str());
  }
  // The SDK has dedicated calls for 200 and 405; every other status carries its body through
  // SendHttpStatus (Orthanc's HttpDescribeErrors must stay on, its default). A 401 goes that way
  // too, with the product's Bearer challenge: the SDK's own call adds a Basic one, which makes
  // browsers ask for Orthanc credentials when a workstation session ends.
  if (response.status == 200) {
    OrthancPluginAnswerBuffer(context, output, response.body.data(), static_cast<uint32_t>(response.body.size()),
                              response.contentType.c_str());
  } else if (response.status == 405) {
    OrthancPluginSendMethodNotAllowed(context, output, allow.c_str());
  } else if (response.status >= 300 && response.status < 400 && !location.empty()) {
    // OrthancPluginRedirect answers 301, which browsers keep: a redirect that depends on the
    // session (the viewer's "sign in first") would then outlive the sign-in. Our status goes as is.
    OrthancPluginSetHttpHeader(context, output, "Location", location.c_str());
    OrthancPluginSendHttpStatusCode(context, output, static_cast<uint16_t>(response.status));
  } else if (response.status == 304) {
    OrthancPluginSendHttpStatusCode(context, output, 304);  // no body, as HTTP wants
  } else {
    // A created resource (201) names itself in Location as well.
    if (!location.empty()) OrthancPluginSetHttpHeader(context, output, "Location", location.c_str());
    OrthancPluginSetHttpHeader(context, output, "Content-Type", response.contentType.c_str());
    OrthancPluginSendHttpStatus(context, output, static_cast<uint16_t>(response.status), response.body.data(),
                                static_cast<uint32_t>(response.body.size()));
  }
}

}  // namespace annot::plugin
