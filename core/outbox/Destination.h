#pragma once
// A DICOM peer results are sent to: AET@host:port.
#include <cstdint>
#include <optional>
#include <string>

namespace annot {

struct Destination {
  std::string aeTitle;
  std::string host;
  uint16_t port = 0;
  std::string str() const { return aeTitle + "@" + host + ":" + std::to_string(port); }
};

// Parses "AET@host:port"; nothing when malformed.
std::optional<Destination> parseDestination(const std::string& text);

// Sends one Part 10 file with C-STORE over a new association; returns the DIMSE status, or
// throws std::runtime_error when no response came (refused association, network, timeout).
uint16_t cstore(const Destination& to, const std::string& callingAet, const std::string& path, unsigned timeoutSeconds = 30);

}  // namespace annot
