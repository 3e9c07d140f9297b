#pragma once
#include "catalog/Catalog.h"
#include "storage/InstanceStore.h"
#include "worklist/StudySource.h"

namespace annot {

// The node's StudySource: facts from the catalog, image headers from the file store.
class CatalogStudySource : public StudySource {
 public:
  CatalogStudySource(Catalog& catalog, InstanceStore& store) : catalog_(catalog), store_(store) {}
  std::optional<StudyFacts> facts(const std::string& studyInstanceUid) override;
  SourceImageSet images(const std::string& studyInstanceUid) override;

 private:
  Catalog& catalog_;
  InstanceStore& store_;
};

}  // namespace annot
