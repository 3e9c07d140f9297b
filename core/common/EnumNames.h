#pragma once
// Name <-> value tables for enums that appear as text in JSON, SQL and DICOM.
#include <optional>
#include <string>
#include <utility>

namespace annot {

template <typename E, size_t N>
const char* enumName(const std::pair<E, const char*> (&table)[N], E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <typename E, size_t N>
std::optional<E> enumFromName(const std::pair<E, const char*> (&table)[N], const std::string& name) {
  for (const auto& [v, n] : table) {
    if (name == n) return v;
  }
  return std::nullopt;
}

}  // namespace annot
