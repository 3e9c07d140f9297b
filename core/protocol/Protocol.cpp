#include "protocol/Protocol.h"

#include "common/JsonFieldReader.h"
#include "common/Log.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace annot {
namespace {
using nlohmann::json;

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

bool anyIn(const std::vector<std::string>& wanted, const std::vector<std::string>& have) {
  for (const auto& w : wanted) {
    for (const auto& h : have) {
      if (upper(w) == upper(h)) return true;
    }
  }
  return false;
}

class Reader : public JsonFieldReader {
 public:
  // Every text field of a protocol must say something.
  std::string string(const json& j, const char* key, const std::string& path, bool required) {
    return JsonFieldReader::string(j, key, path, required, /*nonEmpty=*/true);
  }

  std::vector<std::string> strings(const json& j, const char* key, const std::string& path) {
    std::vector<std::string> out;
    if (!j.contains(key)) return out;
    if (!j.at(key).is_array()) {
      problem(path + "." + key, "must be an array of strings");
      return out;
    }
    for (const auto& v : j.at(key)) {
      if (!v.is_string()) problem(path + "." + key, "must contain strings only");
      else out.push_back(v.get<std::string>());
    }
    return out;
  }

  std::vector<Code> codes(const json& j, const char* key, const std::string& path) {
    std::vector<Code> out;
    if (!j.contains(key)) return out;
    if (!j.at(key).is_array()) {
      problem(path + "." + key, "must be an array of coded concepts");
      return out;
    }
    for (size_t i = 0; i < j.at(key).size(); ++i) out.push_back(code(j.at(key)[i], path + "." + key + "[" + std::to_string(i) + "]"));
    return out;
  }

  LabelRule label(const json& j, const std::string& path) {
    LabelRule l;
    if (!j.is_object()) {
      problem(path, "must be an object");
      return l;
    }
    l.key = string(j, "key", path, true);
    if (j.contains("finding")) l.finding = code(j.at("finding"), path + ".finding");
    else problem(path, "'finding' is required (the coded concept this label stands for)");
    if (j.contains("findingSite")) l.findingSite = code(j.at("findingSite"), path + ".findingSite");
    l.allowedSites = codes(j, "allowedSites", path);
    for (const auto& name : strings(j, "geometries", path)) {
      if (auto t = geometryTypeFromName(name)) l.geometries.push_back(*t);
      else problem(path + ".geometries", "unknown geometry '" + name + "'");
    }
    l.segmentation = boolean(j, "segmentation", path, false);
    if (l.geometries.empty() && !l.segmentation) problem(path, "allows no geometry and no segmentation: nothing could be labelled");
    if (j.contains("segmentCategory")) l.segmentCategory = code(j.at("segmentCategory"), path + ".segmentCategory");
    if (j.contains("color")) {
      const json& c = j.at("color");
      bool ok = c.is_array() && c.size() == 3;
      for (size_t i = 0; ok && i < 3; ++i) ok = c[i].is_number_integer() && c[i].get<int>() >= 0 && c[i].get<int>() <= 255;
      if (ok) l.color = std::array<int, 3>{c[0].get<int>(), c[1].get<int>(), c[2].get<int>()};
      else problem(path + ".color", "must be [red, green, blue], each 0-255");
    }
    if (j.contains("evaluations")) {
      const json& list = j.at("evaluations");
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string p = path + ".evaluations[" + std::to_string(i) + "]";
        EvaluationRule r;
        if (list[i].contains("concept")) r.concept = code(list[i].at("concept"), p + ".concept");
        else problem(p, "'concept' is required");
        r.required = boolean(list[i], "required", p, false);
        r.values = codes(list[i], "values", p);
        r.allowText = boolean(list[i], "allowText", p, false);
        if (r.values.empty() && !r.allowText) problem(p, "needs 'values' or \"allowText\": true");
        l.evaluations.push_back(r);
      }
    }
    if (j.contains("measurements")) {
      const json& list = j.at("measurements");
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string p = path + ".measurements[" + std::to_string(i) + "]";
        MeasurementRule r;
        if (list[i].contains("concept")) r.concept = code(list[i].at("concept"), p + ".concept");
        else problem(p, "'concept' is required");
        if (list[i].contains("unit")) r.unit = code(list[i].at("unit"), p + ".unit");
        else problem(p, "'unit' is required (UCUM)");
        if (!r.unit.empty() && r.unit.scheme != "UCUM") problem(p + ".unit", "units must use the UCUM coding scheme");
        r.required = boolean(list[i], "required", p, false);
        l.measurements.push_back(r);
      }
    }
    return l;
  }

  ClassificationRule classification(const json& j, const std::string& path) {
    ClassificationRule c;
    c.key = string(j, "key", path, true);
    if (j.contains("concept")) c.concept = code(j.at("concept"), path + ".concept");
    else problem(path, "'concept' is required");
    c.values = codes(j, "values", path);
    if (c.values.empty()) problem(path, "'values' must list the allowed coded answers");
    c.required = boolean(j, "required", path, false);
    const std::string level = j.contains("level") && j.at("level").is_string() ? j.at("level").get<std::string>() : "study";
    if (level != "study" && level != "image") problem(path + ".level", "must be 'study' or 'image'");
    c.imageLevel = level == "image";
    return c;
  }

};

