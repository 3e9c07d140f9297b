// The bounded cache behind instance headers (plugin) and DICOMweb metadata.
#include <gtest/gtest.h>

#include <string>

#include "common/LruCache.h"

using annot::LruCache;

TEST(LruCache, ForgetsTheLeastRecentlyUsedAndKeepsTheFirstValue) {
  LruCache<std::string, int> cache(2);
  cache.put("a", 1);
  cache.put("b", 2);
  EXPECT_EQ(cache.get("a"), 1);  // "a" is now the most recent
  cache.put("c", 3);             // so "b" goes
  EXPECT_FALSE(cache.get("b").has_value());
  EXPECT_EQ(cache.get("a"), 1);
  EXPECT_EQ(cache.get("c"), 3);
  cache.put("c", 30);  // values never change once computed: a racing second one is dropped
  EXPECT_EQ(cache.get("c"), 3);
}
