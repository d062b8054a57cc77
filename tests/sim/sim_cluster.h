// A simulated cluster: 2f+1 protocol cores in one process, each with a simulated disk, joined by
// the simulated network, driven in virtual time (steps; a tick every steps_per_tick steps).
// It plays the node's part of the Ready contract exactly (persist, then send, then apply, then
// advance) and can crash a replica at any point of it. Every output passes through the Checker.
//
// Directed tests drive it by hand (submit, crash, run_ticks); the random scenario in sim_run.h
// adds faults on top.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "paxos/core/replica.h"
#include "tests/sim/sim_checker.h"
#include "tests/sim/sim_disk.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_rng.h"
#include "tests/sim/sim_trace.h"

namespace lockstep::sim {

struct ClusterOptions {
  size_t replicas = 3;
  uint64_t seed = 1;
  paxos::ReplicaOptions replica;  // timing and batching; id, members, seed, applied set per node
  int steps_per_tick = 4;
  NetworkFaults faults;
  double ready_crash = 0;  // probability that handling one Ready is cut short by a crash
  double eager_ready = 1;  // probability a replica handles its Ready right after each message
  // Probability that a restart resumes from a checkpoint: the application keeps everything up
  // to the durable commit point (ReplicaOptions::applied), instead of starting empty.
  double restart_from_checkpoint = 0;
  // Probability that a leader crashes right after persisting new entries, before sending them:
  // entries then exist on one disk only, the divergent tails that view changes must resolve.
  double leader_append_crash = 0;
};

struct ClusterStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t lost = 0;  // dropped by the network, or addressed to a cut link or a crashed node
  uint64_t crashes = 0;
  uint64_t submits = 0;
  uint64_t readies = 0;
};

class Cluster {
 public:
  Cluster(ClusterOptions options, Trace& trace);

  size_t size() const { return nodes_.size(); }
  uint64_t now() const { return step_; }
  int steps_per_tick() const { return options_.steps_per_tick; }
  bool up(paxos::NodeId id) const { return nodes_.at(id - 1).replica.has_value(); }
  size_t up_count() const;
  const paxos::Replica& replica(paxos::NodeId id) const;  // throws if the node is down
  const Disk& disk(paxos::NodeId id) const { return disks_.at(id - 1); }
  const Checker& checker() const { return checker_; }
  Checker& checker() { return checker_; }
  Network& network() { return network_; }
  const ClusterStats& stats() const { return stats_; }
  Trace& trace() { return trace_; }
  // From here on no crash is injected inside the Ready contract.
  void stop_ready_crashes() {
    options_.ready_crash = 0;
    options_.leader_append_crash = 0;
  }

  paxos::ProposalId submit(paxos::NodeId id, std::string data);
  void tick(paxos::NodeId id);
  void crash(paxos::NodeId id, const char* why = "crash");
  void restart(paxos::NodeId id);
  // One step: deliver every due message, then let every running replica handle its Ready.
  void step();
  // n times: steps_per_tick steps, then a tick of every running replica.
  void run_ticks(int n);
  // The running leader with the highest view, if any.
  std::optional<paxos::NodeId> leader() const;

  // Sees every message a replica emits (before the network decides its fate).
  std::function<void(const paxos::Message&)> on_send;

 private:
  struct Node {
    std::optional<paxos::Replica> replica;
    uint64_t starts = 0;
    paxos::Role role = paxos::Role::Follower;
    paxos::View view = 0;
  };
  // Far above what a healthy run needs (a few thousand messages per seed); crossing either
  // means the protocol amplifies its own traffic.
  static constexpr uint64_t kMaxDeliveriesPerStep = 20'000;
  static constexpr uint64_t kMaxMessages = 2'000'000;
  enum class CrashPoint { None, BeforePersist, AfterPersist, AfterSend };

  paxos::Replica& running(paxos::NodeId id);
  void handle_ready(paxos::NodeId id);
  void observe(paxos::NodeId id);
  void set_clock(paxos::Replica& r) const { r.set_time(1'000'000'000 + step_ * 250'000); }

  ClusterOptions options_;
  Trace& trace_;
  std::vector<Disk> disks_;  // before checker_: the checker keeps a reference
  Checker checker_;
  Network network_;
  std::vector<Node> nodes_;
  Rng rng_;
  uint64_t step_ = 0;
  ClusterStats stats_;
};

}  // namespace lockstep::sim
