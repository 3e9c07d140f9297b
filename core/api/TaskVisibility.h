#pragma once
// Blinding, shared by the worklist's JSON routes and UPS-RS: an annotator sees open label tasks
// and their own, never another reader's work nor a review (which names the case's readers and
// how far they agree).
#include "auth/UserStore.h"
#include "worklist/Worklist.h"

namespace annot {

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
