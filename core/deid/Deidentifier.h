#pragma once
// The researcher view: PS3.15 Annex E Basic Application Level Confidentiality Profile with the
// Retain Patient Characteristics and Clean Structured Content options, applied on the fly to
// search answers and retrieved instances. UIDs are remapped consistently (a keyed hash, so the
// same UID always maps to the same 2.25 UID and SR/SEG references still resolve); the reverse
// map is kept so researchers can use the UIDs they were given. Patient IDs and names become a
// stable pseudonym. The key never leaves the state database.
#include <cstdint>
#include <optional>
#include <string>

#include "common/LruCache.h"
#include "state/StateDatabase.h"

class DcmFileFormat;
class DcmItem;

namespace annot::deid {

class Deidentifier {
 public:
  explicit Deidentifier(StateDatabase& db);

  // The de-identified UID for an original one (recorded for the way back).
  std::string uid(const std::string& original);
  // The original of a UID handed out by uid(); nothing when it was never handed out.
  std::optional<std::string> original(const std::string& deidentified);
  // A stable pseudonym for a patient ("ANON-" + 12 hex digits).
  std::string pseudonym(const std::string& patientId, const std::string& issuer);

  // A free text (an error message, say) with every UID in it that the standard does not define,
  // and that is not already one handed out here, replaced by its de-identified UID.
  std::string text(const std::string& message);

  // De-identifies a whole file (meta header included) in place.
  void apply(DcmFileFormat& file);

  // What the profile does to one attribute, apart from UIDs (remapped by value type) and the
  // patient's ID and name (the pseudonym). Search answers and files use the same table.
  enum class Treatment { Keep, Empty, Dummy, Remove };
  static Treatment treatmentOf(uint16_t group, uint16_t element);

  // De-identification Method (LO, one value per part of the profile, each within 64 characters).
  static constexpr const char* kMethod = "PS3.15 E.1 Basic Profile\\Retain Patient Characteristics Option\\Clean Structured Content Option";

 private:
  void cleanItem(DcmItem& item, bool structuredContent);
  std::string hmac(const std::string& message) const;  // raw HMAC-SHA-256 bytes

  StateDatabase& db_;
  std::string key_;
  // UIDs whose way back is already recorded, so a busy search does not write each one on every
  // answer. Bounded: a forgotten one costs one INSERT OR IGNORE the next time it is seen.
  LruCache<std::string, bool> recorded_{100000};
};

// Whether a UID is one the standard defines (SOP classes, transfer syntaxes, coding schemes):
// those identify nothing and are never remapped.
bool isWellKnownUid(const std::string& uid);

}  // namespace annot::deid
