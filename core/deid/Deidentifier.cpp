#include "deid/Deidentifier.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

#include "common/Digest.h"
#include "dicom/Uid.h"

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
  // PS3.15 Table E.1-1, the attributes of its Basic Profile column that are not UIDs (remapped
  // by value representation) and not kept by the Retain Patient Characteristics option (sex,
  // age, size, weight, ethnic group, smoking and pregnancy status, sex neutered). Where the
  // table leaves a choice (X/Z, X/D, Z/D), the attribute is removed unless an IOD needs it
  // present. Repeating groups (curves, overlays) and private groups are in treatmentOf().
  static const std::map<DcmTagKey, Action> table = [] {
    std::map<DcmTagKey, Action> t;
    // Type 2 in the IODs the node serves: present, but empty.
    for (const DcmTagKey& tag :
         {DCM_AccessionNumber, DCM_PatientBirthDate, DCM_ReferringPhysicianName, DCM_StudyID, DCM_StudyDate,
          DCM_StudyTime, DCM_ContentCreatorName, DCM_PlacerOrderNumberImagingServiceRequest,
          DCM_FillerOrderNumberImagingServiceRequest, DCM_ContrastBolusAgent, DCM_VerifyingObserverIdentificationCodeSequence,
          DCM_ReferencedPerformedProcedureStepSequence}) {
      t[tag] = Action::Empty;
    }
    // Type 1 where present (SR content dates, verifying observers): a dummy value.
    for (const DcmTagKey& tag : {DCM_ContentDate, DCM_ContentTime, DCM_Date, DCM_Time, DCM_DateTime}) t[tag] = Action::Dummy;
    for (const DcmTagKey& tag : {
             // patient
             DCM_IssuerOfPatientID, DCM_IssuerOfPatientIDQualifiersSequence, DCM_PatientBirthTime,
             DCM_PatientBirthDateInAlternativeCalendar, DCM_PatientDeathDateInAlternativeCalendar,
             DCM_PatientAlternativeCalendar, DCM_RETIRED_OtherPatientIDs, DCM_OtherPatientNames,
             DCM_OtherPatientIDsSequence, DCM_PatientBirthName, DCM_PatientMotherBirthName, DCM_PatientAddress,
             DCM_PatientTelephoneNumbers, DCM_PatientTelecomInformation, DCM_RETIRED_MedicalRecordLocator,
             DCM_PatientComments, DCM_AdditionalPatientHistory, DCM_ReferencedPatientSequence,
             DCM_ReferencedPatientAliasSequence, DCM_ReferencedPatientPhotoSequence, DCM_PatientReligiousPreference,
             DCM_MilitaryRank, DCM_BranchOfService, DCM_CountryOfResidence, DCM_RegionOfResidence,
             DCM_PatientInsurancePlanCodeSequence, DCM_RETIRED_InsurancePlanIdentification,
             DCM_PatientPrimaryLanguageCodeSequence, DCM_Occupation, DCM_Allergies, DCM_MedicalAlerts,
             DCM_SpecialNeeds, DCM_PatientState, DCM_LastMenstrualDate, DCM_ResponsiblePerson,
             DCM_ResponsibleOrganization, DCM_PatientTransportArrangements,
             DCM_ConfidentialityConstraintOnPatientDataDescription, DCM_SourcePatientGroupIdentificationSequence,
             DCM_GroupOfPatientsIdentificationSequence,
             // visit and admission
             DCM_AdmissionID, DCM_IssuerOfAdmissionIDSequence, DCM_AdmittingDate, DCM_AdmittingTime,
             DCM_AdmittingDiagnosesDescription, DCM_AdmittingDiagnosesCodeSequence, DCM_CurrentPatientLocation,
             DCM_PatientInstitutionResidence, DCM_RETIRED_ScheduledPatientInstitutionResidence, DCM_VisitComments,
             DCM_ServiceEpisodeID, DCM_IssuerOfServiceEpisodeIDSequence, DCM_ServiceEpisodeDescription,
             DCM_RETIRED_DischargeDiagnosisDescription,
             // people and organisations
             DCM_InstitutionName, DCM_InstitutionAddress, DCM_InstitutionalDepartmentName, DCM_InstitutionCodeSequence,
             DCM_ReferringPhysicianAddress, DCM_ReferringPhysicianTelephoneNumbers,
             DCM_ReferringPhysicianIdentificationSequence, DCM_ConsultingPhysicianName,
             DCM_ConsultingPhysicianIdentificationSequence, DCM_PhysiciansOfRecord,
             DCM_PhysiciansOfRecordIdentificationSequence, DCM_NameOfPhysiciansReadingStudy,
             DCM_PhysiciansReadingStudyIdentificationSequence, DCM_PerformingPhysicianName,
             DCM_PerformingPhysicianIdentificationSequence, DCM_OperatorsName, DCM_OperatorIdentificationSequence,
             DCM_RequestingPhysician, DCM_RequestingService, DCM_PersonAddress, DCM_PersonTelephoneNumbers,
             DCM_PersonTelecomInformation, DCM_VerifyingOrganization, DCM_ContentCreatorIdentificationCodeSequence,
             DCM_AuthorObserverSequence, DCM_ParticipantSequence, DCM_CustodialOrganizationSequence,
             DCM_ReviewerName, DCM_HumanPerformerName, DCM_HumanPerformerOrganization,
             DCM_ActualHumanPerformersSequence, DCM_ScheduledHumanPerformersSequence,
             DCM_ScheduledPerformingPhysicianName, DCM_IntendedRecipientsOfResultsIdentificationSequence,
             DCM_NamesOfIntendedRecipientsOfResults, DCM_RETIRED_ResultsDistributionListSequence,
             DCM_RETIRED_DistributionName, DCM_RETIRED_DistributionAddress,
             // order, request and procedure steps
             DCM_RequestAttributesSequence, DCM_RequestedProcedureID, DCM_RequestedProcedureDescription,
             DCM_RequestedProcedureComments, DCM_RequestedProcedureLocation, DCM_RequestedContrastAgent,
             DCM_ReasonForTheRequestedProcedure, DCM_RETIRED_ReasonForStudy,
             DCM_RETIRED_ReasonForTheImagingServiceRequest, DCM_ImagingServiceRequestComments, DCM_OrderEnteredBy,
             DCM_OrderEntererLocation, DCM_OrderCallbackPhoneNumber, DCM_IssuerOfAccessionNumberSequence,
             DCM_RETIRED_StudyIDIssuer, DCM_ReferencedStudySequence,
             DCM_ScheduledProcedureStepStartDate, DCM_ScheduledProcedureStepStartTime,
             DCM_ScheduledProcedureStepEndDate, DCM_ScheduledProcedureStepEndTime,
             DCM_ScheduledProcedureStepDescription, DCM_ScheduledProcedureStepLocation, DCM_ScheduledStationName,
             DCM_ScheduledStationAETitle, DCM_ScheduledStationNameCodeSequence,
             DCM_ScheduledStationGeographicLocationCodeSequence, DCM_RETIRED_ScheduledStudyLocation,
             DCM_RETIRED_ScheduledStudyLocationAETitle, DCM_PerformedProcedureStepID,
             DCM_PerformedProcedureStepDescription, DCM_PerformedProcedureStepStartDate,
             DCM_PerformedProcedureStepStartTime, DCM_PerformedProcedureStepEndDate,
             DCM_PerformedProcedureStepEndTime, DCM_CommentsOnThePerformedProcedureStep, DCM_PerformedStationName,
             DCM_PerformedStationAETitle, DCM_PerformedLocation, DCM_PerformedStationNameCodeSequence,
             DCM_PerformedStationGeographicLocationCodeSequence,
             // study, series and equipment
             DCM_StudyDescription, DCM_SeriesDescription, DCM_RETIRED_StudyComments, DCM_SeriesDate, DCM_SeriesTime,
             DCM_AcquisitionDate, DCM_AcquisitionTime, DCM_AcquisitionDateTime, DCM_StartAcquisitionDateTime,
             DCM_EndAcquisitionDateTime, DCM_FrameAcquisitionDateTime, DCM_FrameReferenceDateTime,
             DCM_InstanceCreationDate, DCM_InstanceCreationTime, DCM_TimezoneOffsetFromUTC,
             DCM_RETIRED_StudyArrivalDate, DCM_RETIRED_StudyArrivalTime, DCM_RETIRED_StudyCompletionDate,
             DCM_RETIRED_StudyCompletionTime, DCM_RETIRED_StudyReadDate, DCM_RETIRED_StudyReadTime,
             DCM_RETIRED_StudyVerifiedDate, DCM_RETIRED_StudyVerifiedTime, DCM_DateOfLastCalibration,
             DCM_TimeOfLastCalibration, DCM_DateOfSecondaryCapture, DCM_TimeOfSecondaryCapture,
             DCM_DateOfLastDetectorCalibration, DCM_TimeOfLastDetectorCalibration, DCM_RadiopharmaceuticalStartTime,
             DCM_RadiopharmaceuticalStopTime, DCM_RadiopharmaceuticalStartDateTime,
             DCM_RadiopharmaceuticalStopDateTime, DCM_ProtocolName, DCM_StationName, DCM_DeviceSerialNumber,
             DCM_DeviceDescription, DCM_LongDeviceDescription, DCM_DetectorID, DCM_GantryID, DCM_GeneratorID,
             DCM_PlateID, DCM_CassetteID, DCM_RETIRED_ModifyingDeviceID, DCM_RETIRED_ModifyingDeviceManufacturer,
             DCM_RETIRED_ModifiedImageDescription, DCM_AcquisitionDeviceProcessingDescription,
             DCM_SourceApplicationEntityTitle,
             // free text and comments
             DCM_ImageComments, DCM_FrameComments, DCM_DerivationDescription, DCM_RETIRED_AcquisitionComments,
             DCM_RETIRED_ImagePresentationComments, DCM_RETIRED_IdentifyingComments, DCM_RETIRED_TextComments,
             DCM_RETIRED_TopicTitle, DCM_RETIRED_TopicSubject, DCM_RETIRED_TopicAuthor, DCM_RETIRED_TopicKeywords,
             DCM_RETIRED_ResultsComments, DCM_RETIRED_Impressions, DCM_RETIRED_InterpretationText,
             // what would carry the original values or sign them
             DCM_OriginalAttributesSequence, DCM_ModifiedAttributesSequence, DCM_DigitalSignaturesSequence,
             DCM_MACParametersSequence, DCM_ReferencedDigitalSignatureSequence, DCM_ReferencedSOPInstanceMACSequence,
             DCM_DataSetTrailingPadding, DCM_IconImageSequence, DCM_InstanceCreatorUID, DCM_ObservationDateTime,
             DCM_VerificationDateTime,
             // An encapsulated PDF or CDA document is text that names its patient, and no profile
             // option cleans it: the view withholds the document (its other attributes stay).
             DCM_EncapsulatedDocument}) {
      t[tag] = Action::Remove;
    }
    return t;
  }();
  return table;
}


