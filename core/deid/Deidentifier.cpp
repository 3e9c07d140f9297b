#include "deid/Deidentifier.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <set>
#include <stdexcept>

#include "common/Digest.h"

namespace annot::deid {
namespace {
// What Annex E does to the attributes the node's data carries, for this profile and options:
// Z = emptied, D = a dummy value (where the attribute is Type 1), X = removed. Patient characteristics (sex, age, size, weight...)
// are kept; UIDs (U) are handled by value type; patient ID and name get the pseudonym.
using Action = Deidentifier::Treatment;
const char* dummyFor(const DcmTagKey& tag) {
  if (tag == DCM_ContentDate || tag == DCM_Date) return "19000101";
  if (tag == DCM_ContentTime || tag == DCM_Time) return "000000";
  return "19000101000000";  // DateTime
}
const std::map<DcmTagKey, Action>& actions() {
  static const std::map<DcmTagKey, Action> table = {
      {DCM_AccessionNumber, Action::Empty},          {DCM_PatientBirthDate, Action::Empty},
      {DCM_ReferringPhysicianName, Action::Empty},   {DCM_StudyID, Action::Empty},
      {DCM_StudyDate, Action::Empty},                {DCM_StudyTime, Action::Empty},
      {DCM_ContentCreatorName, Action::Empty},       {DCM_IssuerOfPatientID, Action::Remove},
      {DCM_SeriesDate, Action::Remove},              {DCM_SeriesTime, Action::Remove},
      {DCM_AcquisitionDate, Action::Remove},         {DCM_AcquisitionTime, Action::Remove},
      {DCM_AcquisitionDateTime, Action::Remove},     {DCM_ContentDate, Action::Dummy},
      {DCM_ContentTime, Action::Dummy},              {DCM_InstanceCreationDate, Action::Remove},
      {DCM_InstanceCreationTime, Action::Remove},    {DCM_InstitutionName, Action::Remove},
      {DCM_InstitutionAddress, Action::Remove},      {DCM_InstitutionalDepartmentName, Action::Remove},
      {DCM_StationName, Action::Remove},             {DCM_DeviceSerialNumber, Action::Remove},
      {DCM_OperatorsName, Action::Remove},           {DCM_PerformingPhysicianName, Action::Remove},
      {DCM_NameOfPhysiciansReadingStudy, Action::Remove}, {DCM_PhysiciansOfRecord, Action::Remove},
      {DCM_RequestingPhysician, Action::Remove},     {DCM_StudyDescription, Action::Remove},
      {DCM_SeriesDescription, Action::Remove},       {DCM_ImageComments, Action::Remove},
      {DCM_PatientAddress, Action::Remove},          {DCM_PatientTelephoneNumbers, Action::Remove},
      {DCM_RETIRED_OtherPatientIDs, Action::Remove},         {DCM_OtherPatientNames, Action::Remove},
      {DCM_OtherPatientIDsSequence, Action::Remove}, {DCM_PatientBirthName, Action::Remove},
      {DCM_PatientMotherBirthName, Action::Remove},  {DCM_RETIRED_MedicalRecordLocator, Action::Remove},
      {DCM_PatientComments, Action::Remove},         {DCM_AdditionalPatientHistory, Action::Remove},
      {DCM_PatientBirthTime, Action::Remove},        {DCM_RequestedProcedureDescription, Action::Remove},
      {DCM_PerformedProcedureStepDescription, Action::Remove}, {DCM_PerformedProcedureStepStartDate, Action::Remove},
      {DCM_PerformedProcedureStepStartTime, Action::Remove},   {DCM_PerformedProcedureStepID, Action::Remove},
      {DCM_RequestAttributesSequence, Action::Remove},         {DCM_ReferencedPatientSequence, Action::Remove},
      {DCM_ReferencedStudySequence, Action::Remove},           {DCM_AdmittingDiagnosesDescription, Action::Remove},
      {DCM_ProtocolName, Action::Remove},            {DCM_DerivationDescription, Action::Remove},
      {DCM_InstitutionCodeSequence, Action::Remove}, {DCM_ReferringPhysicianIdentificationSequence, Action::Remove},
      {DCM_VerifyingOrganization, Action::Remove},   {DCM_ContentCreatorIdentificationCodeSequence, Action::Remove},
      {DCM_InstanceCreatorUID, Action::Remove},      {DCM_SourceApplicationEntityTitle, Action::Remove},
      {DCM_ObservationDateTime, Action::Remove},     {DCM_VerificationDateTime, Action::Remove},
      {DCM_Date, Action::Dummy},                     {DCM_Time, Action::Dummy},
      {DCM_DateTime, Action::Dummy},
  };
  return table;
}

// Decimal digits of a big-endian unsigned number.
std::string toDecimal(std::vector<unsigned char> bytes) {
  std::string digits;
  while (std::any_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b != 0; })) {
    unsigned remainder = 0;
    for (auto& b : bytes) {
      const unsigned value = (remainder << 8) | b;
      b = static_cast<unsigned char>(value / 10);
      remainder = value % 10;
    }
    digits.insert(digits.begin(), static_cast<char>('0' + remainder));
  }
  return digits.empty() ? "0" : digits;
}

std::string valueOf(DcmElement& e) {
  OFString v;
  e.getOFStringArray(v);
  return v.c_str();
}
}  // namespace

bool isWellKnownUid(const std::string& uid) { return uid.rfind("1.2.840.10008.", 0) == 0; }

