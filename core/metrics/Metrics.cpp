#include "metrics/Metrics.h"

#include <sstream>

namespace annot {
namespace {
void metric(std::ostringstream& out, const char* name, const char* type, const char* help, const std::string& samples) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << samples;
}
std::string sample(const char* name, uint64_t value, const std::string& labels = "") {
  std::ostringstream s;
  s << name << (labels.empty() ? "" : "{" + labels + "}") << ' ' << value << '\n';
  return s.str();
}
}  // namespace

std::string Metrics::renderPrometheus(const std::string& extra) const {
  std::ostringstream out;
  metric(out, "annot_instances_received_total", "counter", "Instances stored and acknowledged.",
         sample("annot_instances_received_total", instancesReceived));
  metric(out, "annot_instances_duplicate_total", "counter", "Re-sent instances acknowledged without a second copy.",
         sample("annot_instances_duplicate_total", instancesDuplicate));
  metric(out, "annot_instances_concurrent_copies_total", "counter",
         "Copies of an instance that waited while another copy of it was being stored.",
         sample("annot_instances_concurrent_copies_total", copiesWaited));
  metric(out, "annot_received_bytes_total", "counter", "Bytes of stored instances.",
         sample("annot_received_bytes_total", bytesReceived));
  metric(out, "annot_store_failures_total", "counter", "C-STORE requests answered with a failure status.",
         sample("annot_store_failures_total", failuresMalformed, "reason=\"malformed\"") +
             sample("annot_store_failures_total", failuresMismatch, "reason=\"mismatch\"") +
             sample("annot_store_failures_total", failuresOutOfResources, "reason=\"out_of_resources\"") +
             sample("annot_store_failures_total", failuresProcessing, "reason=\"processing\""));
  metric(out, "annot_associations_total", "counter", "DICOM associations by outcome.",
         sample("annot_associations_total", associationsAccepted, "result=\"accepted\"") +
             sample("annot_associations_total", associationsRejected, "result=\"rejected\""));
  metric(out, "annot_associations_active", "gauge", "DICOM associations open now.",
         sample("annot_associations_active", static_cast<uint64_t>(associationsActive.load() < 0 ? 0 : associationsActive.load())));
  metric(out, "annot_echo_requests_total", "counter", "C-ECHO requests answered.",
         sample("annot_echo_requests_total", echoRequests));
  metric(out, "annot_commit_batches_total", "counter", "Group commits of the catalog.",
         sample("annot_commit_batches_total", commitBatches));
  metric(out, "annot_studies_stable_total", "counter", "Studies that became stable.",
         sample("annot_studies_stable_total", studiesStable));
  metric(out, "annot_http_requests_total", "counter", "HTTP requests by outcome.",
         sample("annot_http_requests_total", httpRequests - httpErrors, "outcome=\"ok\"") +
             sample("annot_http_requests_total", httpErrors, "outcome=\"error\""));
  out << extra;
  return out.str();
}

}  // namespace annot
