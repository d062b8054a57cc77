// Safety checks over a whole simulated run, across all replicas and all their incarnations.
// Every violation throws SimFailure with a one-line description; the run stops there.
//
//   agreement   no index is ever committed with two different values;
//   durability  a committed value stays on a majority of disks forever (so no crash/restart
//               sequence can lose it), and a replica applies only what is on its own disk;
//   validity    every committed proposal was submitted, with the same bytes;
//   apply       each incarnation applies indices 1, 2, 3, ... in order, and the de-duplicated
//               proposals it reports are exactly the first occurrences of each id in its log;
//   election    at most one leader per view;
//   ids         submit() never hands out the same proposal id twice.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "paxos/core/replica.h"
#include "tests/sim/sim_disk.h"

namespace lockstep::sim {

struct SimFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ProposalIdHash {
  size_t operator()(const paxos::ProposalId& id) const noexcept {
    uint64_t h = id.seq * 0x9e3779b97f4a7c15ULL;
    h ^= (id.incarnation + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;
    h ^= uint64_t{id.origin} << 48;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

struct Submission {
  paxos::NodeId node;
  uint64_t incarnation;
  std::string data;
};

class Checker {
 public:
  // `disks` is indexed by node id - 1 and outlives the checker.
  explicit Checker(const std::vector<Disk>& disks);

  // A replica incarnation starts; its application already holds indices 1..applied (a
  // checkpoint), so it reports committed entries from applied + 1.
  void on_start(paxos::NodeId node, uint64_t incarnation, paxos::Index applied = 0);
  void on_submit(paxos::NodeId node, uint64_t incarnation, const paxos::ProposalId& id,
                 const std::string& data);
  // Ready::committed as soon as the Ready is taken: a claim, even if the replica then crashes.
  void on_committed(paxos::NodeId node, const std::vector<paxos::EntryPtr>& committed);
  // After `node`'s disk persisted `ready`; `old_size` is its log length before.
  void on_persisted(paxos::NodeId node, size_t old_size, const paxos::Ready& ready);
  void on_applied(paxos::NodeId node, const std::vector<paxos::EntryPtr>& committed,
                  const std::vector<paxos::CommittedProposal>& unique);
  void on_leader(paxos::NodeId node, paxos::View view);
  void on_send(paxos::NodeId node, const paxos::Message& m) const;

  size_t quorum() const { return disks_.size() / 2 + 1; }
  paxos::Index committed_max() const { return chosen_.size(); }
  const paxos::EntryPtr& chosen(paxos::Index index) const { return chosen_[index - 1]; }
  bool committed(const paxos::ProposalId& id) const { return committed_ids_.contains(id); }
  const std::unordered_map<paxos::ProposalId, Submission, ProposalIdHash>& submissions() const {
    return submitted_;
  }
  uint64_t applied_proposals() const { return applied_proposals_; }
  // Proposals in committed entries, counting retried copies; minus unique ones = log bloat.
  uint64_t committed_copies() const { return committed_copies_; }
  size_t views_with_leader() const { return leaders_.size(); }

  // How many disks hold the committed value at `index`.
  size_t holders(paxos::Index index) const;

 private:
  struct NodeState {
    uint64_t incarnation = 0;
    paxos::Index claimed = 0;  // this incarnation reported committed up to here
    paxos::Index applied = 0;  // and applied up to here
    std::unordered_set<paxos::ProposalId, ProposalIdHash> seen;  // ids applied by this incarnation
  };
  NodeState& node(paxos::NodeId id);
  void choose(const paxos::EntryPtr& e, paxos::NodeId by);

  const std::vector<Disk>& disks_;
  std::vector<NodeState> nodes_;
  std::vector<paxos::EntryPtr> chosen_;  // the committed log, index i at chosen_[i - 1]
  std::unordered_set<paxos::ProposalId, ProposalIdHash> committed_ids_;
  std::unordered_map<paxos::ProposalId, Submission, ProposalIdHash> submitted_;
  std::map<paxos::View, paxos::NodeId> leaders_;
  uint64_t applied_proposals_ = 0;
  uint64_t committed_copies_ = 0;
};

}  // namespace lockstep::sim
