#include "dicomweb/QidoModel.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctag.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace annot::dicomweb {
namespace {
constexpr bool Y = true, N = false;

bool isNumericVr(const std::string& vr) { return vr == "IS" || vr == "US" || vr == "UL" || vr == "DS"; }
bool isRangeVr(const std::string& vr) { return vr == "DA" || vr == "TM" || vr == "DT"; }

void requireDigits(const std::string& value, const Attribute& a, bool allowDot) {
  for (char c : value) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && !(allowDot && c == '.')) {
      throw QidoError(std::string("'") + value + "' is not a valid " + a.vr + " value for " + a.keyword);
    }
  }
}

void checkDateOrTime(const std::string& value, const Attribute& a) {
  if (value.empty()) return;
  const std::string vr = a.vr;
  requireDigits(value, a, vr != "DA");
  if (vr == "DA" && value.size() != 8) throw QidoError(std::string("'") + value + "' is not a date YYYYMMDD for " + a.keyword);
}

std::vector<std::string> splitUids(const std::string& value) {
  std::vector<std::string> out;
  std::string current;
  for (char c : value) {
    if (c == '\\' || c == ',') {
      if (!current.empty()) out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

// DICOM wildcards to a SQL LIKE pattern (case-insensitive in SQLite), escaping LIKE's own.
std::string likePattern(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '*') out += '%';
    else if (c == '?') out += '_';
    else if (c == '%' || c == '_' || c == '\\') (out += '\\') += c;
    else out += c;
  }
  return out;
}

// DICOM wildcards to a GLOB pattern (case-sensitive), escaping GLOB's own.
std::string globPattern(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '*' || c == '?') out += c;
    else if (c == '[') out += "[[]";
    else out += c;
  }
  return out;
}

std::vector<std::string> splitList(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t end = std::min(value.find(',', start), value.size());
    if (end > start) out.push_back(value.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

uint32_t parseCount(const std::string& text, const char* name, uint32_t max) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    throw QidoError(std::string("'") + name + "' must be a non-negative integer");
  }
  const unsigned long v = std::stoul(text);
  if (v > max) throw QidoError(std::string("'") + name + "' must be at most " + std::to_string(max));
  return static_cast<uint32_t>(v);
}

// ModalitiesInStudy's column: its series' modalities, joined as a multi-valued attribute is.
const char* kModalitiesInStudy = "(modalities in study)";
std::string modalitiesInStudy(SqlDialect d) {
  return "(SELECT " + sql::joinedValues(d, "m", "\\") +
         " FROM (SELECT DISTINCT modality AS m FROM series x WHERE x.study_fk = s.id AND x.modality <> '' ORDER BY m) AS modalities)";
}
}  // namespace

