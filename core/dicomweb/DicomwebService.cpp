#include "dicomweb/DicomwebService.h"

#include <dcmtk/dcmsr/dsrtypes.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcjson.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmimgle/dcmimage.h>  // before the plugin header, which needs its export macros
#include <dcmtk/dcmimage/dipipng.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <sstream>

#include "dicom/Codecs.h"
#include "dicom/DatasetAccess.h"
#include "dicom/EncapsulatedFrames.h"
#include "dicom/InstanceHeader.h"
#include "dicom/Part10.h"
#include "dicom/SourceImages.h"
#include "dicom/Uid.h"

namespace annot::dicomweb {
namespace {
using nlohmann::json;
// Stands for the request's base URL in cached metadata (hosts differ between requests).
constexpr const char* kBasePlaceholder = "@@ANNOTATION-DICOMWEB-BASE@@";

// The attributes metadata gives as BulkDataURIs (.../bulkdata/{tag}), each served by bulkData().
const DcmTagKey kBulkDataTags[] = {DCM_PixelData, DCM_FloatPixelData, DCM_DoubleFloatPixelData, DCM_EncapsulatedDocument};

bool isBulkDataTag(const DcmTagKey& tag) { return std::find(std::begin(kBulkDataTags), std::end(kBulkDataTags), tag) != std::end(kBulkDataTags); }

std::string bulkDataTagText(const DcmTagKey& tag) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "%04X%04X", tag.getGroup(), tag.getElement());
  return hex;
}

// DCMTK's JSON writer with pixel data (and other bulk payloads) as BulkDataURIs.
class BulkDataJson : public DcmJsonFormatCompact {
 public:
  explicit BulkDataJson(std::string uriPrefix) : DcmJsonFormatCompact(OFFalse), prefix_(std::move(uriPrefix)) {}
  OFBool asBulkDataURI(const DcmTagKey& tag, OFString& uri) override {
    if (!isBulkDataTag(tag)) return OFFalse;
    uri = (prefix_ + bulkDataTagText(tag)).c_str();
    return OFTrue;
  }

 private:
  std::string prefix_;
};

bool emptyOrUid(const std::string& uid) { return uid.empty() || isValidUid(uid); }

}  // namespace

std::string DicomwebService::retrieveUrl(const std::string& base, const StoredInstance& i) {
  return base + "/studies/" + i.studyUid + "/series/" + i.seriesUid + "/instances/" + i.sopUid;
}

json DicomwebService::search(Level level, const std::string& studyUid, const std::string& seriesUid,
                             const std::multimap<std::string, std::string>& requested, const std::string& base, bool deidentified,
                             std::vector<std::string>* ignoredKeys) {
  if (!emptyOrUid(studyUid) || !emptyOrUid(seriesUid)) return json::array();  // as instances(): not a pattern
  const auto params = deidentified ? researcherQuery(requested) : requested;
  Query q;
  try {
    q = parseQuery(level, params);
    q.onlyStudies = labels_.matchingStudies(params);
  } catch (const QidoError& e) {
    throw DicomwebError(400, e.what());
  }
  q.studyUid = studyUid;
  q.seriesUid = seriesUid;
  if (deidentified) {
    // The de-identified answer always carries what it needs to pseudonymise, and nothing the
    // index does not hold (its de-identification knows the indexed attributes).
    q.includeFields.insert("PatientID");
    q.includeFields.insert("IssuerOfPatientID");
    q.extraIncludeTags.clear();
  }
  if (ignoredKeys) *ignoredKeys = q.ignoredKeys;
  if (q.onlyStudies && q.onlyStudies->empty()) return json::array();  // no study has such labels
  json found = source_.search(q, params);
  const bool summary = LabelFilters::wantsSummary(params);
  auto text = [](const json& item, const char* tag) {
    const auto it = item.find(tag);
    return it != item.end() && it->contains("Value") && !(*it)["Value"].empty() ? (*it)["Value"][0].get<std::string>() : std::string();
  };
  for (auto& item : found) {
    const std::string study = text(item, "0020000D");
    std::string url = base + "/studies/" + study;
    if (level != Level::Study) url += "/series/" + text(item, "0020000E");
    if (level == Level::Instance) url += "/instances/" + text(item, "00080018");
    item["00081190"] = {{"vr", "UR"}, {"Value", {url}}};
    if (summary && level == Level::Study) item["annotation"] = labels_.summary(study);
    if (deidentified) deidentifyAnswer(item, level, base);
  }
  return found;
}

