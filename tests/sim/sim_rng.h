// The simulator's only source of randomness: one explicitly seeded generator per stream, so a
// seed replays exactly. Never seeded from std::random_device or a clock.
#pragma once

#include <cstdint>
#include <random>

namespace lockstep::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}

  uint64_t next() { return gen_(); }
  // Uniform in [0, n); n == 0 gives 0.
  uint64_t below(uint64_t n) { return n == 0 ? 0 : gen_() % n; }
  // Uniform in [lo, hi].
  int range(int lo, int hi) { return hi <= lo ? lo : lo + static_cast<int>(below(hi - lo + 1)); }
  bool chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return static_cast<double>(gen_() >> 11) * (1.0 / 9007199254740992.0) < p;
  }
  template <typename T, size_t N>
  const T& pick(const T (&items)[N]) { return items[below(N)]; }

 private:
  std::mt19937_64 gen_;
};

// Derives independent streams from one seed (splitmix64 finaliser).
inline uint64_t mix_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace lockstep::sim