// "1.10.0" is newer than "1.9.2": compare dotted numbers numerically, text otherwise.
bool olderVersion(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string pa, pb;
  while (true) {
    const bool ha = static_cast<bool>(std::getline(sa, pa, '.'));
    const bool hb = static_cast<bool>(std::getline(sb, pb, '.'));
    if (!ha || !hb) return !ha && hb;
    const bool na = !pa.empty() && pa.find_first_not_of("0123456789") == std::string::npos;
    const bool nb = !pb.empty() && pb.find_first_not_of("0123456789") == std::string::npos;
    if (na && nb && pa.size() < 10 && pb.size() < 10) {
      if (std::stol(pa) != std::stol(pb)) return std::stol(pa) < std::stol(pb);
    } else if (pa != pb) {
      return pa < pb;
    }
  }
}

std::string joined(const std::string& source, const std::vector<std::string>& problems) {
  std::string text = "invalid labeling protocol " + source + ":";
  for (const auto& p : problems) text += "\n  - " + p;
  return text;
}
}  // namespace

bool Protocol::appliesTo(const StudyFacts& study) const {
  if (!modalities.empty() && !anyIn(modalities, study.modalities)) return false;
  if (!bodyParts.empty() && !anyIn(bodyParts, study.bodyParts)) return false;
  if (!sopClasses.empty() && !anyIn(sopClasses, study.sopClasses)) return false;
  if (!descriptionPattern.empty()) {
    const std::regex pattern(descriptionPattern, std::regex::ECMAScript | std::regex::icase);
    if (!std::regex_search(study.description, pattern)) return false;
  }
  return true;
}

const LabelRule* Protocol::label(const std::string& key) const {
  for (const auto& l : labels) if (l.key == key) return &l;
  return nullptr;
}

const LabelRule* Protocol::labelForFinding(const Code& finding) const {
  for (const auto& l : labels) if (l.finding.sameConcept(finding)) return &l;
  return nullptr;
}

const ClassificationRule* Protocol::classification(const std::string& key) const {
  for (const auto& c : classifications) if (c.key == key) return &c;
  return nullptr;
}

const ClassificationRule* Protocol::classificationForConcept(const Code& concept) const {
  for (const auto& c : classifications) if (c.concept.sameConcept(concept)) return &c;
  return nullptr;
}

Protocol parseProtocol(const json& j, const std::string& source) {
  Reader r;
  Protocol p;
  p.sourceFile = source;
  if (!j.is_object()) throw ProtocolError(joined(source, {"document: must be a JSON object"}));
  static const std::set<std::string> known = {"id", "version", "title", "description", "appliesTo", "procedure",
                                              "readers", "review", "labels", "classifications", "$schema"};
  for (const auto& item : j.items()) {
    if (!known.count(item.key())) r.problem(item.key(), "unknown key");
  }
  p.id = r.string(j, "id", "protocol", true);
  p.version = r.string(j, "version", "protocol", true);
  p.title = r.string(j, "title", "protocol", true);
  if (j.contains("description")) p.description = r.string(j, "description", "protocol", false);
  if (!p.id.empty() && p.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    r.problem("id", "use lower-case letters, digits and '-' only");
  }
  if (j.contains("appliesTo")) {
    const json& a = j.at("appliesTo");
    p.modalities = r.strings(a, "modalities", "appliesTo");
    p.bodyParts = r.strings(a, "bodyParts", "appliesTo");
    p.sopClasses = r.strings(a, "sopClasses", "appliesTo");
    if (a.contains("descriptionPattern")) {
      p.descriptionPattern = r.string(a, "descriptionPattern", "appliesTo", false);
      try {
        std::regex test(p.descriptionPattern, std::regex::ECMAScript | std::regex::icase);
      } catch (const std::regex_error& e) {
        r.problem("appliesTo.descriptionPattern", std::string("is not a valid regular expression: ") + e.what());
      }
    }
  } else {
    r.problem("protocol", "'appliesTo' is required (which studies the protocol labels)");
  }
  if (j.contains("procedure")) p.procedure = r.code(j.at("procedure"), "procedure");
  else r.problem("protocol", "'procedure' is required (Procedure Reported in the SR)");
  if (j.contains("readers")) {
    if (!j.at("readers").is_number_integer() || j.at("readers").get<int>() < 1 || j.at("readers").get<int>() > 10) {
      r.problem("readers", "must be a whole number from 1 to 10");
    } else {
      p.readers = j.at("readers").get<unsigned>();
    }
  }
  p.review = r.boolean(j, "review", "protocol", false);
  if (j.contains("labels")) {
    for (size_t i = 0; i < j.at("labels").size(); ++i) p.labels.push_back(r.label(j.at("labels")[i], "labels[" + std::to_string(i) + "]"));
  }
  if (j.contains("classifications")) {
    for (size_t i = 0; i < j.at("classifications").size(); ++i) {
      p.classifications.push_back(r.classification(j.at("classifications")[i], "classifications[" + std::to_string(i) + "]"));
    }
  }
  if (p.labels.empty() && p.classifications.empty()) r.problem("protocol", "defines neither labels nor classifications");
  std::set<std::string> keys;
  for (const auto& l : p.labels) {
    if (!l.key.empty() && !keys.insert(l.key).second) r.problem("labels", "key '" + l.key + "' is used twice");
  }
  for (const auto& c : p.classifications) {
    if (!c.key.empty() && !keys.insert(c.key).second) r.problem("classifications", "key '" + c.key + "' is used twice");
  }
  if (!r.problems.empty()) throw ProtocolError(joined(source, r.problems));
  return p;
}

