#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "eval/loadgen/histogram.h"

namespace lockstep::eval {
namespace {

double exact_percentile(std::vector<std::uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  const auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * v.size())));
  return static_cast<double>(v[rank - 1]);
}

TEST(Histogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0.0);
  EXPECT_EQ(h.max(), 0u);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.50), 50.0);
  EXPECT_EQ(h.percentile(0.99), 99.0);
  EXPECT_EQ(h.percentile(1.0), 100.0);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(Histogram, BucketsTileTheRangeAndStayNarrow) {
  std::size_t prev_end = 0;
  for (std::size_t i = 0; i < Histogram::kBuckets; ++i) {
    const auto low = Histogram::bucket_low(i);
    ASSERT_EQ(low, prev_end) << "bucket " << i;
    ASSERT_EQ(Histogram::index_of(low), i);
    const auto width = Histogram::bucket_width(i);
    if (low >= Histogram::kExact) {
      ASSERT_LE(static_cast<double>(width) / low, 1.0 / 128);
    }
    if (i + 1 < Histogram::kBuckets) {
      ASSERT_EQ(Histogram::index_of(low + width - 1), i);
    }
    prev_end = low + width;
  }
  EXPECT_EQ(Histogram::index_of(UINT64_MAX), Histogram::kBuckets - 1);
}

// Log-normal latencies around 1 ms with a long tail: every reported percentile must be within
// 1% of the exact sample percentile.
TEST(Histogram, PercentilesWithinOnePercentOfKnownDistribution) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(std::log(1e6), 0.8);
  std::vector<std::uint64_t> samples;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    samples.push_back(v);
    h.record(v);
  }
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999}) {
    const double exact = exact_percentile(samples, q);
    EXPECT_NEAR(h.percentile(q), exact, exact * 0.01) << "q=" << q;
  }
  EXPECT_EQ(h.max(), *std::max_element(samples.begin(), samples.end()));
  EXPECT_EQ(h.percentile(1.0), static_cast<double>(h.max()));
}

TEST(Histogram, UniformDistributionPercentiles) {
  Histogram h;
  // 1..1,000,000 ns uniformly: the q-quantile is q * 1e6.
  for (std::uint64_t v = 1; v <= 1000000; ++v) h.record(v);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    EXPECT_NEAR(h.percentile(q), q * 1e6, q * 1e6 * 0.01) << "q=" << q;
  }
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  for (std::uint64_t v = 0; v < 50000; v += 7) {
    (v % 2 ? a : b).record(v * 13);
    all.record(v * 13);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.percentile(q), all.percentile(q));
}

}  // namespace
}  // namespace lockstep::eval
