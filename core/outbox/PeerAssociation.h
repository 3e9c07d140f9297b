#pragma once
// One association of the outbox towards a destination, set up the same way for every use
// (sending a result, asking what the destination accepts): our AE title, the peer's, the
// timeouts, non-blocking DIMSE, and one TLS layer shared by all associations when given.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/scu.h>

#include <string>

#include "outbox/Destination.h"

namespace annot {

class PeerAssociation : public DcmSCU {
 public:
  PeerAssociation(const Destination& to, const std::string& callingAet, unsigned timeoutSeconds);
  // Proposes `sopClass` with `transferSyntaxes` (before open()).
  void propose(const std::string& sopClass, const std::vector<std::string>& transferSyntaxes);
  // Negotiates, through `secure` (borrowed) when given; throws std::runtime_error naming the
  // peer and `purpose` when no association came up.
  void open(DcmTransportLayer* secure, const std::string& purpose);

 private:
  std::string peer_;
};

}  // namespace annot
