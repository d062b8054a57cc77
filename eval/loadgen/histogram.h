// Latency histogram with logarithmic buckets (HDR style): fixed memory, O(1) record with no
// allocation, and every bucket at most 1/128 of its lower bound wide, so a percentile read back
// as the bucket midpoint is within 0.4% of the true sample value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace lockstep::eval {

class Histogram {
 public:
  // Values 0..255 have one bucket each; above, each power of two is split into 128 buckets.
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSubCount = std::uint64_t{1} << kSubBits;
  static constexpr std::size_t kExact = 2 * kSubCount;
  static constexpr std::size_t kBuckets = kExact + (64 - kSubBits - 1) * kSubCount;

  void record(std::uint64_t value) noexcept {
    ++counts_[index_of(value)];
    ++count_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }

  // Adds every sample of OTHER (merging per-thread histograms).
  void merge(const Histogram& other) noexcept;
  void clear() noexcept { *this = Histogram{}; }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }

  // The value below which a fraction Q (0..1] of the samples lie: the midpoint of the bucket
  // holding the sample of rank ceil(Q * count), clamped to [min, max]. 0 when empty.
  double percentile(double q) const noexcept;

  static std::size_t index_of(std::uint64_t value) noexcept;
  // Lowest value and width of bucket I.
  static std::uint64_t bucket_low(std::size_t i) noexcept;
  static std::uint64_t bucket_width(std::size_t i) noexcept;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;  // wraps only after ~584 years of nanoseconds
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

}  // namespace lockstep::eval
