#pragma once
// A coded concept: (CodeValue, CodingSchemeDesignator, CodeMeaning), the currency of DICOM SR.
#include <nlohmann/json.hpp>
#include <string>

namespace annot {

struct Code {
  std::string value;
  std::string scheme;
  std::string meaning;

  bool empty() const { return value.empty(); }
  // Codes are equal when value and scheme are; the meaning is display text.
  bool sameConcept(const Code& other) const { return value == other.value && scheme == other.scheme; }
  std::string str() const { return "(" + value + ", " + scheme + ", \"" + meaning + "\")"; }
};

// Parses {"code": "...", "scheme": "...", "meaning": "..."}; returns an error text ("" when ok).
std::string parseCode(const nlohmann::json& j, Code& out);
nlohmann::json toJson(const Code& code);

}  // namespace annot
