#pragma once
// What the worklist's JSON routes and UPS-RS share: blinding (an annotator sees open label
// tasks and their own, never another reader's work nor a review, which names the case's readers
// and how far they agree) and the HTTP answer to a worklist refusal.
#include "auth/UserStore.h"
#include "http/HttpMessage.h"
#include "worklist/Worklist.h"

namespace annot {

// 404 / 409 / 403 / 422 by kind, the problems listed in the body, the reason in a Warning header
// too (PS3.18 11.x asks UPS-RS origin servers for one).
HttpResponse worklistError(const WorklistError& e);

inline bool mayView(const User& user, const Task& task) {
  if (user.role != Role::Annotator) return true;
  return task.step == "label" && (task.state == TaskState::Scheduled || task.assignee == user.name);
}

// Narrows a task search to what the caller may see.
inline void scopeToCaller(TaskQuery& query, const User& user) {
  if (user.role != Role::Annotator) return;
  query.assignee = user.name;
  query.unassignedOrAssignee = true;
  query.step = "label";
}

}  // namespace annot