Deidentifier::Deidentifier(StateDatabase& db) : db_(db) {
  key_ = db_.with([](sqlite::Database& d) {
    auto st = d.prepare("SELECT secret FROM deid_key WHERE id = 1");
    if (st.step()) return st.text(0);
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for the de-identification key");
    const std::string secret = toHex(bytes, sizeof bytes);
    d.prepare("INSERT INTO deid_key(id, secret) VALUES(1, ?)").bind(1, secret).run();
    return secret;
  });
}

std::string Deidentifier::hmac(const std::string& message) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(message.data()), message.size(), out,
       &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

Deidentifier::Treatment Deidentifier::treatmentOf(uint16_t group, uint16_t element) {
  if (group % 2 == 1) return Treatment::Remove;  // private attributes (no Retain Safe Private option)
  const auto found = actions().find(DcmTagKey(group, element));
  return found == actions().end() ? Treatment::Keep : found->second;
}

std::string Deidentifier::uid(const std::string& original) {
  if (original.empty() || isWellKnownUid(original)) return original;
  const std::string digest = hmac("uid:" + original);
  // 2.25 followed by a 122-bit number (PS3.5 B.2), as UUID-derived UIDs are.
  std::vector<unsigned char> number(digest.begin(), digest.begin() + 16);
  number[0] &= 0x03;
  const std::string mapped = "2.25." + toDecimal(number);
  if (recorded_.get(mapped)) return mapped;
  db_.with([&](sqlite::Database& d) {
    d.prepare("INSERT OR IGNORE INTO deid_uids(deidentified, original) VALUES(?, ?)").bind(1, mapped).bind(2, original).run();
  });
  recorded_.put(mapped, true);
  return mapped;
}

std::optional<std::string> Deidentifier::original(const std::string& deidentified) {
  return db_.with([&](sqlite::Database& d) -> std::optional<std::string> {
    auto st = d.prepare("SELECT original FROM deid_uids WHERE deidentified = ?");
    st.bind(1, deidentified);
    if (!st.step()) return std::nullopt;
    return st.text(0);
  });
}

std::string Deidentifier::pseudonym(const std::string& patientId, const std::string& issuer) {
  const std::string digest = hmac("patient:" + issuer + "|" + patientId);
  return "ANON-" + toHex(reinterpret_cast<const unsigned char*>(digest.data()), 6);
}

void Deidentifier::cleanItem(DcmItem& item, bool structuredContent) {
  for (unsigned long i = item.card(); i-- > 0;) {
    DcmElement* e = item.getElement(i);
    const DcmTagKey tag = e->getTag();
    const Treatment treatment = treatmentOf(tag.getGroup(), tag.getElement());
    if (treatment == Treatment::Remove) {
      delete item.remove(e);
      continue;
    }
    if (treatment != Treatment::Keep) {
      if (treatment == Treatment::Dummy) e->putString(dummyFor(tag));
      else e->clear();
      continue;
    }
    if (e->ident() == EVR_SQ) {
      auto* sequence = static_cast<DcmSequenceOfItems*>(e);
      for (unsigned long k = 0; k < sequence->card(); ++k) cleanItem(*sequence->getItem(k), structuredContent);
      continue;
    }
    if (e->ident() == EVR_UI) {
      // Every value of a multi-valued UID attribute is remapped on its own.
      const std::string value = valueOf(*e);
      std::string mapped;
      size_t start = 0;
      while (start <= value.size()) {
        const size_t end = std::min(value.find('\\', start), value.size());
        mapped += (start ? "\\" : "") + uid(value.substr(start, end - start));
        start = end + 1;
      }
      if (!value.empty()) e->putString(mapped.c_str());
      continue;
    }
    if (structuredContent && e->ident() == EVR_PN) {
      // Person names inside SR content (observers, PNAME items) are people, not findings.
      e->putString("ANONYMIZED");
    }
  }
}

void Deidentifier::apply(DcmFileFormat& file) {
  DcmDataset& ds = *file.getDataset();
  OFString patientId, issuer;
  ds.findAndGetOFString(DCM_PatientID, patientId);
  ds.findAndGetOFString(DCM_IssuerOfPatientID, issuer);
  const std::string alias = pseudonym(patientId.c_str(), issuer.c_str());
  cleanItem(ds, /*structuredContent=*/true);
  // Patient identity after the clean, so the pseudonym is not overwritten.
  ds.putAndInsertString(DCM_PatientID, alias.c_str());
  ds.putAndInsertString(DCM_PatientName, alias.c_str());
  ds.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
  ds.putAndInsertString(DCM_DeidentificationMethod, kMethod);
  ds.findAndDeleteElement(DCM_DeidentificationMethodCodeSequence);
  for (const auto& [value, meaning] : {std::pair{"113100", "Basic Application Confidentiality Profile"},
                                       std::pair{"113108", "Retain Patient Characteristics Option"},
                                       std::pair{"113104", "Clean Structured Content Option"}}) {
    DcmItem* code = nullptr;
    if (ds.findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, code, -2).good() && code) {
      code->putAndInsertString(DCM_CodeValue, value);
      code->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
      code->putAndInsertString(DCM_CodeMeaning, meaning);
    }
  }
  // The meta header follows the dataset's (new) SOP Instance UID.
  DcmMetaInfo& meta = *file.getMetaInfo();
  meta.findAndDeleteElement(DCM_MediaStorageSOPInstanceUID);
  meta.findAndDeleteElement(DCM_SourceApplicationEntityTitle);
}

}  // namespace annot::deid
