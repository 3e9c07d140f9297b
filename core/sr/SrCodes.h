#pragma once
// Coded concepts fixed by the TID 1500 family of templates. Viewers match several of them by
// Code Meaning text, so the DCM meanings are the standard's, verbatim.
#include "annotation/Code.h"

namespace annot::sr_codes {
inline const Code ImagingMeasurementReport{"126000", "DCM", "Imaging Measurement Report"};
inline const Code ImageLibrary{"111028", "DCM", "Image Library"};
inline const Code ImagingMeasurements{"126010", "DCM", "Imaging Measurements"};
inline const Code MeasurementGroup{"125007", "DCM", "Measurement Group"};
inline const Code TrackingIdentifier{"112039", "DCM", "Tracking Identifier"};
inline const Code TrackingUniqueIdentifier{"112040", "DCM", "Tracking Unique Identifier"};
inline const Code Finding{"121071", "DCM", "Finding"};
inline const Code FindingSite{"363698007", "SCT", "Finding Site"};
inline const Code FindingSiteSrt{"G-C0E3", "SRT", "Finding Site"};  // older SRs
inline const Code ImageRegion{"111030", "DCM", "Image Region"};
inline const Code Center{"111010", "DCM", "Center"};
inline const Code GeometricPurposeOfRegion{"130400", "DCM", "Geometric purpose of region"};
inline const Code BoundedBy{"75958009", "SCT", "Bounded by"};
inline const Code QualitativeEvaluations{"C0034375", "UMLS", "Qualitative Evaluations"};
inline const Code Comment{"121106", "DCM", "Comment"};
// TID 4019 Algorithm Identification: which algorithm made a measurement group's content.
inline const Code AlgorithmName{"111001", "DCM", "Algorithm Name"};
inline const Code AlgorithmVersion{"111003", "DCM", "Algorithm Version"};
inline const Code ProcedureReported{"121058", "DCM", "Procedure reported"};
}  // namespace annot::sr_codes
