#include "dicomweb/LabelFilters.h"

#include <set>

#include "dicomweb/QidoModel.h"

namespace annot::dicomweb {
namespace {
// The codes of the latest revision of every label task: findings and classification values,
// read from the stored JSON documents with each database's JSON functions.
const char* kLatestRevisions =
    "WITH latest AS (SELECT r.task_fk, r.document FROM revisions r "
    "  WHERE r.number = (SELECT max(number) FROM revisions x WHERE x.task_fk = r.task_fk)), ";
const char* kCodesSqlite =
    "codes AS (SELECT l.task_fk, json_extract(f.value, '$.finding.scheme') AS scheme, json_extract(f.value, '$.finding.code') AS code "
    "  FROM latest l, json_each(l.document, '$.findings') f "
    "  UNION SELECT l.task_fk, json_extract(c.value, '$.value.scheme'), json_extract(c.value, '$.value.code') "
    "  FROM latest l, json_each(l.document, '$.classifications') c) ";
// (A document without the array, or with something else there, gives no rows, as json_each does.)
const char* kCodesPostgres =
    "codes AS (SELECT l.task_fk, f #>> '{finding,scheme}' AS scheme, f #>> '{finding,code}' AS code "
    "  FROM latest l, jsonb_array_elements(CASE WHEN jsonb_typeof(l.document::jsonb -> 'findings') = 'array' "
    "    THEN l.document::jsonb -> 'findings' ELSE '[]'::jsonb END) f "
    "  UNION SELECT l.task_fk, c #>> '{value,scheme}', c #>> '{value,code}' "
    "  FROM latest l, jsonb_array_elements(CASE WHEN jsonb_typeof(l.document::jsonb -> 'classifications') = 'array' "
    "    THEN l.document::jsonb -> 'classifications' ELSE '[]'::jsonb END) c) ";

template <typename Connection>
std::string latestCodes(const Connection&) {
  return std::string(kLatestRevisions) + (isPostgres<Connection> ? kCodesPostgres : kCodesSqlite);
}
}  // namespace

bool LabelFilters::wantsSummary(const std::multimap<std::string, std::string>& params) {
  const auto range = params.equal_range("includefield");
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.find("annotation.summary") != std::string::npos) return true;
  }
  return false;
}

std::optional<std::vector<std::string>> LabelFilters::matchingStudies(const std::multimap<std::string, std::string>& params) {
  std::string where;
  std::vector<std::string> binds;
  bool any = false;
  for (const auto& [key, value] : params) {
    if (key.rfind("annotation.", 0) != 0) continue;
    any = true;
    if (key == "annotation.status") {
      if (value == "approved") {
        where += " AND EXISTS (SELECT 1 FROM tasks x JOIN outputs o ON o.task_fk = x.id WHERE x.study_uid = t.study_uid "
                 "AND o.withdrawn_by = '' AND o.stored = 1)";
      } else if (value == "labeled") {
        where += " AND EXISTS (SELECT 1 FROM tasks x WHERE x.study_uid = t.study_uid AND x.step = 'label' AND x.state = 'COMPLETED')";
      } else if (value == "in-progress") {
        where += " AND EXISTS (SELECT 1 FROM tasks x WHERE x.study_uid = t.study_uid AND x.state IN ('SCHEDULED', 'IN PROGRESS'))";
      } else {
        throw QidoError("annotation.status must be approved, labeled or in-progress");
      }
    } else if (key == "annotation.protocol") {
      where += " AND EXISTS (SELECT 1 FROM tasks x WHERE x.study_uid = t.study_uid AND x.protocol_id = ?)";
      binds.push_back(value);
    } else if (key == "annotation.finding") {
      const auto colon = value.find(':');
      if (value.empty()) throw QidoError("annotation.finding needs a code (CODE or SCHEME:CODE)");
      where += " AND t.study_uid IN (SELECT x.study_uid FROM codes JOIN tasks x ON x.id = codes.task_fk WHERE codes.code = ?";
      binds.push_back(colon == std::string::npos ? value : value.substr(colon + 1));
      if (colon != std::string::npos) {
        where += " AND codes.scheme = ?";
        binds.push_back(value.substr(0, colon));
      }
      where += ")";
    } else if (key == "annotation.readers") {
      if (value.empty() || value.size() > 3 || value.find_first_not_of("0123456789") != std::string::npos) {
        throw QidoError("annotation.readers must be a number of readers");
      }
      where += " AND (SELECT count(DISTINCT x.assignee) FROM tasks x WHERE x.study_uid = t.study_uid AND x.step = 'label' AND x.state = 'COMPLETED') >= CAST(? AS INTEGER)";
      binds.push_back(value);
    } else {
      throw QidoError("'" + key + "' is not a label filter (annotation.status, .protocol, .finding, .readers)");
    }
  }
  if (!any) return std::nullopt;
  return db_.withAny([&](auto& db) {
    auto st = db.prepare(latestCodes(db) + "SELECT DISTINCT t.study_uid FROM tasks t WHERE 1=1" + where);
    for (size_t i = 0; i < binds.size(); ++i) st.bind(static_cast<int>(i + 1), binds[i]);
    std::vector<std::string> studies;
    while (st.step()) studies.push_back(st.text(0));
    return studies;
  });
}

nlohmann::json LabelFilters::summary(const std::string& study) {
  return db_.withAny([&](auto& db) {
    nlohmann::json out = {{"protocols", nlohmann::json::array()}, {"tasks", nlohmann::json::object()}, {"readersFinished", 0},
                          {"approved", false}, {"findings", nlohmann::json::array()}};
    auto protocols = db.prepare("SELECT DISTINCT protocol_id FROM tasks WHERE study_uid = ? ORDER BY protocol_id");
    protocols.bind(1, study);
    while (protocols.step()) out["protocols"].push_back(protocols.text(0));
    auto states = db.prepare("SELECT step || ':' || state, count(*) FROM tasks WHERE study_uid = ? GROUP BY step, state ORDER BY 1");
    states.bind(1, study);
    while (states.step()) out["tasks"][states.text(0)] = states.integer(1);
    auto readers = db.prepare("SELECT count(DISTINCT assignee) FROM tasks WHERE study_uid = ? AND step = 'label' AND state = 'COMPLETED'");
    readers.bind(1, study);
    if (readers.step()) out["readersFinished"] = readers.integer(0);
    auto approved = db.prepare("SELECT 1 FROM tasks x JOIN outputs o ON o.task_fk = x.id WHERE x.study_uid = ? AND o.withdrawn_by = '' "
                                 "AND o.stored = 1 LIMIT 1");
    approved.bind(1, study);
    out["approved"] = approved.step();
    auto codes = db.prepare(latestCodes(db) +
                            "SELECT DISTINCT codes.scheme, codes.code FROM codes JOIN tasks x ON x.id = codes.task_fk "
                            "WHERE x.study_uid = ? AND codes.code IS NOT NULL ORDER BY 1, 2");
    codes.bind(1, study);
    while (codes.step()) out["findings"].push_back(codes.text(0) + ":" + codes.text(1));
    return out;
  });
}

}  // namespace annot::dicomweb
