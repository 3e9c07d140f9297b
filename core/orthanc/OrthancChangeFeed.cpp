#include "orthanc/OrthancChangeFeed.h"

#include "common/Clock.h"
#include "common/Log.h"

namespace annot {
using nlohmann::json;

void OrthancChangeFeed::follow() {
  while (!worker_.stopping() && poll() > 0) {
  }
  if (!recovered_) {
    // Once the changes from before a restart are read again, the studies they touched are known;
    // Orthanc forgets unstable studies across its restart, so no StableStudy may come for them.
    recoverTouched();
    recovered_ = true;
  }
}

int64_t OrthancChangeFeed::cursor() {
  const auto stored = db_.withAny([](auto& db) -> std::optional<int64_t> {
    auto st = db.prepare("SELECT last_seq FROM change_cursor WHERE id = 1");
    if (!st.step()) return std::nullopt;
    return st.integer(0);
  });
  if (stored) return *stored;
  // First start: follow from now on. Studies Orthanc held before the plugin came are
  // scheduled explicitly (POST /api/v1/tasks), not all at once behind the operator's back.
  const int64_t last = rest_.getJson("/changes?last").value("Last", int64_t{0});
  db_.withAny([&](auto& db) { db.prepare("INSERT INTO change_cursor(id, last_seq) VALUES(1, ?) ON CONFLICT(id) DO NOTHING").bind(1, last).run(); });
  LOG_INFO("changes", "following Orthanc's changes from sequence " << last);
  return last;
}

size_t OrthancChangeFeed::poll() {
  const int64_t since = cursor();
  following_ = true;
  const json page = rest_.getJson("/changes?since=" + std::to_string(since) + "&limit=100");
  const json& changes = page["Changes"];
  int64_t last = since;
  for (const auto& change : changes) {
    const std::string type = change.value("ChangeType", ""), id = change.value("ID", "");
    try {
      if (type == "NewInstance") onNewInstance(id);
      else if (type == "StableStudy") onStableStudy(id);
      else if (type == "Deleted" && change.value("ResourceType", "") == "Study") {
        db_.withAny([&](auto& db) { db.prepare("DELETE FROM touched_studies WHERE orthanc_id = ?").bind(1, id).run(); });
      }
    } catch (const std::exception& e) {
      // One bad resource must not stall the feed: it is logged and the study stays touched.
      LOG_ERROR("changes", type << " " << id << ": " << e.what());
    }
    last = std::max(last, change.value("Seq", last));
  }
  if (last != since) {
    // Several Orthancs' plugins may follow one log: the position only moves forward.
    db_.withAny([&](auto& db) { db.prepare("UPDATE change_cursor SET last_seq = CASE WHEN last_seq < ? THEN ? ELSE last_seq END WHERE id = 1")
          .bind(1, last).bind(2, last).run(); });
  }
  return changes.size();
}

void OrthancChangeFeed::onNewInstance(const std::string& instanceId) {
  if (newInstanceHook_) {
    try {
      newInstanceHook_(instanceId);
    } catch (const std::exception& e) {
      LOG_ERROR("changes", "new instance " << instanceId << ": " << e.what());
    }
  }
  const auto instance = rest_.findJson("/instances/" + instanceId);
  if (!instance) return;  // deleted since
  const std::string sop = (*instance)["MainDicomTags"].value("SOPInstanceUID", "");
  if (isOwnOutput_(sop)) {
    LOG_INFO("changes", "instance " << sop << " is our own result: not a reason to schedule");
    return;
  }
  const auto study = rest_.findJson("/instances/" + instanceId + "/study");
  if (!study) return;
  db_.withAny([&](auto& db) {
    db.prepare("INSERT INTO touched_studies(orthanc_id, since_ms) VALUES(?, ?) ON CONFLICT DO NOTHING")
        .bind(1, (*study)["ID"].get<std::string>()).bind(2, nowMillis()).run();
  });
}

void OrthancChangeFeed::onStableStudy(const std::string& studyId) {
  const bool touched = db_.withAny([&](auto& db) {
    auto st = db.prepare("SELECT 1 FROM touched_studies WHERE orthanc_id = ?");
    st.bind(1, studyId);
    return st.step();
  });
  if (!touched) {
    LOG_DEBUG("changes", "study " << studyId << " is stable with only our own results new: nothing to schedule");
    return;
  }
  scheduleStudy(studyId);
}

bool OrthancChangeFeed::scheduleStudy(const std::string& studyId) {
  const auto study = rest_.findJson("/studies/" + studyId);
  if (study) schedule_((*study)["MainDicomTags"].value("StudyInstanceUID", ""));
  db_.withAny([&](auto& db) { db.prepare("DELETE FROM touched_studies WHERE orthanc_id = ?").bind(1, studyId).run(); });
  return study.has_value();
}

void OrthancChangeFeed::recoverTouched() {
  const auto touched = db_.withAny([](auto& db) {
    std::vector<std::string> ids;
    auto st = db.prepare("SELECT orthanc_id FROM touched_studies ORDER BY since_ms");
    while (st.step()) ids.push_back(st.text(0));
    return ids;
  });
  for (const auto& id : touched) {
    try {
      const auto study = rest_.findJson("/studies/" + id);
      if (!study || study->value("IsStable", false)) {
        if (scheduleStudy(id)) LOG_INFO("changes", "study " << id << " was touched before a restart and is stable: scheduled");
      }
    } catch (const std::exception& e) {
      // One study's trouble does not hold up the others; it stays touched for the next pass.
      LOG_ERROR("changes", "cannot recover touched study " << id << ": " << e.what());
    }
  }
}

}  // namespace annot