std::string valueOf(DcmElement& e) {
  OFString v;
  e.getOFStringArray(v);
  return v.c_str();
}
}  // namespace

bool isWellKnownUid(const std::string& uid) { return uid.rfind("1.2.840.10008.", 0) == 0; }

Deidentifier::Deidentifier(StateDatabase& db) : db_(db) {
  key_ = db_.withAny([](auto& d) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for the de-identification key");
    // The first node to record a key gives it to all: pseudonyms agree whichever node answers.
    d.prepare("INSERT INTO deid_key(id, secret) VALUES(1, ?) ON CONFLICT(id) DO NOTHING").bind(1, toHex(bytes, sizeof bytes)).run();
    auto st = d.prepare("SELECT secret FROM deid_key WHERE id = 1");
    st.step();
    return st.text(0);
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
  // Curves (50xx, retired) and overlays (60xx): Annex E removes their data and comments, which
  // can hold burned-in text; the whole optional module goes so no overlay is left without data.
  if ((group & 0xFF00) == 0x5000 || (group & 0xFF00) == 0x6000) return Treatment::Remove;
  const auto found = actions().find(DcmTagKey(group, element));
  return found == actions().end() ? Treatment::Keep : found->second;
}

std::string Deidentifier::uid(const std::string& original) {
  if (original.empty() || isWellKnownUid(original)) return original;
  const std::string mapped = uidFromDigest(hmac("uid:" + original));
  if (recorded_.get(mapped)) return mapped;
  db_.withAny([&](auto& d) {
    d.prepare("INSERT INTO deid_uids(deidentified, original) VALUES(?, ?) ON CONFLICT DO NOTHING").bind(1, mapped).bind(2, original).run();
  });
  recorded_.put(mapped, true);
  return mapped;
}

std::string Deidentifier::text(const std::string& message) {
  // A UID candidate: a run of digits and dots that starts a word, less a sentence's full stop.
  auto uidChar = [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) || ch == '.'; };
  std::string out;
  size_t i = 0;
  while (i < message.size()) {
    const bool starts = uidChar(message[i]) && (i == 0 || !(std::isalnum(static_cast<unsigned char>(message[i - 1])) || message[i - 1] == '.'));
    if (!starts) {
      out += message[i++];
      continue;
    }
    size_t end = i;
    while (end < message.size() && uidChar(message[end])) ++end;
    std::string token = message.substr(i, end - i);
    while (!token.empty() && token.back() == '.') token.pop_back();
    if (token.empty()) token = message.substr(i, 1);  // a lone full stop
    // Numbers and versions ("3", "3.6") are not UIDs; a UID has at least three components.
    const bool uidLike = std::count(token.begin(), token.end(), '.') >= 2 && isValidUid(token);
    out += uidLike && !original(token) ? uid(token) : token;
    i += token.size();
  }
  return out;
}

std::optional<std::string> Deidentifier::original(const std::string& deidentified) {
  return db_.withAny([&](auto& d) -> std::optional<std::string> {
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
