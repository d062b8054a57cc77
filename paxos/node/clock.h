// The node's two clocks, read with clock_gettime (vDSO: no syscall).
#pragma once

#include <time.h>

#include <cstdint>

namespace lockstep::node {

// Nanoseconds since the epoch: for stamps compared across processes (Entry::stamp_ns).
inline uint64_t wall_clock_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// For intervals measured inside this process (batching delay, writer timing): unlike the wall
// clock it never steps back, which would, say, hold a batch for as long as the step.
inline uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace lockstep::node
