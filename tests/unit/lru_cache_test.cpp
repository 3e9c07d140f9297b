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

// Values of varying size are bounded by their total weight as well as by count.
TEST(LruCache, IsBoundedByTheWeightOfItsValues) {
  LruCache<int, std::string> cache(1000, 100, [](const int&, const std::string& v) { return v.size(); });
  for (int i = 0; i < 50; ++i) cache.put(i, std::string(30, 'x'));
  EXPECT_LE(cache.weight(), 100u);
  EXPECT_EQ(cache.size(), 3u) << "three values of 30 bytes fit in 100";
  EXPECT_TRUE(cache.get(49).has_value());
  EXPECT_FALSE(cache.get(0).has_value());
  // One value heavier than the bound is still kept (alone): the cache never refuses its newest.
  cache.put(100, std::string(500, 'y'));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.get(100).has_value());
}
