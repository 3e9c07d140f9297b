#include "audit/AtnaStudies.h"

#include <memory>
#include <set>

#include "common/LruCache.h"
#include "common/TextLists.h"

namespace annot {

AtnaStudyLookup atnaStudyLookup(StudyIndex& index, Worklist& worklist) {
  auto cache = std::make_shared<LruCache<std::string, AtnaStudy>>(1000);
  return [&index, &worklist, cache](const AuditEvent& e) {
    std::vector<std::string> uids;
    if (!e.study.empty()) {
      uids = splitList(e.study);
    } else if (e.objectType == "study") {
      uids = splitList(e.objectId);
    } else if (e.objectType == "task" && !e.objectId.empty() && e.objectId.find_first_not_of("0123456789") == std::string::npos) {
      try {
        uids.push_back(worklist.get(std::stoll(e.objectId)).studyInstanceUid);
      } catch (const WorklistError&) {
        // No such task (a refused request named one): nothing to name.
      }
    } else if (e.objectType == "instance") {
      std::set<std::string> studies;
      for (const auto& sop : splitList(e.objectId)) {
        if (auto study = worklist.studyOfOutput(sop)) studies.insert(*study);
      }
      uids.assign(studies.begin(), studies.end());
    }
    std::vector<AtnaStudy> out;
    for (const auto& uid : uids) {
      if (out.size() == kAtnaMaxStudies) break;
      if (auto hit = cache->get(uid)) {
        out.push_back(*hit);
        continue;
      }
      AtnaStudy s;
      s.uid = uid;
      if (const auto found = index.getStudy(uid)) {
        s.description = found->summary.study.description;
        s.accessionNumber = found->summary.study.accessionNumber;
        s.patientId = found->summary.patient.patientId;
        s.patientName = found->summary.patient.patientName;
        cache->put(uid, s);
      }
      out.push_back(std::move(s));
    }
    return out;
  };
}

}  // namespace annot
