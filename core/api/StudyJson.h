#pragma once
// JSON views of catalog records, keyed by DICOM attribute keywords so they read like DICOM.
#include <nlohmann/json.hpp>

#include "catalog/Records.h"

namespace annot {
nlohmann::json toJson(const StudySummary& study);
nlohmann::json toJson(const StudyDetail& study);
std::string isoTimeFromMillis(int64_t ms);
}  // namespace annot
