// Orthanc's entry points: the only global state of the plugin. Each callback hands over to the
// PluginApp and turns every exception into an Orthanc error code, never letting one escape.
#include <orthanc/OrthancCPlugin.h>

#include <memory>

#include "PluginApp.h"
#include "common/Log.h"

namespace {
OrthancPluginContext* g_context = nullptr;
std::unique_ptr<annot::plugin::PluginApp> g_app;

OrthancPluginErrorCode serveRest(OrthancPluginRestOutput* output, const char* url, const OrthancPluginHttpRequest* request) {
  try {
    // Registered for "/annotation(/.*)": the first group is the path below the prefix.
    const std::string path = request->groupsCount > 0 ? request->groups[0] : "/";
    g_app->serve(path, request, output);
    return OrthancPluginErrorCode_Success;
  } catch (const std::exception& e) {
    LOG_ERROR("plugin", "request " << url << " failed: " << e.what());
    return OrthancPluginErrorCode_InternalError;
  }
}

OrthancPluginErrorCode onChange(OrthancPluginChangeType change, OrthancPluginResourceType, const char*) {
  // Orthanc runs every change callback on one thread: only hand over, never work here.
  try {
    switch (change) {
      case OrthancPluginChangeType_OrthancStarted: g_app->orthancStarted(); break;
      case OrthancPluginChangeType_OrthancStopped: g_app->orthancStopping(); break;
      case OrthancPluginChangeType_StableStudy:
      case OrthancPluginChangeType_NewInstance:
      case OrthancPluginChangeType_Deleted: g_app->changed(); break;
      default: break;
    }
  } catch (const std::exception& e) {
    LOG_ERROR("plugin", "change callback failed: " << e.what());
  }
  return OrthancPluginErrorCode_Success;
}

void sendLogToOrthanc(annot::LogLevel level, const std::string& line) {
  const std::string text = "annotation: " + line;
  if (level >= annot::LogLevel::Error) OrthancPluginLogError(g_context, text.c_str());
  else if (level >= annot::LogLevel::Warn) OrthancPluginLogWarning(g_context, text.c_str());
  else OrthancPluginLogInfo(g_context, text.c_str());
}
}  // namespace

extern "C" {

ORTHANC_PLUGINS_API int32_t OrthancPluginInitialize(OrthancPluginContext* context) {
  g_context = context;
  if (!OrthancPluginCheckVersion(context)) {
    OrthancPluginLogError(context, "annotation: this Orthanc is older than the SDK the plugin was built with (1.10.1)");
    return -1;
  }
  annot::Log::setSink(sendLogToOrthanc);
  try {
    char* text = OrthancPluginGetConfiguration(context);
    if (!text) throw std::runtime_error("cannot read Orthanc's configuration");
    const std::string configuration(text);
    OrthancPluginFreeString(context, text);
    const annot::PluginConfig config = annot::PluginConfig::fromOrthancConfiguration(configuration);
    annot::Log::setLevel(annot::Log::parseLevel(config.logLevel));
    if (!config.enabled) {
      LOG_WARN("plugin", "disabled by AnnotationNode.Enabled = false");
      return 0;
    }
    g_app = std::make_unique<annot::plugin::PluginApp>(context, config);
    OrthancPluginSetDescription(context, "Labeling worklists, review and DICOM SR/SEG results for studies in Orthanc.");
    OrthancPluginRegisterRestCallbackNoLock(context, "/annotation(/.*)", serveRest);
    OrthancPluginRegisterOnChangeCallback(context, onChange);
    const std::string& explorer = g_app->orthancExplorerExtension();
    if (!explorer.empty()) OrthancPluginExtendOrthancExplorer(context, explorer.c_str());
    return 0;
  } catch (const std::exception& e) {
    LOG_ERROR("plugin", "cannot start: " << e.what());
    g_app.reset();
    return -1;
  }
}

ORTHANC_PLUGINS_API void OrthancPluginFinalize() {
  g_app.reset();
  annot::Log::setSink(nullptr);
}

ORTHANC_PLUGINS_API const char* OrthancPluginGetName() { return "annotation-node"; }

ORTHANC_PLUGINS_API const char* OrthancPluginGetVersion() { return ANNOT_VERSION; }
}
