#pragma once
// A DICOM peer results are sent to: AET@host:port.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "outbox/Outbox.h"
#include "outbox/PacsProbe.h"

class DcmTransportLayer;

namespace annot {

struct Destination {
  std::string aeTitle;
  std::string host;
  uint16_t port = 0;
  std::string str() const { return aeTitle + "@" + host + ":" + std::to_string(port); }
};

// Parses "AET@host:port"; nothing when malformed.
std::optional<Destination> parseDestination(const std::string& text);

// Sends one Part 10 file with C-STORE over a new association, through `secure` (a TLS layer in
// the requestor role, borrowed) when given; returns the DIMSE status, or throws
// std::runtime_error when no response came (refused association or handshake, network, timeout).
uint16_t cstore(const Destination& to, const std::string& callingAet, const std::string& path,
                DcmTransportLayer* secure = nullptr, unsigned timeoutSeconds = 30);

// The node's outbox transport: C-STORE of the stored file to AET@host:port peers. `pathOf`
// finds the stored file of a SOP instance; `secureFor`, when given, the TLS layer for a peer
// (nullptr: plain), used by the one sending thread only. Before sending, it asks each peer what
// it accepts (probePacs, again after a failed send and every 10 minutes); a result whose SOP class
// the peer does not accept goes as `fallback` says: an Enhanced SR as a Comprehensive SR, a
// SEG skipped, or held (retried, the reason in the outbox).
class DimseTransport : public OutboxTransport {
 public:
  using SecureFor = std::function<DcmTransportLayer*(const Destination&)>;
  DimseTransport(std::vector<Destination> peers, std::string callingAet, std::function<std::string(const std::string&)> pathOf,
                 SecureFor secureFor = {}, ResultFallback fallback = {})
      : peers_(std::move(peers)), callingAet_(std::move(callingAet)), pathOf_(std::move(pathOf)),
        secureFor_(std::move(secureFor)), fallback_(fallback) {}
  std::vector<std::string> destinations() const override;
  Delivery send(const std::string& destination, const std::string& sopInstanceUid) override;

 private:
  std::vector<Destination> peers_;
  std::string callingAet_;
  std::function<std::string(const std::string&)> pathOf_;
  SecureFor secureFor_;
  ResultFallback fallback_;
  PacsCapabilityCache capabilities_;  // by destination
};

}  // namespace annot
