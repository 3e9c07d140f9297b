#include "worklist/IndexedStudySource.h"

#include <set>

namespace annot {

std::optional<StudyFacts> IndexedStudySource::facts(const std::string& studyInstanceUid) {
  const auto detail = index_.getStudy(studyInstanceUid);
  if (!detail) return std::nullopt;
  StudyFacts f;
  f.modalities = detail->summary.modalities;
  f.bodyParts = detail->summary.bodyParts;
  f.description = detail->summary.study.description;
  f.patientSex = detail->summary.study.patientSex;
  f.patientAge = detail->summary.study.patientAge;
  std::set<std::string> classes, manufacturers;
  for (const auto& s : detail->series) {
    f.seriesInstanceUids.push_back(s.series.seriesInstanceUid);
    if (!s.series.manufacturer.empty() && s.series.modality != "SR" && s.series.modality != "SEG") manufacturers.insert(s.series.manufacturer);
    for (const auto& i : s.instances) classes.insert(i.instance.sopClassUid);
  }
  f.sopClasses.assign(classes.begin(), classes.end());
  f.manufacturers.assign(manufacturers.begin(), manufacturers.end());
  return f;
}

SourceImageSet IndexedStudySource::images(const std::string& studyInstanceUid) {
  SourceImageSet set;
  const auto detail = index_.getStudy(studyInstanceUid);
  if (!detail) return set;
  for (const auto& s : detail->series) {
    if (s.series.modality == "SR" || s.series.modality == "SEG") continue;
    for (const auto& i : s.instances) set.add(readImage_(i));
  }
  return set;
}

IndexedStudySource::ImageReader readFromStore(InstanceStore& store) {
  return [&store](const InstanceSummary& i) { return readSourceImage(store.absolutePath(i.storageKey)); };
}

}  // namespace annot