const std::vector<Attribute>& attributes() {
  static const std::vector<Attribute> all = {
      {"StudyDate", "00080020", "DA", Level::Study, "s.study_date", Y, N, N},
      {"StudyTime", "00080030", "TM", Level::Study, "s.study_time", Y, N, N},
      {"AccessionNumber", "00080050", "SH", Level::Study, "s.accession_number", Y, N, N},
      {"ModalitiesInStudy", "00080061", "CS", Level::Study, kModalitiesInStudy, Y, N, N},
      {"ReferringPhysicianName", "00080090", "PN", Level::Study, "s.referring_physician", Y, N, N},
      {"StudyDescription", "00081030", "LO", Level::Study, "s.description", N, N, N},
      {"PatientName", "00100010", "PN", Level::Study, "p.patient_name", Y, N, N},
      {"PatientID", "00100020", "LO", Level::Study, "p.patient_id", Y, N, N},
      {"IssuerOfPatientID", "00100021", "LO", Level::Study, "p.issuer", N, N, N},
      {"PatientBirthDate", "00100030", "DA", Level::Study, "p.birth_date", Y, N, N},
      {"PatientSex", "00100040", "CS", Level::Study, "p.sex", Y, N, N},
      {"PatientAge", "00101010", "AS", Level::Study, "s.patient_age", N, N, N},
      {"StudyInstanceUID", "0020000D", "UI", Level::Study, "s.study_uid", Y, N, N},
      {"StudyID", "00200010", "SH", Level::Study, "s.study_id", Y, N, N},
      {"NumberOfStudyRelatedSeries", "00201206", "IS", Level::Study, "s.series_count", Y, N, N},
      {"NumberOfStudyRelatedInstances", "00201208", "IS", Level::Study, "s.instance_count", Y, N, N},
      {"Modality", "00080060", "CS", Level::Series, "se.modality", N, Y, N},
      {"Manufacturer", "00080070", "LO", Level::Series, "se.manufacturer", N, N, N},
      {"SeriesDescription", "0008103E", "LO", Level::Series, "se.description", N, Y, N},
      {"ManufacturerModelName", "00081090", "LO", Level::Series, "se.manufacturer_model", N, N, N},
      {"BodyPartExamined", "00180015", "CS", Level::Series, "se.body_part", N, N, N},
      {"SeriesInstanceUID", "0020000E", "UI", Level::Series, "se.series_uid", N, Y, N},
      {"SeriesNumber", "00200011", "IS", Level::Series, "se.series_number", N, Y, N},
      {"FrameOfReferenceUID", "00200052", "UI", Level::Series, "se.frame_of_reference_uid", N, N, N},
      {"NumberOfSeriesRelatedInstances", "00201209", "IS", Level::Series, "se.instance_count", N, Y, N},
      {"SOPClassUID", "00080016", "UI", Level::Instance, "i.sop_class_uid", N, N, Y},
      {"SOPInstanceUID", "00080018", "UI", Level::Instance, "i.sop_uid", N, N, Y},
      {"AvailableTransferSyntaxUID", "00083002", "UI", Level::Instance, "i.transfer_syntax_uid", N, N, N},
      {"InstanceNumber", "00200013", "IS", Level::Instance, "i.instance_number", N, N, Y},
      {"NumberOfFrames", "00280008", "IS", Level::Instance, "i.number_of_frames", N, N, Y},
      {"Rows", "00280010", "US", Level::Instance, "i.rows", N, N, Y},
      {"Columns", "00280011", "US", Level::Instance, "i.columns", N, N, Y},
  };
  return all;
}

const Attribute* findAttribute(const std::string& key) {
  std::string upper = key;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const auto& a : attributes()) {
    if (key == a.keyword || upper == a.tag) return &a;
  }
  return nullptr;
}

std::string dicomTagOf(const std::string& name) {
  if (name.size() == 8 && std::all_of(name.begin(), name.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return upper;
  }
  DcmTag tag;
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0])) || DcmTag::findTagFromName(name.c_str(), tag).bad()) return "";
  char text[9];
  std::snprintf(text, sizeof text, "%04X%04X", tag.getGroup(), tag.getElement());
  return text;
}

