#include "SdkRest.h"

#include <stdexcept>

namespace annot::plugin {
namespace {
// Owns an SDK memory buffer: freed on every path.
class Buffer {
 public:
  explicit Buffer(OrthancPluginContext* context) : context_(context) {}
  ~Buffer() {
    if (buffer_.data) OrthancPluginFreeMemoryBuffer(context_, &buffer_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  OrthancPluginMemoryBuffer* get() { return &buffer_; }
  std::string str() const { return buffer_.data ? std::string(static_cast<const char*>(buffer_.data), buffer_.size) : std::string(); }

 private:
  OrthancPluginContext* context_;
  OrthancPluginMemoryBuffer buffer_{nullptr, 0};
};

OrthancPluginHttpMethod methodOf(const std::string& method) {
  if (method == "GET") return OrthancPluginHttpMethod_Get;
  if (method == "POST") return OrthancPluginHttpMethod_Post;
  if (method == "PUT") return OrthancPluginHttpMethod_Put;
  if (method == "DELETE") return OrthancPluginHttpMethod_Delete;
  throw std::invalid_argument("unsupported method " + method);
}
}  // namespace

RestAnswer SdkRest::send(const std::string& method, const std::string& uri, const std::string& body, bool afterPlugins) {
  if (body.size() > UINT32_MAX) throw std::length_error("body too large for the Orthanc SDK (4 GiB)");
  Buffer answer(context_);
  uint16_t status = 0;
  // afterPlugins = 0 (call): Orthanc's built-in API, never another plugin's (or our own) routes.
  const OrthancPluginErrorCode code =
      OrthancPluginCallRestApi(context_, answer.get(), nullptr, &status, methodOf(method), uri.c_str(), 0, nullptr, nullptr,
                               body.data(), static_cast<uint32_t>(body.size()), afterPlugins ? 1 : 0);
  if (code != OrthancPluginErrorCode_Success && status == 0) {
    throw OrthancError("Orthanc " + method + " " + uri + " failed: " + OrthancPluginGetErrorDescription(context_, code), 0);
  }
  return {status, answer.str()};
}

}  // namespace annot::plugin