std::vector<StoredInstance> DicomwebService::instances(const std::string& studyUid, const std::string& seriesUid,
                                                       const std::string& sopUid) {
  if (!emptyOrUid(studyUid) || !emptyOrUid(seriesUid) || !emptyOrUid(sopUid)) return {};
  return source_.instances(studyUid, seriesUid, sopUid);
}

bool DicomwebService::loadStored(const std::string& sopInstanceUid, DcmFileFormat& file) {
  if (!isValidUid(sopInstanceUid)) return false;
  const auto found = source_.find(sopInstanceUid);
  if (!found) return false;
  source_.load(*found, file, false);
  return true;
}

std::string DicomwebService::metadata(const StoredInstance& instance, const std::string& base, bool deidentified) {
  const std::string cacheKey = (deidentified ? "deid:" : "") + instance.sopUid;
  std::string cached = metadataCache_.get(cacheKey).value_or("");
  if (cached.empty()) {
    DcmFileFormat file;
    source_.load(instance, file, true);  // bulk values become BulkDataURIs
    if (deidentified) {
      file.loadAllDataIntoMemory();
      deid_.apply(file);
    }
    // DICOM JSON is UTF-8 (PS3.18 F.2); files in another character set are converted first.
    const std::string failure = convertToUtf8(*file.getDataset());
    if (!failure.empty()) throw std::runtime_error(instance.sopUid + ": " + failure);
    BulkDataJson format(viewUrl(kBasePlaceholder, instance, deidentified) + "/bulkdata/");
    std::ostringstream out;
    // DCMTK writes the dataset's members; the object braces are the caller's.
    out << '{';
    const OFCondition written = file.getDataset()->writeJson(out, format);
    if (written.bad()) throw std::runtime_error("cannot express " + instance.sopUid + " as JSON: " + written.text());
    out << '}';
    cached = out.str();
    metadataCache_.put(cacheKey, cached);
  }
  std::string result;
  result.reserve(cached.size() + 64);
  size_t pos = 0;
  for (;;) {
    const size_t hit = cached.find(kBasePlaceholder, pos);
    result.append(cached, pos, hit == std::string::npos ? std::string::npos : hit - pos);
    if (hit == std::string::npos) break;
    result += base;
    pos = hit + std::strlen(kBasePlaceholder);
  }
  return result;
}

namespace {
// The Pixel Data element of a loaded instance; DicomwebError 404 when it has none.
DcmPixelData& pixelDataOf(const StoredInstance& instance, DcmDataset& dataset) {
  DcmElement* element = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, element).bad() || !element) {
    throw DicomwebError(404, instance.sopUid + " has no pixel data");
  }
  auto* pixels = dynamic_cast<DcmPixelData*>(element);
  if (!pixels) throw std::runtime_error("the pixel data of " + instance.sopUid + " is not stored as pixel data");
  return *pixels;
}

// An image's frame geometry, as its dataset gives it.
struct FrameGeometry {
  Uint16 rows = 0, columns = 0, samples = 1, bits = 0;
  unsigned count = 1;  // Number of Frames, at least 1
};

// The geometry of the frames `numbers` (1-based) name; DicomwebError 404 when the dataset is
// no image or a number names no frame. No numbers: all frames, which `numbers` then lists.
FrameGeometry checkFrameNumbers(const StoredInstance& instance, DcmDataset& ds, std::vector<unsigned>& numbers) {
  FrameGeometry g;
  ds.findAndGetUint16(DCM_Rows, g.rows);
  ds.findAndGetUint16(DCM_Columns, g.columns);
  ds.findAndGetUint16(DCM_SamplesPerPixel, g.samples);
  ds.findAndGetUint16(DCM_BitsAllocated, g.bits);
  if (g.rows == 0 || g.columns == 0 || g.bits == 0) throw DicomwebError(404, instance.sopUid + " is not an image: it has no frames");
  Sint32 count = 1;
  ds.findAndGetSint32(DCM_NumberOfFrames, count);
  g.count = static_cast<unsigned>(std::max<Sint32>(count, 1));
  if (numbers.empty()) {
    for (unsigned n = 1; n <= g.count; ++n) numbers.push_back(n);
  }
  for (unsigned n : numbers) {
    if (n == 0 || n > g.count) {
      throw DicomwebError(404, "frame " + std::to_string(n) + " does not exist (" + instance.sopUid + " has " + std::to_string(g.count) + ")");
    }
  }
  return g;
}