ProtocolSet ProtocolSet::loadDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw ProtocolError("cannot read the protocols folder '" + dir + "'");
  std::vector<std::string> files;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) files.push_back(dir + "/" + name);
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  ProtocolSet set;
  std::vector<std::string> errors;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    try {
      set.add(parseProtocol(json::parse(text.str(), nullptr, true, true), f));
    } catch (const json::parse_error& e) {
      errors.push_back(f + ": not valid JSON (" + e.what() + ")");
    } catch (const ProtocolError& e) {
      errors.push_back(e.what());
    }
  }
  if (!errors.empty()) {
    std::string text;
    for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e;
    throw ProtocolError(text);
  }
  return set;
}

void ProtocolSet::add(Protocol protocol) {
  // Not an error (the SR is valid), but a label without a default site draws nothing in OHIF
  // 3.13, which skips a TID 1500 measurement whose group names no Finding Site.
  for (const auto& l : protocol.labels) {
    if (!l.findingSite && !l.geometries.empty()) {
      LOG_WARN("protocol", protocol.sourceFile << ": label '" << l.key << "' has no findingSite; OHIF does not draw "
                                               << "measurements without one unless the reader gives a site");
    }
  }
  for (const auto& p : protocols_) {
    if (p.id == protocol.id && p.version == protocol.version) {
      throw ProtocolError("protocol " + protocol.id + " version " + protocol.version + " is defined twice (" +
                          p.sourceFile + ", " + protocol.sourceFile + ")");
    }
  }
  protocols_.push_back(std::move(protocol));
}

const Protocol* ProtocolSet::find(const std::string& id, const std::string& version) const {
  const Protocol* best = nullptr;
  for (const auto& p : protocols_) {
    if (p.id != id) continue;
    if (!version.empty()) {
      if (p.version == version) return &p;
      continue;
    }
    if (!best || olderVersion(best->version, p.version)) best = &p;
  }
  return best;
}

std::vector<const Protocol*> ProtocolSet::matching(const StudyFacts& study) const {
  std::vector<const Protocol*> out;
  for (const auto& p : protocols_) {
    if (p.appliesTo(study)) out.push_back(&p);
  }
  return out;
}

json toJson(const Protocol& p) {
  json labels = json::array();
  for (const auto& l : p.labels) {
    json geometries = json::array();
    for (auto g : l.geometries) geometries.push_back(geometryTypeName(g));
    json evaluations = json::array();
    for (const auto& e : l.evaluations) {
      json values = json::array();
      for (const auto& v : e.values) values.push_back(toJson(v));
      evaluations.push_back({{"concept", toJson(e.concept)}, {"required", e.required}, {"values", values}, {"allowText", e.allowText}});
    }
    json measurements = json::array();
    for (const auto& m : l.measurements) {
      measurements.push_back({{"concept", toJson(m.concept)}, {"unit", toJson(m.unit)}, {"required", m.required}});
    }
    json jl = {{"key", l.key}, {"finding", toJson(l.finding)}, {"geometries", geometries}, {"segmentation", l.segmentation},
               {"evaluations", evaluations}, {"measurements", measurements}};
    if (l.findingSite) jl["findingSite"] = toJson(*l.findingSite);
    json sites = json::array();
    for (const auto& site : l.allowedSites) sites.push_back(toJson(site));
    jl["allowedSites"] = sites;
    if (l.segmentCategory) jl["segmentCategory"] = toJson(*l.segmentCategory);
    if (l.color) jl["color"] = *l.color;
    labels.push_back(jl);
  }
  json classifications = json::array();
  for (const auto& c : p.classifications) {
    json values = json::array();
    for (const auto& v : c.values) values.push_back(toJson(v));
    classifications.push_back({{"key", c.key}, {"concept", toJson(c.concept)}, {"values", values},
                               {"required", c.required}, {"level", c.imageLevel ? "image" : "study"}});
  }
  return {{"id", p.id}, {"version", p.version}, {"title", p.title}, {"description", p.description},
          {"appliesTo", {{"modalities", p.modalities}, {"bodyParts", p.bodyParts}, {"sopClasses", p.sopClasses},
                         {"descriptionPattern", p.descriptionPattern}}},
          {"procedure", toJson(p.procedure)}, {"readers", p.readers}, {"review", p.review},
          {"labels", labels}, {"classifications", classifications}};
}

}  // namespace annot
