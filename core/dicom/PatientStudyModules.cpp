#include "dicom/PatientStudyModules.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <stdexcept>
#include <string>

#include "dicom/DatasetAccess.h"

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
}  // namespace

void copyPatientAndStudyModules(const DcmItem& source, DcmItem& target) {
  DcmItem& src = const_cast<DcmItem&>(source);
  // The modules are gathered in a dataset of their own: DCMTK converts the character set of a
  // dataset (a bare item has no Specific Character Set of its own to convert from).
  DcmDataset modules;
  for (const DcmTagKey& tag : kModuleTags) {
    DcmElement* element = nullptr;
    if (src.findAndGetElement(tag, element).bad() || !element) continue;
    DcmElement* copy = OFstatic_cast(DcmElement*, element->clone());
    if (modules.insert(copy, /*replaceOld=*/OFTrue).bad()) delete copy;
  }
  const std::string charset = getString(src, DCM_SpecificCharacterSet);
  if (!charset.empty()) modules.putAndInsertString(DCM_SpecificCharacterSet, charset.c_str());
  // The copy is declared UTF-8: bytes in another character set would change the patient's name.
  const std::string failure = convertToUtf8(modules);
  if (!failure.empty()) throw std::runtime_error("patient and study attributes of the source: " + failure);
  delete modules.remove(DCM_SpecificCharacterSet);
  while (DcmElement* element = modules.remove(OFstatic_cast(unsigned long, 0))) {
    if (target.insert(element, /*replaceOld=*/OFTrue).bad()) delete element;
  }
}

}  // namespace annot
