#include "worklist/CatalogStudySource.h"

#include <set>

namespace annot {

std::optional<StudyFacts> CatalogStudySource::facts(const std::string& studyInstanceUid) {
  const auto detail = catalog_.getStudy(studyInstanceUid);
  if (!detail) return std::nullopt;
  StudyFacts f;
  f.modalities = detail->summary.modalities;
  f.bodyParts = detail->summary.bodyParts;
  f.description = detail->summary.study.description;
  std::set<std::string> classes;
  for (const auto& s : detail->series) {
    for (const auto& i : s.instances) classes.insert(i.instance.sopClassUid);
  }
  f.sopClasses.assign(classes.begin(), classes.end());
  return f;
}

SourceImageSet CatalogStudySource::images(const std::string& studyInstanceUid) {
  SourceImageSet set;
  const auto detail = catalog_.getStudy(studyInstanceUid);
  if (!detail) return set;
  for (const auto& s : detail->series) {
    if (s.series.modality == "SR" || s.series.modality == "SEG") continue;
    for (const auto& i : s.instances) set.add(readSourceImage(store_.absolutePath(i.storageKey)));
  }
  return set;
}

}  // namespace annot
