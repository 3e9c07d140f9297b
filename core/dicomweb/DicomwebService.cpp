#include "dicomweb/DicomwebService.h"

#include <dcmtk/dcmsr/dsrtypes.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcjson.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmimgle/dcmimage.h>  // before the plugin header, which needs its export macros
#include <dcmtk/dcmimage/dipipng.h>

#include <cstring>
#include <memory>
#include <set>
#include <string_view>
#include <sstream>

#include "dicom/DatasetAccess.h"
#include "dicom/InstanceHeader.h"
#include "dicom/Part10.h"
#include "dicom/SourceImages.h"
#include "dicom/Uid.h"

namespace annot::dicomweb {
namespace {
using nlohmann::json;
// Stands for the request's base URL in cached metadata (hosts differ between requests).
constexpr const char* kBasePlaceholder = "@@ANNOTATION-DICOMWEB-BASE@@";

// DCMTK's JSON writer with pixel data (and other bulk payloads) as BulkDataURIs.
class BulkDataJson : public DcmJsonFormatCompact {
 public:
  explicit BulkDataJson(std::string uriPrefix) : DcmJsonFormatCompact(OFFalse), prefix_(std::move(uriPrefix)) {}
  OFBool asBulkDataURI(const DcmTagKey& tag, OFString& uri) override {
    if (tag == DCM_PixelData || tag == DCM_FloatPixelData || tag == DCM_DoubleFloatPixelData || tag == DCM_EncapsulatedDocument) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%04X%04X", tag.getGroup(), tag.getElement());
      uri = (prefix_ + hex).c_str();
      return OFTrue;
    }
    return OFFalse;
  }

 private:
  std::string prefix_;
};

bool emptyOrUid(const std::string& uid) { return uid.empty() || isValidUid(uid); }

bool uncompressed(const std::string& ts) { return ts == UID_LittleEndianExplicitTransferSyntax || ts == UID_LittleEndianImplicitTransferSyntax; }
}  // namespace

std::string DicomwebService::retrieveUrl(const std::string& base, const StoredInstance& i) {
  return base + "/studies/" + i.studyUid + "/series/" + i.seriesUid + "/instances/" + i.sopUid;
}

json DicomwebService::search(Level level, const std::string& studyUid, const std::string& seriesUid,
                             const std::multimap<std::string, std::string>& requested, const std::string& base, bool deidentified) {
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
    // The de-identified answer always carries what it needs to pseudonymise.
    q.includeFields.insert("PatientID");
    q.includeFields.insert("IssuerOfPatientID");
  }
  if (q.onlyStudies && q.onlyStudies->empty()) return json::array();  // no study has such labels
  if (!emptyOrUid(studyUid) || !emptyOrUid(seriesUid)) return json::array();  // as instances(): not a pattern
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
void requireUncompressed(const StoredInstance& instance) {
  if (!uncompressed(instance.transferSyntaxUid)) {
    throw DicomwebError(406, "pixel data of " + instance.sopUid + " is stored compressed (" + instance.transferSyntaxUid +
                                 "); retrieve the instance instead");
  }
}

// The Pixel Data value of a loaded, uncompressed instance, in place (valid while `file` lives).
std::string_view pixelBytes(const StoredInstance& instance, DcmFileFormat& file) {
  DcmElement* element = nullptr;
  if (file.getDataset()->findAndGetElement(DCM_PixelData, element).bad() || !element) {
    throw DicomwebError(404, instance.sopUid + " has no pixel data");
  }
  Uint8* data = nullptr;
  if (element->getUint8Array(data).bad() || !data) throw std::runtime_error("cannot read the pixel data of " + instance.sopUid);
  return {reinterpret_cast<const char*>(data), element->getLength()};
}
}  // namespace

std::string DicomwebService::pixelData(const StoredInstance& instance) {
  requireUncompressed(instance);
  DcmFileFormat file;
  source_.load(instance, file, false);
  return std::string(pixelBytes(instance, file));
}

std::string DicomwebService::renderedPng(const StoredInstance& instance, unsigned frame) {
  if (!uncompressed(instance.transferSyntaxUid)) {
    throw DicomwebError(406, "rendering compressed data (" + instance.transferSyntaxUid + ") is not offered; retrieve the instance");
  }
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
  std::string bytes;
  char buffer[65536];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, out.get())) > 0) bytes.append(buffer, n);
  return bytes;
}

std::vector<std::string> DicomwebService::frames(const StoredInstance& instance, const std::vector<unsigned>& numbers) {
  // Loaded once, pixel data included: a source such as Orthanc sends the whole file either way.
  DcmFileFormat file;
  source_.load(instance, file, false);
  DcmDataset& ds = *file.getDataset();
  Uint16 rows = 0, columns = 0, samples = 1, bits = 0;
  ds.findAndGetUint16(DCM_Rows, rows);
  ds.findAndGetUint16(DCM_Columns, columns);
  ds.findAndGetUint16(DCM_SamplesPerPixel, samples);
  ds.findAndGetUint16(DCM_BitsAllocated, bits);
  Sint32 count = 1;
  ds.findAndGetSint32(DCM_NumberOfFrames, count);
  if (rows == 0 || columns == 0 || bits == 0) throw DicomwebError(404, instance.sopUid + " is not an image: it has no frames");
  if (bits % 8 != 0) throw DicomwebError(406, instance.sopUid + " has " + std::to_string(bits) + "-bit pixels; retrieve its bulk data instead");
  for (unsigned n : numbers) {
    if (n == 0 || n > static_cast<unsigned>(std::max<Sint32>(count, 1))) {
      throw DicomwebError(404, "frame " + std::to_string(n) + " does not exist (" + instance.sopUid + " has " + std::to_string(std::max<Sint32>(count, 1)) + ")");
    }
  }
  requireUncompressed(instance);
  const std::string_view all = pixelBytes(instance, file);
  const size_t frameSize = static_cast<size_t>(rows) * columns * samples * (bits / 8);
  std::vector<std::string> out;
  for (unsigned n : numbers) {
    const size_t offset = (n - 1) * frameSize;
    if (offset + frameSize > all.size()) throw std::runtime_error("pixel data of " + instance.sopUid + " is shorter than its frames");
    out.emplace_back(all.substr(offset, frameSize));
  }
  return out;
}

std::string DicomwebService::originalUid(const std::string& shown, bool deidentified) {
  if (!deidentified || shown.empty()) return shown;
  return deid_.original(shown).value_or("");
}

std::string DicomwebService::viewUrl(const std::string& base, const StoredInstance& i, bool deidentified) {
  if (!deidentified) return retrieveUrl(base, i);
  return base + "/studies/" + deid_.uid(i.studyUid) + "/series/" + deid_.uid(i.seriesUid) + "/instances/" + deid_.uid(i.sopUid);
}

std::string DicomwebService::retrieveBytes(const StoredInstance& instance, bool deidentified) {
  if (!deidentified) return source_.fileBytes(instance);
  DcmFileFormat file;
  source_.load(instance, file, false);
  file.loadAllDataIntoMemory();
  deid_.apply(file);
  return part10Bytes(file);
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