// The stored compressed bytes of each frame named (see checkFrameNumbers()).
std::vector<std::string> storedFrames(const StoredInstance& instance, DcmDataset& ds, std::vector<unsigned> numbers) {
  const unsigned count = checkFrameNumbers(instance, ds, numbers).count;
  try {
    const EncapsulatedFrames stored(ds, ds.getOriginalXfer(), count);
    std::vector<std::string> out;
    for (unsigned n : numbers) out.push_back(stored.frame(n));
    return out;
  } catch (const EncapsulatedFramesError& e) {
    throw DicomwebError(406, "the frames of " + instance.sopUid + " cannot be served as stored: " + e.what() +
                                 "; retrieve the instance with transfer-syntax=*");
  }
}

// Frames (1-based; none named: all of them) as uncompressed bytes in little endian order,
// decoded when stored compressed. DicomwebError 404 for a frame that does not exist or an
// object without any, 406 for pixels that are not whole bytes or a compression no decoder here
// reads.
std::vector<std::string> decodedFrames(const StoredInstance& instance, DcmDataset& ds, std::vector<unsigned> numbers) {
  const FrameGeometry g = checkFrameNumbers(instance, ds, numbers);
  if (g.bits % 8 != 0) throw DicomwebError(406, instance.sopUid + " has " + std::to_string(g.bits) + "-bit pixels; retrieve the instance instead");
  const E_TransferSyntax stored = ds.getOriginalXfer();
  if (DcmXfer(stored).isEncapsulated() && !decodableToExplicitLittle(DcmXfer(stored).getXferID())) {
    throw DicomwebError(406, "the frames of " + instance.sopUid + " are compressed as " + DcmXfer(stored).getXferName() +
                                 ", which this node cannot decode; its frames come as stored with transfer-syntax=*, as does the whole instance");
  }
  DcmPixelData& pixels = pixelDataOf(instance, ds);
  OFString photometric;
  ds.findAndGetOFString(DCM_PhotometricInterpretation, photometric);
  const size_t frameSize = static_cast<size_t>(g.rows) * g.columns * g.samples * (g.bits / 8);
  // DCMTK's decoders find a frame's first fragment only through the offset table or with one
  // fragment per frame; EncapsulatedFrames also finds frames split over fragments without a
  // table. Where it cannot either, DCMTK is left to try (and to say why it fails).
  std::optional<EncapsulatedFrames> layout;
  if (DcmXfer(stored).isEncapsulated()) {
    try {
      layout.emplace(ds, stored, g.count);
    } catch (const EncapsulatedFramesError&) {
    }
  }
  std::vector<std::string> out;
  Uint32 startFragment = 0;  // DCMTK's hint for the next frame of a compressed stream
  unsigned previous = 0;
  for (unsigned n : numbers) {
    if (layout) startFragment = layout->firstFragment(n);
    else if (n != previous + 1) startFragment = 0;  // the hint holds for consecutive frames only
    std::string frame(frameSize + (frameSize & 1), '\0');  // room for DCMTK's even-length copy
    OFString colourModel;
    const OFCondition read = pixels.getUncompressedFrame(&ds, n - 1, startFragment, frame.data(), static_cast<Uint32>(frame.size()), colourModel);
    if (read.bad()) {
      if (DcmXfer(stored).isEncapsulated()) {
        throw DicomwebError(406, "frame " + std::to_string(n) + " of " + instance.sopUid + " cannot be decoded: " + read.text());
      }
      throw std::runtime_error("cannot read frame " + std::to_string(n) + " of " + instance.sopUid + ": " + read.text());
    }
    // A colour JPEG decodes to RGB (or full-resolution YCbCr) while the metadata still names
    // the stored Photometric Interpretation: a viewer would convert the bytes a second time.
    if (!colourModel.empty() && colourModel != photometric) {
      throw DicomwebError(406, "frame " + std::to_string(n) + " of " + instance.sopUid + " decodes to " + colourModel.c_str() +
                                   " while its Photometric Interpretation is " + photometric.c_str() +
                                   "; its frames come as stored with transfer-syntax=*, as does the whole instance");
    }
    frame.resize(frameSize);
    out.push_back(std::move(frame));
    previous = n;
  }
  return out;
}
}  // namespace

