#pragma once
#include <functional>

#include "catalog/StudyIndex.h"
#include "storage/InstanceStore.h"
#include "worklist/StudySource.h"

namespace annot {

// A StudySource over a study index: facts from the index, image headers from wherever the
// deployment keeps the files (the node's file store, or Orthanc), read through `readImage`.
class IndexedStudySource : public StudySource {
 public:
  using ImageReader = std::function<SourceImage(const InstanceSummary&)>;
  IndexedStudySource(StudyIndex& index, ImageReader readImage) : index_(index), readImage_(std::move(readImage)) {}
  std::optional<StudyFacts> facts(const std::string& studyInstanceUid) override;
  SourceImageSet images(const std::string& studyInstanceUid) override;

 private:
  StudyIndex& index_;
  ImageReader readImage_;
};

// Reads image headers from the node's file store (InstanceSummary::storageKey is its key).
IndexedStudySource::ImageReader readFromStore(InstanceStore& store);

}  // namespace annot
