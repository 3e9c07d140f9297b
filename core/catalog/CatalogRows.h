#pragma once
// What both catalogs (SQLite, PostgreSQL) share: the index's column lists, reading a row into
// the records the interface returns, and the study search's conditions. The schema is the same
// on both; the few expressions that differ come from sql/SqlDialect.h.
#include <string>
#include <vector>

#include "catalog/Records.h"
#include "sql/SqlDialect.h"

namespace annot::catalog {

// A study's patient and study columns, its counts, and its modalities and body parts joined
// by ',' (read back with readStudy).
std::string studyColumns(SqlDialect dialect);
// An instance's columns (read back with readInstance).
extern const char* const kInstanceColumns;
// A series' columns, after its row id (read back with readSeries from column 1).
extern const char* const kSeriesColumns;

std::vector<std::string> splitList(const std::string& joined);

// The search's WHERE clause over `studies s JOIN patients p`, with its bound values in order.
struct Filter {
  std::string where;
  std::vector<std::string> params;
};
Filter studyFilter(const StudyQuery& query);

template <typename Statement>
StudySummary readStudy(const Statement& st) {
  StudySummary s;
  s.patient = {st.text(0), st.text(1), st.text(2), st.text(3), st.text(4)};
  s.study.studyInstanceUid = st.text(5);
  s.study.studyDate = st.text(6);
  s.study.studyTime = st.text(7);
  s.study.accessionNumber = st.text(8);
  s.study.studyId = st.text(9);
  s.study.description = st.text(10);
  s.study.referringPhysician = st.text(11);
  s.study.patientAge = st.text(12);
  s.study.patientSex = st.text(13);
  s.seriesCount = static_cast<uint32_t>(st.integer(14));
  s.instanceCount = static_cast<uint32_t>(st.integer(15));
  s.totalBytes = static_cast<uint64_t>(st.integer(16));
  s.firstReceivedMs = st.integer(17);
  s.lastUpdateMs = st.integer(18);
  s.stable = st.integer(19) != 0;
  s.modalities = splitList(st.text(20));
  s.bodyParts = splitList(st.text(21));
  return s;
}
// Columns readStudy reads; the next one is the study's row id where a query selects it.
constexpr int kStudyColumnCount = 22;

template <typename Statement>
InstanceSummary readInstance(const Statement& st, int first) {
  InstanceSummary i;
  i.instance.sopInstanceUid = st.text(first + 0);
  i.instance.sopClassUid = st.text(first + 1);
  i.instance.instanceNumber = st.text(first + 2);
  i.instance.transferSyntaxUid = st.text(first + 3);
  i.instance.rows = static_cast<uint32_t>(st.integer(first + 4));
  i.instance.columns = static_cast<uint32_t>(st.integer(first + 5));
  i.instance.numberOfFrames = static_cast<uint32_t>(st.integer(first + 6));
  i.storageKey = st.text(first + 7);
  i.fileSize = static_cast<uint64_t>(st.integer(first + 8));
  i.receivedAtMs = st.integer(first + 9);
  i.callingAet = st.text(first + 10);
  return i;
}

template <typename Statement>
SeriesSummary readSeries(const Statement& st, int first) {
  SeriesSummary s;
  s.series = {st.text(first), st.text(first + 1), st.text(first + 2), st.text(first + 3),
              st.text(first + 4), st.text(first + 5), st.text(first + 6), st.text(first + 7)};
  s.instanceCount = static_cast<uint32_t>(st.integer(first + 8));
  return s;
}

// A study's series (by study row id, as `SELECT id, kSeriesColumns`) and a series' instances (by
// series row id), in their numbers' order.
std::string seriesOfStudy(SqlDialect dialect);
std::string instancesOfSeries(SqlDialect dialect);

}  // namespace annot::catalog
