#pragma once
// What an audit entry's object is, as studies and patients: a study named directly (or several,
// comma-separated, as a search shows them), a task's study, or the study of a result the node
// wrote. Looked up in the deployment's study index and worklist; recent studies are cached.
#include "audit/AtnaForwarder.h"
#include "catalog/StudyIndex.h"
#include "worklist/Worklist.h"

namespace annot {

AtnaStudyLookup atnaStudyLookup(StudyIndex& index, Worklist& worklist);

}  // namespace annot
