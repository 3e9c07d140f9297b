#pragma once
// Copies the Patient, General Study and Patient Study modules from a source image into a
// derived object (SR, SEG), so the derived object files under the same patient and study in
// every PACS. Identity is never invented: what the source lacks stays absent (or empty where
// the target IOD makes it type 2).
class DcmItem;

namespace annot {
// Values are copied as they are; when the source's Specific Character Set is not UTF-8 (or
// plain ASCII), they are transcoded to UTF-8. The target must declare ISO_IR 192.
void copyPatientAndStudyModules(const DcmItem& source, DcmItem& target);
}  // namespace annot
