#include "eval/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace lockstep::eval {

std::size_t Histogram::index_of(std::uint64_t value) noexcept {
  if (value < kExact) return static_cast<std::size_t>(value);
  // shift >= 1: the value's top kSubBits+1 bits select one of kSubCount buckets per magnitude.
  const int shift = std::bit_width(value) - (kSubBits + 1);
  const std::uint64_t sub = value >> shift;  // in [kSubCount, 2*kSubCount)
  return kExact + static_cast<std::size_t>(shift - 1) * kSubCount +
         static_cast<std::size_t>(sub - kSubCount);
}

std::uint64_t Histogram::bucket_low(std::size_t i) noexcept {
  if (i < kExact) return i;
  const std::size_t k = i - kExact;
  const int shift = static_cast<int>(k / kSubCount) + 1;
  return (kSubCount + k % kSubCount) << shift;
}

std::uint64_t Histogram::bucket_width(std::size_t i) noexcept {
  if (i < kExact) return 1;
  return std::uint64_t{1} << (static_cast<int>((i - kExact) / kSubCount) + 1);
}

void Histogram::merge(const Histogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double Histogram::percentile(double q) const noexcept {
  if (count_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * count_)));
  if (rank >= count_) return static_cast<double>(max_);  // the top sample is known exactly
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // Exact buckets hold one value; wider ones report their midpoint.
      const double mid = i < kExact ? static_cast<double>(i)
                                    : static_cast<double>(bucket_low(i)) +
                                          static_cast<double>(bucket_width(i) - 1) / 2.0;
      return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

}  // namespace lockstep::eval