Query parseQuery(Level level, const std::multimap<std::string, std::string>& params) {
  Query q;
  q.level = level;
  for (const auto& [key, value] : params) {
    if (key.rfind("annotation.", 0) == 0) continue;  // the product's extension, handled by the caller
    if (key.empty()) continue;  // "?&limit=10": some viewers (Weasis) start the query with '&'
    // accept and charset are the media type's, handled before the search (ApiHandler).
    if (key == "accept" || key == "charset") continue;
    if (key == "includefield") {
      for (const auto& field : splitList(value)) {
        if (field == "all") {
          q.includeAll = true;
        } else if (field.rfind("annotation.", 0) == 0) {
          continue;
        } else if (const Attribute* a = findAttribute(field)) {
          q.includeFields.insert(a->keyword);
        } else if (const std::string tag = dicomTagOf(field); !tag.empty()) {
          if (std::find(q.extraIncludeTags.begin(), q.extraIncludeTags.end(), tag) == q.extraIncludeTags.end()) q.extraIncludeTags.push_back(tag);
        } else {
          throw QidoError("includefield '" + field + "' is neither a DICOM keyword nor a tag (GGGGEEEE)");
        }
      }
      continue;
    }
    if (key == "limit") { q.limit = parseCount(value, "limit", 100000); continue; }
    if (key == "offset") { q.offset = parseCount(value, "offset", 1000000000); continue; }
    if (key == "fuzzymatching") {
      if (value != "true" && value != "false") throw QidoError("'fuzzymatching' must be true or false");
      q.fuzzy = value == "true";
      continue;
    }
    const Attribute* a = findAttribute(key);
    if (!a) {
      if (dicomTagOf(key).empty()) {
        throw QidoError("'" + key + "' is neither a DICOM attribute (keyword or tag) nor a QIDO-RS parameter (includefield, limit, "
                        "offset, fuzzymatching)");
      }
      q.ignoredKeys.push_back(key);
      continue;
    }
    if (static_cast<int>(a->level) > static_cast<int>(level)) {
      throw QidoError(std::string(a->keyword) + " cannot be matched in a search for " +
                      (level == Level::Study ? "studies" : "series"));
    }
    Match m;
    m.attribute = a;
    const std::string vr = a->vr;
    if (value.empty() || value == "*") {
      m.kind = Match::Kind::Universal;
    } else if (vr == "UI") {
      m.uids = splitUids(value);
      for (const auto& uid : m.uids) {
        if (uid.size() > 64 || uid.find_first_not_of("0123456789.") != std::string::npos) throw QidoError("'" + uid + "' is not a UID");
      }
      m.kind = m.uids.size() == 1 ? Match::Kind::Single : Match::Kind::UidList;
      m.value = m.uids.front();
    } else if (isRangeVr(vr) && value.find('-') != std::string::npos) {
      const auto dash = value.find('-');
      m.kind = Match::Kind::Range;
      m.from = value.substr(0, dash);
      m.to = value.substr(dash + 1);
      checkDateOrTime(m.from, *a);
      checkDateOrTime(m.to, *a);
      if (!m.from.empty() && !m.to.empty() && m.from > m.to) throw QidoError(std::string("empty range for ") + a->keyword);
    } else if (value.find_first_of("*?") != std::string::npos) {
      if (isRangeVr(vr) || isNumericVr(vr)) throw QidoError(std::string("wildcards are not allowed for ") + a->keyword);
      m.kind = Match::Kind::Wildcard;
      m.value = value;
    } else {
      if (isRangeVr(vr)) checkDateOrTime(value, *a);
      if (isNumericVr(vr)) requireDigits(value, *a, false);
      m.kind = Match::Kind::Single;
      m.value = value;
    }
    q.matches.push_back(std::move(m));
  }
  return q;
}