DicomwebService::DicomwebService(DicomwebSource& source, StateDatabase& state, Ingest ingest)
    : source_(source), labels_(state), deid_(state), ingest_(std::move(ingest)) {
  registerDecoders();
}

std::string DicomwebService::bulkData(const StoredInstance& instance, const std::string& tagText, bool deidentified) {
  unsigned group = 0, element = 0;
  if (tagText.size() != 8 || tagText.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos ||
      std::sscanf(tagText.c_str(), "%4x%4x", &group, &element) != 2 || !isBulkDataTag(DcmTagKey(group, element))) {
    throw DicomwebError(404, "no bulk data is served under '" + tagText + "': metadata names what is (pixel data 7FE00010, 7FE00008, 7FE00009, "
                                 "encapsulated documents 00420011)");
  }
  const DcmTagKey tag(static_cast<Uint16>(group), static_cast<Uint16>(element));
  // The view withholds what the profile removes (deid::Deidentifier): its metadata has no URI
  // for it, and the URI of the identified view does not open it either.
  if (deidentified && deid::Deidentifier::treatmentOf(tag.getGroup(), tag.getElement()) != deid::Deidentifier::Treatment::Keep) {
    throw DicomwebError(404, instance.sopUid + " has no bulk data " + tagText + " in the de-identified view");
  }
  DcmFileFormat file;
  source_.load(instance, file, false);
  DcmDataset& ds = *file.getDataset();
  // Compressed pixel data is decoded, frame after frame; uncompressed values (pixel data of any
  // bit depth, such as a binary SEG's, float pixel data, documents) go as stored.
  if (tag == DCM_PixelData && DcmXfer(ds.getOriginalXfer()).isEncapsulated()) {
    std::string bytes;
    for (auto& frame : decodedFrames(instance, ds, {})) bytes += frame;
    return bytes;
  }
  DcmElement* found = nullptr;
  if (ds.findAndGetElement(tag, found).bad() || !found) throw DicomwebError(404, instance.sopUid + " has no " + tagText);
  // Whatever the VR (OB, OW, OF, OD), the value's bytes in little endian order. An even-length
  // value may end in the padding byte DICOM requires: it stays, as in the file.
  std::string bytes(found->getLength(), '\0');
  if (!bytes.empty()) {
    const OFCondition read = found->getPartialValue(bytes.data(), 0, found->getLength());
    if (read.bad()) throw std::runtime_error("cannot read " + tagText + " of " + instance.sopUid + ": " + read.text());
  }
  return bytes;
}

std::string DicomwebService::renderedPng(const StoredInstance& instance, unsigned frame) {
  DcmFileFormat file;
  source_.load(instance, file, false);
  DicomImage image(&file, file.getDataset()->getOriginalXfer(), CIF_MayDetachPixelData, frame - 1, 1);
  if (image.getStatus() != EIS_Normal) {
    throw DicomwebError(406, instance.sopUid + " cannot be rendered: " + DicomImage::getString(image.getStatus()));
  }
  if (image.isMonochrome()) {
    if (image.getWindowCount() > 0) image.setWindow(0);
    else image.setMinMaxWindow();
  }
  // The PNG writer takes a FILE*: an anonymous temporary file, gone when closed.
  std::unique_ptr<FILE, int (*)(FILE*)> out(std::tmpfile(), &std::fclose);
  if (!out) throw std::runtime_error("no temporary file for rendering");
  DiPNGPlugin png;
  png.setBitsPerSample(8);
  if (!image.writePluginFormat(&png, out.get(), 0)) throw DicomwebError(406, instance.sopUid + " cannot be written as PNG");
  std::fflush(out.get());
  std::rewind(out.get());
  // Read in one go into the heap: inside Orthanc this runs on a web server thread whose stack
  // is small, and a 64 KB buffer here overflowed it in Orthanc's own SQLite calls beneath.
  if (std::fseek(out.get(), 0, SEEK_END) != 0) throw std::runtime_error("cannot measure the rendered PNG");
  const long size = std::ftell(out.get());
  if (size <= 0) throw std::runtime_error("the rendered PNG of " + instance.sopUid + " is empty");
  std::rewind(out.get());
  std::string bytes(static_cast<size_t>(size), '\0');
  if (std::fread(bytes.data(), 1, bytes.size(), out.get()) != bytes.size()) {
    throw std::runtime_error("cannot read the rendered PNG back");
  }
  return bytes;
}

