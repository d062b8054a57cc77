// One randomized simulation run, fully determined by (replicas, seed).
//
// Fault phase: the seed picks a fault profile (loss, duplication, delays, partitions, leader
// isolation, one-way link cuts, crashes at any point of the Ready contract, clock skew, batching
// and flow-control limits), then clients submit at random replicas while faults come and go.
// Heal phase: every replica restarts if down, the network becomes reliable, and within a bounded
// number of ticks the cluster must converge: one leader that everyone follows, equal commit
// indices covering every entry, nothing pending, and every proposal submitted to a replica that
// has not crashed since committed. The Checker watches safety throughout.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace lockstep::sim {

struct RunConfig {
  size_t replicas = 3;
  uint64_t seed = 1;
  int fault_ticks = 250;
  int heal_ticks = 400;       // liveness bound
  std::FILE* trace = nullptr; // readable event trace when set
};

struct RunResult {
  bool ok = true;
  std::string failure;        // one line when !ok
  uint64_t hash = 0;          // of every event; equal for equal configs
  std::string profile;        // the fault profile the seed picked
  uint64_t committed_entries = 0;
  uint64_t submitted = 0;
  uint64_t committed_proposals = 0;
  uint64_t committed_copies = 0;  // proposals in committed entries, retried copies included
  uint64_t crashes = 0;
  uint64_t messages = 0;
  uint64_t leader_views = 0;
  int heal_ticks_used = 0;
};

RunResult run_simulation(const RunConfig& config);

}  // namespace lockstep::sim
