// What the outbox does with a result a destination does not accept, and how long it trusts an
// answer to "what do you accept" (the association itself is tested against storescp and Orthanc).
#include <gtest/gtest.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "outbox/PacsProbe.h"

using namespace annot;

namespace {
PacsCapabilities accepting(std::set<std::string> classes) {
  PacsCapabilities c;
  c.accepted = std::move(classes);
  return c;
}
using Action = FallbackDecision::Action;
}  // namespace

TEST(PacsFallback, EachRefusedResultGoesAsConfigured) {
  const ResultFallback defaults;
  const PacsCapabilities everything = accepting({UID_EnhancedSRStorage, UID_ComprehensiveSRStorage, UID_SegmentationStorage});
  const PacsCapabilities old = accepting({UID_ComprehensiveSRStorage});
  const PacsCapabilities bare = accepting({});
  EXPECT_EQ(decideFallback(everything, "P", UID_SegmentationStorage, defaults).action, Action::Send);
  EXPECT_EQ(decideFallback(bare, "P", UID_CTImageStorage, defaults).action, Action::Send) << "not a result class: sent as it is";
  EXPECT_EQ(decideFallback(old, "P", UID_EnhancedSRStorage, defaults).action, Action::SendAsComprehensiveSr);
  EXPECT_EQ(decideFallback(old, "P", UID_EnhancedSRStorage, defaults, /*canConvert=*/false).action, Action::Hold);
  EXPECT_EQ(decideFallback(bare, "P", UID_EnhancedSRStorage, defaults).action, Action::Hold) << "no Comprehensive SR either";
  const FallbackDecision held = decideFallback(old, "P", UID_SegmentationStorage, defaults);
  EXPECT_EQ(held.action, Action::Hold);
  EXPECT_NE(held.reason.find("P does not accept SegmentationStorage"), std::string::npos) << held.reason;
  EXPECT_EQ(decideFallback(old, "P", UID_SegmentationStorage, parseResultFallback("skip", "comprehensive")).action, Action::Skip);
  EXPECT_EQ(decideFallback(old, "P", UID_EnhancedSRStorage, parseResultFallback("hold", "hold")).action, Action::Hold);
  PacsCapabilities unknown;
  unknown.known = false;
  EXPECT_EQ(decideFallback(unknown, "P", UID_SegmentationStorage, defaults).action, Action::Send) << "not asked: sent";
}

TEST(PacsFallback, TheComprehensiveCopyHasItsOwnStableUid) {
  const std::string uid = comprehensiveCopyUid("1.2.3.4");
  EXPECT_EQ(uid, comprehensiveCopyUid("1.2.3.4"));
  EXPECT_NE(uid, comprehensiveCopyUid("1.2.3.5"));
  EXPECT_EQ(uid.rfind("2.25.", 0), 0u);
  EXPECT_LE(uid.size(), 64u);
}

TEST(PacsCapabilityCache, AsksOnceUntilForgotten) {
  PacsCapabilityCache cache;
  int probes = 0;
  auto probe = [&] {
    ++probes;
    return accepting({UID_EnhancedSRStorage});
  };
  EXPECT_TRUE(cache.get("P", probe).accepts(UID_EnhancedSRStorage));
  cache.get("P", probe);
  EXPECT_EQ(probes, 1);
  cache.get("Q", probe);
  EXPECT_EQ(probes, 2) << "each destination asked for itself";
  cache.forget("P");
  cache.get("P", probe);
  EXPECT_EQ(probes, 3);
}