std::vector<std::string> DicomwebService::frames(const StoredInstance& instance, const std::vector<unsigned>& numbers, bool asStored) {
  // Loaded once, pixel data included: a source such as Orthanc sends the whole file either way.
  DcmFileFormat file;
  source_.load(instance, file, false);
  DcmDataset& ds = *file.getDataset();
  if (asStored && DcmXfer(ds.getOriginalXfer()).isEncapsulated()) return storedFrames(instance, ds, numbers);
  return decodedFrames(instance, ds, numbers);
}

DicomwebService::FrameAnswer DicomwebService::frameAnswer(const std::vector<MediaRange>& accept, const StoredInstance& instance) {
  const std::string& stored = instance.transferSyntaxUid;
  const bool compressed = !stored.empty() && DcmXfer(stored.c_str()).isEncapsulated();
  const std::string imageType = compressed ? frameMediaTypeOf(stored) : "";
  const std::string uncompressed = "application/octet-stream; transfer-syntax=" + std::string(kExplicitVrLittleEndian);
  for (const auto& range : accept) {
    const std::string wanted = range.transferSyntax.value_or("");
    if (range.admitsMultipartOf("application/octet-stream")) {
      // PS3.18 8.7.3.5.2: octet-stream without a syntax means Explicit VR Little Endian; "*"
      // takes whatever is cheapest, which for compressed frames is the stored bytes.
      if (compressed && (wanted == "*" || wanted == stored)) return {true, "application/octet-stream; transfer-syntax=" + stored};
      if ((wanted.empty() || wanted == "*" || wanted == kExplicitVrLittleEndian) && (!compressed || decodableToExplicitLittle(stored))) {
        return {false, uncompressed};
      }
    }
    // The compression's own image type (image/jls for JPEG-LS...), named explicitly: a range
    // without a type parameter was already weighed as octet-stream above. Without a syntax the
    // type means its default one (image/jpeg: baseline), which browsers' decoders read.
    const bool typeDefault = wanted.empty() && isDefaultSyntaxOfItsMediaType(stored);
    if (!imageType.empty() && range.partType == imageType && (typeDefault || wanted == "*" || wanted == stored)) {
      return {true, imageType + "; transfer-syntax=" + stored};
    }
  }
  throw DicomwebError(406, "the frames of " + instance.sopUid + " are stored as " + (stored.empty() ? std::string("an unknown transfer syntax") : stored) +
                               "; the Accept header admits neither that (multipart/related; type=\"application/octet-stream\"; "
                               "transfer-syntax=*" + (imageType.empty() ? "" : ", or type=\"" + imageType + "\"") +
                               ") nor uncompressed frames" + (compressed && !decodableToExplicitLittle(stored) ? ", to which this node cannot decode them" : ""));
}

std::string DicomwebService::instanceSyntax(const std::vector<MediaRange>& accept, const StoredInstance& instance) {
  const std::string& stored = instance.transferSyntaxUid;
  for (const auto& range : accept) {
    if (!range.admitsMultipartOf("application/dicom")) continue;
    // A client that names no DICOM type at all (*/*, multipart/*) takes the object as stored.
    if (!range.transferSyntax && range.partType.empty() && range.type != "multipart/related") return stored;
    // PS3.18 8.7.3.5.2: application/dicom without a transfer syntax means Explicit VR Little Endian.
    const std::string wanted = range.transferSyntax.value_or(kExplicitVrLittleEndian);
    if (wanted == "*" || wanted == stored) return stored;
    if (wanted == kExplicitVrLittleEndian && decodableToExplicitLittle(stored)) return wanted;
  }
  throw DicomwebError(406, instance.sopUid + " is stored as " + (stored.empty() ? std::string("an unknown transfer syntax") : stored) +
                               "; the Accept header admits neither that nor Explicit VR Little Endian (" + kExplicitVrLittleEndian +
                               ") it could be converted to. Ask with transfer-syntax=* for the object as stored");
}

