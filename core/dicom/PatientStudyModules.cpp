#include "dicom/PatientStudyModules.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <memory>

namespace annot {
namespace {
// PS3.3 C.7.1.1 Patient, C.7.2.1 General Study, C.7.2.2 Patient Study (attributes an image
// may carry; sequences are copied whole).
const DcmTagKey kModuleTags[] = {
    // Patient
    DCM_PatientName, DCM_PatientID, DCM_IssuerOfPatientID, DCM_IssuerOfPatientIDQualifiersSequence,
    DCM_TypeOfPatientID, DCM_PatientBirthDate, DCM_PatientBirthTime, DCM_PatientSex, DCM_QualityControlSubject,
    DCM_ReferencedPatientSequence, DCM_OtherPatientIDsSequence, DCM_OtherPatientNames, DCM_EthnicGroup,
    DCM_PatientComments, DCM_PatientSpeciesDescription, DCM_PatientSpeciesCodeSequence, DCM_PatientBreedDescription,
    DCM_PatientBreedCodeSequence, DCM_BreedRegistrationSequence, DCM_ResponsiblePerson, DCM_ResponsiblePersonRole,
    DCM_ResponsibleOrganization, DCM_PatientIdentityRemoved, DCM_DeidentificationMethod,
    DCM_DeidentificationMethodCodeSequence,
    // General Study
    DCM_StudyInstanceUID, DCM_StudyDate, DCM_StudyTime, DCM_ReferringPhysicianName,
    DCM_ReferringPhysicianIdentificationSequence, DCM_ConsultingPhysicianName, DCM_StudyID, DCM_AccessionNumber,
    DCM_IssuerOfAccessionNumberSequence, DCM_StudyDescription, DCM_PhysiciansOfRecord, DCM_NameOfPhysiciansReadingStudy,
    DCM_RequestingService, DCM_ReferencedStudySequence, DCM_ProcedureCodeSequence, DCM_ReasonForPerformedProcedureCodeSequence,
    // Patient Study
    DCM_AdmittingDiagnosesDescription, DCM_AdmittingDiagnosesCodeSequence, DCM_PatientAge, DCM_PatientSize,
    DCM_PatientWeight, DCM_PatientBodyMassIndex, DCM_Occupation, DCM_AdditionalPatientHistory, DCM_AdmissionID,
    DCM_IssuerOfAdmissionIDSequence, DCM_PatientSexNeutered, DCM_SmokingStatus, DCM_PregnancyStatus,
    DCM_LastMenstrualDate, DCM_PatientState,
};

bool isUtf8Compatible(const OFString& charset) {
  return charset.empty() || charset == "ISO_IR 192" || charset == "ISO_IR 6";
}
}  // namespace

void copyPatientAndStudyModules(const DcmItem& source, DcmItem& target) {
  DcmItem& src = const_cast<DcmItem&>(source);
  OFString charset;
  src.findAndGetOFStringArray(DCM_SpecificCharacterSet, charset);
  std::unique_ptr<DcmItem> converted;
  DcmItem* from = &src;
  if (!isUtf8Compatible(charset)) {
    converted.reset(new DcmItem(src));
    if (converted->convertToUTF8().good()) from = converted.get();
  }
  for (const DcmTagKey& tag : kModuleTags) {
    DcmElement* element = nullptr;
    if (from->findAndGetElement(tag, element).bad() || !element) continue;
    DcmElement* copy = OFstatic_cast(DcmElement*, element->clone());
    if (target.insert(copy, /*replaceOld=*/OFTrue).bad()) delete copy;
  }
}

}  // namespace annot