Sql toSql(const Query& q, SqlDialect dialect) {
  Sql sql;
  const auto columnOf = [&](const Attribute& a) { return a.column == kModalitiesInStudy ? modalitiesInStudy(dialect) : std::string(a.column); };
  // Columns: the level's defaults (and, for searches above their level, the parents'), what
  // includefield asks for, and every matched attribute.
  std::set<std::string> wanted = q.includeFields;
  for (const auto& m : q.matches) wanted.insert(m.attribute->keyword);
  for (const auto& a : attributes()) {
    if (static_cast<int>(a.level) > static_cast<int>(q.level)) continue;
    const bool byDefault = (q.level == Level::Study && a.defaultAtStudy) || (q.level == Level::Series && a.defaultAtSeries) ||
                           (q.level == Level::Instance && a.defaultAtInstance) ||
                           // flat searches (/series, /instances) carry their parents' defaults
                           (q.level == Level::Series && q.studyUid.empty() && a.defaultAtStudy) ||
                           (q.level == Level::Instance && q.seriesUid.empty() && (a.defaultAtSeries || (q.studyUid.empty() && a.defaultAtStudy))) ||
                           // the UIDs of the levels above are always needed to build RetrieveURLs
                           std::string(a.keyword) == "StudyInstanceUID" ||
                           (q.level == Level::Instance && std::string(a.keyword) == "SeriesInstanceUID");
    if (q.includeAll || byDefault || wanted.count(a.keyword)) sql.columns.push_back(&a);
  }
  std::string select;
  for (const auto* c : sql.columns) select += (select.empty() ? "" : ", ") + std::string("COALESCE(CAST(") + columnOf(*c) + " AS TEXT), '')";
  std::string from;
  switch (q.level) {
    case Level::Study: from = " FROM studies s JOIN patients p ON p.id = s.patient_fk"; break;
    case Level::Series: from = " FROM series se JOIN studies s ON s.id = se.study_fk JOIN patients p ON p.id = s.patient_fk"; break;
    case Level::Instance:
      from = " FROM instances i JOIN series se ON se.id = i.series_fk JOIN studies s ON s.id = se.study_fk JOIN patients p ON p.id = s.patient_fk";
      break;
  }
  std::string where = " WHERE 1=1";
  if (!q.studyUid.empty()) { where += " AND s.study_uid = ?"; sql.params.push_back(q.studyUid); }
  if (!q.seriesUid.empty()) { where += " AND se.series_uid = ?"; sql.params.push_back(q.seriesUid); }
  if (q.onlyStudies) {
    std::string placeholders;
    for (const auto& uid : *q.onlyStudies) {
      placeholders += placeholders.empty() ? "?" : ",?";
      sql.params.push_back(uid);
    }
    where += q.onlyStudies->empty() ? " AND 1 = 0" : " AND s.study_uid IN (" + placeholders + ")";
  }
  for (const auto& m : q.matches) {
    const std::string col = columnOf(*m.attribute), vr = m.attribute->vr;
    const bool modalities = std::string(m.attribute->keyword) == "ModalitiesInStudy";
    const std::string text = "CAST(" + col + " AS TEXT)";
    switch (m.kind) {
      case Match::Kind::Universal: break;
      case Match::Kind::Single:
        if (modalities) where += " AND EXISTS (SELECT 1 FROM series x WHERE x.study_fk = s.id AND x.modality = ?)";
        else if (vr == "PN" && q.fuzzy) {
          // Fuzzy: the value starts the name or any of its components, ignoring case.
          where += " AND (" + sql::likeAnyCase(dialect, col) + " OR " + sql::likeAnyCase(dialect, col) + ")";
          sql.params.push_back(likePattern(m.value) + "%");
          sql.params.push_back("%^" + likePattern(m.value) + "%");
          continue;
        } else if (vr == "PN") where += " AND lower(" + col + ") = lower(?)";
        // Text columns are compared as they are, so their indexes serve the match.
        else where += " AND " + (isNumericVr(vr) ? text : col) + " = ?";
        sql.params.push_back(m.value);
        break;
      case Match::Kind::Wildcard:
        if (modalities) where += " AND EXISTS (SELECT 1 FROM series x WHERE x.study_fk = s.id AND " + sql::matchCase(dialect, "x.modality") + ")";
        else if (vr == "PN") where += " AND " + sql::likeAnyCase(dialect, col);  // names match regardless of case
        else where += " AND " + sql::matchCase(dialect, col);
        sql.params.push_back((modalities || vr != "PN") && sql::usesGlob(dialect) ? globPattern(m.value) : likePattern(m.value));
        break;
      case Match::Kind::UidList: {
        std::string placeholders;
        for (size_t i = 0; i < m.uids.size(); ++i) placeholders += (i ? ",?" : "?");
        where += " AND " + col + " IN (" + placeholders + ")";
        for (const auto& uid : m.uids) sql.params.push_back(uid);
        break;
      }
      case Match::Kind::Range:
        if (!m.from.empty()) { where += " AND " + sql::byteOrder(dialect, col) + " >= ?"; sql.params.push_back(m.from); }
        if (!m.to.empty()) {
          // "-20201231" reaches the end of that day (or time) inclusively: every value that
          // starts with the bound sorts below bound + '~' (values are digits, '.' and ':'), and a
          // plain comparison keeps the column's index usable for both ends of the range.
          where += " AND " + col + " <> '' AND " + sql::byteOrder(dialect, col) + " <= ?";
          sql.params.push_back(m.to + "~");
        }
        break;
    }
  }
  std::string order;
  switch (q.level) {
    case Level::Study: order = " ORDER BY s.study_date DESC, s.id DESC"; break;
    case Level::Series: order = " ORDER BY s.id, " + sql::numberOrder(dialect, "se.series_number") + ", se.id"; break;
    case Level::Instance: order = " ORDER BY se.id, " + sql::numberOrder(dialect, "i.instance_number") + ", i.id"; break;
  }
  sql.text = "SELECT " + select + from + where + order + " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
  return sql;
}

}  // namespace annot::dicomweb