void DicomwebService::requireUncompressedBulkData(const std::vector<MediaRange>& accept) {
  for (const auto& range : accept) {
    if (!range.admitsMultipartOf("application/octet-stream")) continue;
    if (!range.transferSyntax || *range.transferSyntax == "*" || *range.transferSyntax == kExplicitVrLittleEndian) return;
  }
  throw DicomwebError(406, "bulk data is served as multipart/related; type=\"application/octet-stream\" (uncompressed, "
                           "transfer-syntax=" + std::string(kExplicitVrLittleEndian) + "), which the Accept header does not admit");
}

std::string DicomwebService::originalUid(const std::string& shown, bool deidentified) {
  if (!deidentified || shown.empty()) return shown;
  return deid_.original(shown).value_or("");
}

std::string DicomwebService::viewUrl(const std::string& base, const StoredInstance& i, bool deidentified) {
  if (!deidentified) return retrieveUrl(base, i);
  return base + "/studies/" + deid_.uid(i.studyUid) + "/series/" + deid_.uid(i.seriesUid) + "/instances/" + deid_.uid(i.sopUid);
}

std::string DicomwebService::retrieveBytes(const StoredInstance& instance, bool deidentified, const std::string& transferSyntaxUid) {
  if (!deidentified && transferSyntaxUid == instance.transferSyntaxUid) return source_.fileBytes(instance);
  DcmFileFormat file;
  source_.load(instance, file, false);
  file.loadAllDataIntoMemory();
  if (deidentified) deid_.apply(file);
  return part10Bytes(file, transferSyntaxUid);
}

