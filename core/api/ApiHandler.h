#pragma once
// The product's HTTP API, written once: the node serves it through Beast, the Orthanc plugin
// through its REST callbacks. /healthz and /metrics are open; every /api route needs a bearer
// token of a role allowed on it, and what it shows or changes is written to the audit trail.
//   GET  /healthz                       liveness and catalog reachability
//   GET  /metrics                       Prometheus text format
//   GET  /ui/...                        the labeling workstation's built files (open; data only signed in)
//   GET  /viewer/...                    the OHIF viewer, for a signed-in browser, on the same DICOMweb
//   POST /api/v1/session                {"name", "token"} -> a browser session cookie and its CSRF token
//   GET  /api/v1/session                who is signed in; DELETE signs out
//   GET  /api/v1/session/oidc/start|callback   hospital sign-in through an OpenID provider
//   GET  /api/v1/studies                paged, filterable study list          (any role)
//   GET  /api/v1/studies/{StudyUID}     one study with series and instances   (any role)
//   GET  /api/v1/users                  users                                 (admin)
//   POST /api/v1/users                  {"name", "role"} -> a first token     (admin)
//   PUT  /api/v1/users/{name}/identified-access  {"granted": bool}: a researcher sees identified data (admin)
//   PUT  /api/v1/users/{name}/disabled  {"disabled": bool}: end or restore a user's access (admin)
//   GET  /api/v1/users/{name}/tokens    the user's tokens: id, creation, last use, expiry (admin)
//   POST /api/v1/users/{name}/tokens    {"lifetimeDays"}: another token, shown once (admin)
//   DELETE /api/v1/users/{name}/tokens[/{id}]  revoke all of the user's tokens, or one (admin)
//   GET  /api/v1/routes                 this table: method, path pattern, roles (admin)
//   GET  /api/v1/audit                  the audit trail, ?verify=true checks its chain (admin)
//   GET  /api/v1/outbox                 results owed to each PACS: counts and items (admin)
//   GET  /api/v1/protocols              labeling protocols                    (any role)
//   GET  /api/v1/tasks                  worklist, filterable and paged        (annotator, reviewer, admin)
//   POST /api/v1/tasks                  schedule a protocol for a study       (reviewer, admin)
//   GET  /api/v1/tasks/{id}             one task with its revisions
//   POST /api/v1/tasks/{id}/claim|release|submit
//   PUT  /api/v1/tasks/{id}/annotation  save a revision; GET it (?revision=N)
//   POST /api/v1/tasks/{id}/review      {"decision": approve|reject, "comment", "task"}
//   GET  /api/v1/reports/agreement|balance?protocol=ID   (reviewer, admin, researcher)
//   /dicomweb/...                       QIDO-RS, WADO-RS, STOW-RS (DicomwebRoutes.cpp)
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit/AuditLog.h"
#include "auth/AccessAdministration.h"
#include "auth/LdapDirectory.h"
#include "auth/OpenIdConnect.h"
#include "auth/SignInThrottle.h"
#include "auth/SessionStore.h"
#include "auth/UserStore.h"
#include "catalog/StudyIndex.h"
#include "http/HttpMessage.h"
#include "http/StaticFiles.h"
#include "metrics/Metrics.h"
#include "outbox/Outbox.h"
#include "worklist/Worklist.h"

namespace annot {

struct ApiInfo {
  std::string product = "annotation-node";
  std::string version;
  std::string aeTitle;
  std::string routePrefix;  // where the routes are mounted ("" for the node, "/annotation" in Orthanc)
};

// What the browser side needs: where the workstation's built files are and how sessions behave.
struct BrowserSettings {
  std::string workstationDirectory;  // empty: /ui answers 503 saying how to build it
  std::string viewerDirectory;       // the OHIF viewer's files (served at /viewer); empty: none
  SessionSettings sessions;
  ThrottleSettings throttle;
  LdapSettings ldap;  // hospital sign-in with a password; off unless configured
  OidcSettings oidc;  // hospital sign-in through an OpenID provider; off unless configured
  bool secureCookies = false;  // the page is served over HTTPS: cookies get the Secure attribute
};

namespace dicomweb {
class DicomwebService;
}

class ApiHandler : public HttpHandler {
 public:
  ApiHandler(StudyIndex& catalog, Metrics& metrics, UserStore& users, AuditLog& audit, Worklist& worklist, ApiInfo info,
             BrowserSettings browser = {});
  HttpResponse handle(const HttpRequest& request) override;
  // Where tasks' outputs report their export state (optional).
  void setOutbox(Outbox* outbox) { outbox_ = outbox; }
  // Serves /dicomweb (QIDO-RS, WADO-RS, STOW-RS) when set.
  void setDicomweb(dicomweb::DicomwebService* service) { dicomweb_ = service; }
  // What /healthz waits for besides the catalog and the state database: nullopt when ready,
  // otherwise why not yet (answered 503, so a balancer or a script waits).
  void setReadiness(std::function<std::optional<std::string>()> notReadyBecause) { notReadyBecause_ = std::move(notReadyBecause); }

  // What a route handler sees: the request, the path parameters ({} segments) and the caller.
  struct Call {
    const HttpRequest& request;
    std::vector<std::string> params;
    std::optional<User> user;  // empty on open routes
    std::optional<Session> session;  // set when the caller came with a browser session
    // When credentials were sent but did not authenticate: what to tell the caller, whether
    // they look like a guess (counted towards a lockout), and whose they were when known.
    std::string denial;
    bool guessed = false;
    std::string deniedUser;
  };

