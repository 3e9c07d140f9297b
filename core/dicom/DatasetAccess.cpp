#include "dicom/DatasetAccess.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdio>
#include <cstring>

namespace annot {

std::string getString(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  if (item.findAndGetOFStringArray(tag, v).bad()) return {};
  std::string s = v.c_str();
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

std::string convertToUtf8(DcmDataset& dataset) {
  const std::string charset = getString(dataset, DCM_SpecificCharacterSet);
  if (charset.empty() || charset == "ISO_IR 192" || charset == "ISO_IR 6") return "";
  const OFCondition converted = dataset.convertToUTF8();
  return converted.good() ? "" : "cannot convert character set '" + charset + "' to UTF-8: " + converted.text();
}

Code getCode(DcmItem& item, const DcmTagKey& sequence) {
  DcmItem* c = nullptr;
  if (item.findAndGetSequenceItem(sequence, c, 0).bad() || !c) return {};
  Code code{getString(*c, DCM_CodeValue), getString(*c, DCM_CodingSchemeDesignator), getString(*c, DCM_CodeMeaning)};
  if (code.value.empty()) code.value = getString(*c, DCM_LongCodeValue);
  if (code.value.empty()) code.value = getString(*c, DCM_URNCodeValue);
  return code;
}

std::string decimalString(double value) {
  char buf[32];
  for (int precision = 15; precision > 0; --precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strlen(buf) <= 16) return buf;
  }
  return "0";
}

}  // namespace annot