std::multimap<std::string, std::string> DicomwebService::researcherQuery(const std::multimap<std::string, std::string>& params) {
  // Matching on what the view hides would let a caller probe for it: only characteristics the
  // view keeps, remapped UIDs and the label keys can be matched.
  static const std::set<std::string> allowed = {
      "Modality", "ModalitiesInStudy", "PatientSex", "PatientAge", "BodyPartExamined", "Manufacturer", "ManufacturerModelName",
      "SOPClassUID", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances", "NumberOfSeriesRelatedInstances", "SeriesNumber",
      "InstanceNumber", "Rows", "Columns", "NumberOfFrames"};
  static const std::set<std::string> uids = {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"};
  std::multimap<std::string, std::string> out;
  for (const auto& [key, value] : params) {
    const Attribute* a = findAttribute(key);
    if (!a) {  // paging, includefield, label keys; parseQuery refuses what it does not know
      out.emplace(key, value);
      continue;
    }
    if (uids.count(a->keyword)) {
      std::string originals;
      size_t start = 0;
      while (start <= value.size()) {
        const size_t end = std::min(value.find_first_of(",\\", start), value.size());
        const std::string one = value.substr(start, end - start);
        // An unknown UID matches nothing, and says nothing about what exists.
        if (!one.empty()) originals += (originals.empty() ? "" : ",") + deid_.original(one).value_or("0.0");
        start = end + 1;
      }
      out.emplace(key, originals);
    } else if (allowed.count(a->keyword)) {
      out.emplace(key, value);
    } else {
      throw DicomwebError(400, std::string(a->keyword) + " cannot be matched in the de-identified view");
    }
  }
  return out;
}

void DicomwebService::deidentifyAnswer(json& item, Level level, const std::string& base) {
  auto text = [&](const char* tag) {
    return item.contains(tag) && item[tag].contains("Value") ? item[tag]["Value"][0].get<std::string>() : std::string();
  };
  // Read before the profile removes them: the pseudonym depends on both, as in files.
  const std::string patientId = text("00100020"), issuer = text("00100021");
  const std::string study = text("0020000D"), series = text("0020000E"), sop = text("00080018");
  // The same Annex E table as for files (Deidentifier::treatmentOf), by tag.
  for (auto it = item.begin(); it != item.end();) {
    const std::string tag = it.key();
    if (tag.size() != 8 || tag.find_first_not_of("0123456789ABCDEF") != std::string::npos) { ++it; continue; }
    const auto group = static_cast<uint16_t>(std::stoul(tag.substr(0, 4), nullptr, 16));
    const auto element = static_cast<uint16_t>(std::stoul(tag.substr(4), nullptr, 16));
    const auto treatment = deid::Deidentifier::treatmentOf(group, element);
    if (treatment == deid::Deidentifier::Treatment::Remove) {
      it = item.erase(it);
      continue;
    }
    if (treatment != deid::Deidentifier::Treatment::Keep) it.value().erase("Value");
    else if (it.value().value("vr", "") == "UI" && it.value().contains("Value")) {
      for (auto& v : it.value()["Value"]) v = deid_.uid(v.get<std::string>());
    }
    ++it;
  }
  // Always, as in files: an empty Patient ID must not leave the name as it was.
  const std::string alias = deid_.pseudonym(patientId, issuer);
  item["00100020"] = {{"vr", "LO"}, {"Value", {alias}}};
  item["00100010"] = {{"vr", "PN"}, {"Value", {{{"Alphabetic", alias}}}}};
  std::string url = base + "/studies/" + deid_.uid(study);
  if (level != Level::Study) url += "/series/" + deid_.uid(series);
  if (level == Level::Instance) url += "/instances/" + deid_.uid(sop);
  item["00081190"] = {{"vr", "UR"}, {"Value", {url}}};
  item["00120062"] = {{"vr", "CS"}, {"Value", {"YES"}}};
}

StowOutcome DicomwebService::store(const std::vector<Part>& parts, const std::string& studyUid, const std::string& base,
                                   const std::string& source) {
  StowOutcome outcome;
  json referenced = json::array(), failed = json::array();
  std::set<std::string> studies;
  for (const auto& part : parts) {
    const std::string type = mediaType(part.contentType);
    json item = json::object();
    if (type != "application/dicom") {
      // Only Part 10 instances are accepted (no metadata + bulk data form): "cannot understand".
      item["00081197"] = {{"vr", "US"}, {"Value", {0xC000}}};
      failed.push_back(item);
      continue;
    }
    IngestResult r;
    std::string sopClass, series;
    {
      // Peek at the UIDs first so that a wrong study is refused before anything is stored. The
      // header only (values over 4 KiB skipped), checked as ingest will check it.
      InstanceRecord header;
      try {
        header = readInstanceHeader(std::vector<std::string_view>{part.body});
      } catch (const InstanceHeaderError& e) {
        item["00081197"] = {{"vr", "US"}, {"Value", {store_status::forHeaderError(e)}}};
        failed.push_back(item);
        continue;
      }
      sopClass = header.instance.sopClassUid;
      series = header.series.seriesInstanceUid;
      const std::string sop = header.instance.sopInstanceUid, study = header.study.studyInstanceUid;
      item["00081150"] = {{"vr", "UI"}, {"Value", {sopClass}}};
      item["00081155"] = {{"vr", "UI"}, {"Value", {sop}}};
      if (!studyUid.empty() && study != studyUid) {
        // dcm4chee's code for "not this study"; PS3.18 leaves the value to the origin server.
        item["00081197"] = {{"vr", "US"}, {"Value", {0xC409}}};
        failed.push_back(item);
        continue;
      }
      r = ingest_(part.body, source, header);
    }
    if (r.status == store_status::Success || (r.status & 0xF000) == 0xB000) {
      const StoredInstance stored{r.studyInstanceUid, series, r.sopInstanceUid, sopClass, "", ""};
      item["00081190"] = {{"vr", "UR"}, {"Value", {retrieveUrl(base, stored)}}};
      referenced.push_back(item);
      studies.insert(r.studyInstanceUid);
      outcome.storedInstances.push_back(r.sopInstanceUid);
      if (DSRTypes::sopClassUIDToDocumentType(sopClass.c_str()) != DSRTypes::DT_invalid) {
        outcome.storedReports.push_back(r.sopInstanceUid);
      }
    } else {
      item["00081197"] = {{"vr", "US"}, {"Value", {r.status}}};
      failed.push_back(item);
    }
  }
  outcome.studies.assign(studies.begin(), studies.end());
  outcome.body = json::object();
  // Retrieve URL is Type 2 (PS3.18 Table 10.5.3-3): the study's when all went into one, else empty.
  const std::string single = !studyUid.empty() ? studyUid : studies.size() == 1 ? *studies.begin() : "";
  outcome.body["00081190"] = single.empty() ? json{{"vr", "UR"}} : json{{"vr", "UR"}, {"Value", {base + "/studies/" + single}}};
  if (!referenced.empty()) outcome.body["00081199"] = {{"vr", "SQ"}, {"Value", referenced}};
  if (!failed.empty()) outcome.body["00081198"] = {{"vr", "SQ"}, {"Value", failed}};
  outcome.httpStatus = failed.empty() ? 200 : referenced.empty() ? 409 : 202;
  return outcome;
}

}  // namespace annot::dicomweb
