#include "catalog/CatalogRows.h"

#include <sstream>

namespace annot::catalog {

const char* const kInstanceColumns =
    "i.sop_uid, i.sop_class_uid, i.instance_number, i.transfer_syntax_uid, i.rows, i.columns, "
    "i.number_of_frames, i.storage_key, i.file_size, i.received_ms, i.calling_aet ";

const char* const kSeriesColumns =
    "series_uid, modality, series_number, description, body_part, manufacturer, manufacturer_model, frame_of_reference_uid, "
    "instance_count ";

std::string studyColumns(SqlDialect d) {
  return "p.patient_id, p.issuer, p.patient_name, p.birth_date, p.sex, "
         "s.study_uid, s.study_date, s.study_time, s.accession_number, s.study_id, s.description, "
         "s.referring_physician, s.patient_age, s.patient_sex, s.series_count, s.instance_count, "
         "s.total_bytes, s.first_received_ms, s.last_update_ms, s.stable, "
         "(SELECT " + sql::joinedValues(d, "m", ",") +
         " FROM (SELECT DISTINCT modality AS m FROM series WHERE study_fk = s.id AND modality <> '' ORDER BY m) AS modalities), "
         "(SELECT " + sql::joinedValues(d, "b", ",") +
         " FROM (SELECT DISTINCT body_part AS b FROM series WHERE study_fk = s.id AND body_part <> '' ORDER BY b) AS parts) ";
}

std::vector<std::string> splitList(const std::string& joined) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(joined);
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Filter studyFilter(const StudyQuery& q) {
  Filter f{" WHERE 1=1", {}};
  if (!q.patientId.empty()) {
    f.where += " AND p.patient_id = ?";
    f.params.push_back(q.patientId);
  }
  if (!q.dateFrom.empty()) {
    f.where += " AND s.study_date >= ?";
    f.params.push_back(q.dateFrom);
  }
  if (!q.dateTo.empty()) {
    f.where += " AND s.study_date <= ? AND s.study_date <> ''";
    f.params.push_back(q.dateTo);
  }
  if (!q.modality.empty()) {
    f.where += " AND EXISTS (SELECT 1 FROM series x WHERE x.study_fk = s.id AND x.modality = ?)";
    f.params.push_back(q.modality);
  }
  return f;
}

std::string seriesOfStudy(SqlDialect d) {
  return std::string("SELECT id, ") + kSeriesColumns + "FROM series WHERE study_fk = ? ORDER BY " + sql::numberOrder(d, "series_number") +
         ", id";
}

std::string instancesOfSeries(SqlDialect d) {
  return std::string("SELECT ") + kInstanceColumns + "FROM instances i WHERE i.series_fk = ? ORDER BY " +
         sql::numberOrder(d, "i.instance_number") + ", i.id";
}

}  // namespace annot::catalog
