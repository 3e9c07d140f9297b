#include "dicomweb/IndexedDicomwebSource.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <fstream>
#include <sstream>

#include "dicom/SourceImages.h"

namespace annot::dicomweb {
namespace {
using nlohmann::json;

// Values of one QIDO column in DICOM JSON (PS3.18 F.2).
json attributeJson(const Attribute& a, const std::string& value) {
  json out = {{"vr", a.vr}};
  if (value.empty()) return out;
  const std::string vr = a.vr;
  if (vr == "PN") {
    out["Value"] = json::array({{{"Alphabetic", value}}});
  } else if (vr == "IS" || vr == "US") {
    out["Value"] = json::array({std::stoll(value)});
  } else {
    json values = json::array();
    size_t start = 0;
    while (start <= value.size()) {  // multi-valued columns (ModalitiesInStudy) use '\'
      const size_t end = std::min(value.find('\\', start), value.size());
      values.push_back(value.substr(start, end - start));
      start = end + 1;
    }
    out["Value"] = values;
  }
  return out;
}
}  // namespace

json IndexedDicomwebSource::search(const Query& query, const std::multimap<std::string, std::string>& /*params*/) {
  const Sql sql = toSql(query, index_.dialect());
  json out = json::array();
  for (const auto& row : index_.query(sql.text, sql.params)) {
    json item = json::object();
    item["00080005"] = {{"vr", "CS"}, {"Value", {"ISO_IR 192"}}};  // the index holds names in UTF-8
    for (size_t c = 0; c < sql.columns.size(); ++c) {
      const Attribute& a = *sql.columns[c];
      if (std::string(a.keyword) == "NumberOfFrames" && (row[c].empty() || row[c] == "0")) continue;  // single-frame objects have none
      item[a.tag] = attributeJson(a, row[c]);
    }
    out.push_back(std::move(item));
  }
  return out;
}

std::vector<StoredInstance> IndexedDicomwebSource::instances(const std::string& studyUid, const std::string& seriesUid,
                                                             const std::string& sopUid) {
  std::string text =
      "SELECT s.study_uid, se.series_uid, i.sop_uid, i.sop_class_uid, i.transfer_syntax_uid, i.storage_key "
      "FROM instances i JOIN series se ON se.id = i.series_fk JOIN studies s ON s.id = se.study_fk WHERE s.study_uid = ?";
  std::vector<std::string> params = {studyUid};
  if (!seriesUid.empty()) { text += " AND se.series_uid = ?"; params.push_back(seriesUid); }
  if (!sopUid.empty()) { text += " AND i.sop_uid = ?"; params.push_back(sopUid); }
  text += " ORDER BY se.id, " + sql::numberOrder(index_.dialect(), "i.instance_number") + ", i.id";
  std::vector<StoredInstance> out;
  for (const auto& r : index_.query(text, params)) out.push_back({r[0], r[1], r[2], r[3], r[4], r[5]});
  return out;
}

std::optional<StoredInstance> IndexedDicomwebSource::find(const std::string& sopInstanceUid) {
  const auto rows = index_.query(
      "SELECT s.study_uid, se.series_uid, i.sop_uid, i.sop_class_uid, i.transfer_syntax_uid, i.storage_key "
      "FROM instances i JOIN series se ON se.id = i.series_fk JOIN studies s ON s.id = se.study_fk WHERE i.sop_uid = ?",
      {sopInstanceUid});
  if (rows.empty()) return std::nullopt;
  const auto& r = rows[0];
  return StoredInstance{r[0], r[1], r[2], r[3], r[4], r[5]};
}

std::string IndexedDicomwebSource::fileBytes(const StoredInstance& instance) {
  std::ifstream in(store_.absolutePath(instance.storageKey), std::ios::binary);
  if (!in) throw std::runtime_error("stored file of " + instance.sopUid + " is missing");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void IndexedDicomwebSource::load(const StoredInstance& instance, DcmFileFormat& file, bool headersOnly) {
  // Headers only: values over 4 KiB (pixel data) stay on disk until something reads them.
  const OFCondition loaded = file.loadFile(store_.absolutePath(instance.storageKey).c_str(), EXS_Unknown, EGL_noChange,
                                           headersOnly ? kHeaderValuesOnly : kLoadAllValues);
  if (loaded.bad()) throw std::runtime_error("cannot read " + instance.sopUid + ": " + loaded.text());
}

}  // namespace annot::dicomweb
