// The closed-loop load generator: N clients, each with exactly one operation outstanding; when it
// completes, the client immediately starts the next. Only operations that complete inside the
// measured window (after the warm-up) count. Runs on one libevent loop per driver thread; one
// thread suffices unless a measurement shows the loop saturating one core (see loadgen_cpu_pct).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "eval/loadgen/result.h"
#include "eval/loadgen/target.h"

namespace lockstep::eval {

struct LoadOptions {
  std::uint32_t clients = 64;
  std::size_t payload_size = 64;
  std::chrono::duration<double> warmup{1.0};
  std::chrono::duration<double> duration{10.0};
  unsigned threads = 1;  // clients are split evenly over this many loops, one thread each
  // When readable (e.g. a signalfd for SIGINT/SIGTERM), the run stops with LoadError("interrupted").
  int stop_fd = -1;
  // If a driver thread sees only failures and no success for this long, the run ends with the
  // last failure's reason (a target that fails entirely must not produce a "result").
  std::chrono::duration<double> give_up_after{3.0};
  // Pause before a client retries after a failed operation.
  std::chrono::duration<double> retry_pause{0.01};
};

// The run could not produce a result: a Target failed entirely, broke the protocol, or the run
// was interrupted. what() is one line.
struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs the load and returns the merged result (target name and extra left for the caller).
// Throws LoadError or std::invalid_argument (bad options).
Result run_closed_loop(const LoadOptions& options, const TargetFactory& make_target);

}  // namespace lockstep::eval
