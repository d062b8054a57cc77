// The simulated network: messages in flight with a delivery time in steps, and the faults a
// real network shows: loss, duplication, reordering (random delays), long delays, partitions
// and one-way link cuts. Whether a link is up is decided at delivery time, so a partition also
// swallows what was already in flight.
#pragma once

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "paxos/core/message.h"
#include "tests/sim/sim_rng.h"

namespace lockstep::sim {

struct NetworkFaults {
  double drop = 0;            // probability a message is lost
  double duplicate = 0;       // probability a message is delivered twice
  int delay_min = 1;          // steps from send to delivery
  int delay_max = 1;
  double long_delay = 0;      // probability of a delay up to long_delay_max instead
  int long_delay_max = 0;
  bool reorder = true;        // false: each link delivers in send order, as TCP does
};

class Network {
 public:
  Network(size_t nodes, uint64_t seed)
      : nodes_(nodes), groups_(nodes + 1, 0), last_due_((nodes + 1) * (nodes + 1), 0), rng_(seed) {}

  void set_faults(const NetworkFaults& faults) { faults_ = faults; }
  const NetworkFaults& faults() const { return faults_; }

  // Returns how many copies were queued (0 when dropped).
  int send(paxos::Message message, uint64_t now);
  // Pops the next message due at or before `now`; false when none is.
  bool next_due(uint64_t now, paxos::Message& out);

  // Partitions: nodes talk only within their group.
  void set_group(paxos::NodeId node, int group) { groups_[node] = group; }
  int group(paxos::NodeId node) const { return groups_[node]; }
  void cut(paxos::NodeId from, paxos::NodeId to) { cuts_.insert({from, to}); }
  void heal();
  bool connected(paxos::NodeId from, paxos::NodeId to) const {
    return groups_[from] == groups_[to] && !cuts_.contains({from, to});
  }
  bool partitioned() const;

  size_t in_flight() const { return queue_.size(); }

 private:
  struct InFlight {
    uint64_t due;
    uint64_t order;  // tie-break among messages due in the same step
    paxos::Message message;
  };
  static bool later(const InFlight& a, const InFlight& b) {
    return a.due != b.due ? a.due > b.due : a.order > b.order;
  }
  void push(paxos::Message message, uint64_t now);

  NetworkFaults faults_;
  size_t nodes_;
  std::vector<int> groups_;  // by node id; index 0 unused
  std::set<std::pair<paxos::NodeId, paxos::NodeId>> cuts_;
  std::vector<uint64_t> last_due_;  // by link: latest delivery time queued, for FIFO links
  std::vector<InFlight> queue_;  // a min-heap by (due, order)
  uint64_t sent_ = 0;
  Rng rng_;
};

}  // namespace lockstep::sim