  // The routes, for the access checks the tests generate from them and GET /api/v1/routes.
  struct RouteInfo {
    std::string method;
    std::string pattern;
    std::set<Role> roles;  // empty: open
  };
  std::vector<RouteInfo> routeTable() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;  // "/api/v1/studies/{}": {} matches one path segment; a final "*" the rest of the path
    std::set<Role> roles;  // empty: open to all, no token needed
    std::function<HttpResponse(const Call&)> handler;
  };

  HttpResponse route(const HttpRequest& request);
  // The caller, from a token header (scripts, DICOMweb clients) or a session cookie (browsers).
  void authenticate(Call& call);
  HttpResponse signIn(const Call& call);
  HttpResponse signInWithDirectory(const Call& call, const std::string& name, const std::string& password);
  HttpResponse openSession(const Call& signedIn, int64_t tokenId);
  HttpResponse startOidc(const Call& call);
  HttpResponse finishOidc(const Call& call);
  // What the sign-in page offers: "token", and "password" when a directory is configured.
  nlohmann::json signInMethods() const;
  HttpResponse currentSession(const Call& call);
  HttpResponse signOut(const Call& call);
  std::string sessionCookie(const std::string& value, bool expire) const;
  // `study`: the study (or studies, comma-separated) the object belongs to, when the object is
  // not itself a study or a task (an instance, a series, a search's matches).
  void audit(const Call& call, const std::string& action, const std::string& objectType, const std::string& objectId,
             const std::string& outcome = "success", const std::string& detail = "", const std::string& study = "");
  HttpResponse health();
  HttpResponse metrics();
  HttpResponse listStudies(const Call& call);
  HttpResponse getStudy(const Call& call);
  HttpResponse listUsers(const Call& call);
  HttpResponse createUser(const Call& call);
  HttpResponse grantIdentifiedAccess(const Call& call);
  // User administration (UserRoutes.cpp).
  void addUserRoutes();
  HttpResponse setDisabled(const Call& call);
  HttpResponse listTokens(const Call& call);
  HttpResponse issueToken(const Call& call);
  HttpResponse revokeTokens(const Call& call);
  HttpResponse listRoutes(const Call& call);
  Actor actorOf(const Call& call) const;
  // 429 when the caller's address (or, signing in, the named user) is locked out.
  std::optional<HttpResponse> lockedOut(const Call& call, const std::string& userName);
  // Counts a failed guess; audits the lockout it starts.
  void countFailure(const Call& call, const std::string& userName);
  HttpResponse queryAudit(const Call& call);
  HttpResponse listOutbox(const Call& call);
  // Worklist routes (WorklistRoutes.cpp).
  void addWorklistRoutes();
  HttpResponse listProtocols(const Call& call);
  HttpResponse listTasks(const Call& call);
  HttpResponse scheduleTasks(const Call& call);
  HttpResponse getTask(const Call& call);
  HttpResponse taskAction(const Call& call, const std::string& action);
  HttpResponse saveAnnotation(const Call& call);
  HttpResponse getAnnotation(const Call& call);
  HttpResponse reviewTask(const Call& call);
  HttpResponse report(const Call& call, const std::string& which);
  // DICOMweb routes (DicomwebRoutes.cpp).
  void addDicomwebRoutes();
  HttpResponse withdrawResults(const Call& call);
  HttpResponse importPrelabel(const Call& call);
  HttpResponse listPrelabels(const Call& call);
  HttpResponse taskPrelabel(const Call& call);
  // UPS-RS (UpsRoutes.cpp): the worklist as workitems.
  void addUpsRoutes();
  nlohmann::json workitemOf(const Task& task, const HttpRequest& request);
  std::optional<Task> workitemTask(const Call& call);
  HttpResponse searchWorkitems(const Call& call);
  HttpResponse retrieveWorkitem(const Call& call);
  HttpResponse changeWorkitemState(const Call& call);
  HttpResponse requestWorkitemCancel(const Call& call);
  HttpResponse createWorkitem(const Call& call);
  std::string dicomwebBase(const HttpRequest& request) const;
  HttpResponse dicomwebCall(const Call& call, const std::function<HttpResponse()>& work);
  HttpResponse retrieveDicomweb(const Call& call, int depth, bool metadata);
  HttpResponse retrieveFrames(const Call& call, bool bulk);
  HttpResponse stow(const Call& call);
  HttpResponse rendered(const Call& call, unsigned frame);
  nlohmann::json attachStoredReports(const Call& call, const std::vector<std::string>& storedSops);

  StudyIndex& catalog_;
  Metrics& metrics_;
  UserStore& users_;
  AuditLog& audit_;
  Worklist& worklist_;
  Outbox* outbox_ = nullptr;
  std::function<std::optional<std::string>()> notReadyBecause_;
  dicomweb::DicomwebService* dicomweb_ = nullptr;
  ApiInfo info_;
  const bool secureCookies_;
  SessionStore sessions_;
  SignInThrottle throttle_;
  AccessAdministration access_;
  LdapDirectory ldap_;
  OpenIdConnect oidc_;
  StaticFiles workstation_;
  StaticFiles viewer_;
  HttpResponse viewer(const Call& call, const std::string& relativePath);
  bool viewerInstalled() const;
  std::vector<Route> routes_;
};

}  // namespace annot
