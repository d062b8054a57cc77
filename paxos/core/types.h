// Value types of the replicated log, shared by the protocol core, the wire codec, storage and
// the node. Plain data; no behaviour beyond size accounting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lockstep::paxos {

using NodeId = uint32_t;  // 1-based, from the cluster config; 0 means "none"
using View = uint64_t;    // ballot / view number; the leader of a view is elected in it
using Index = uint64_t;   // log position; the first entry has index 1

inline constexpr NodeId kNoNode = 0;

// A proposal is one submission: opaque bytes plus an id that is unique in the cluster forever.
// `incarnation` changes every time the origin process starts, so a restarted node never reuses
// an id; the pair lets every replica drop a proposal that was retried and committed twice.
struct ProposalId {
  NodeId origin = kNoNode;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
  friend bool operator==(const ProposalId&, const ProposalId&) = default;
};

struct Proposal {
  ProposalId id;
  std::string data;
};

// One slot of the log: a batch of proposals chosen in `view`, stamped with the leader's clock
// (ns since the epoch) when the batch was cut, so later layers can give replicas one notion of
// wall-clock time.
struct Entry {
  Index index = 0;
  View view = 0;
  uint64_t stamp_ns = 0;
  std::vector<Proposal> proposals;

  size_t byte_size() const {
    size_t n = 32;
    for (const auto& p : proposals) n += p.data.size() + 24;
    return n;
  }
};

// Entries are immutable once created and shared between the in-memory log, outgoing messages
// and the apply path, so they are never copied.
using EntryPtr = std::shared_ptr<const Entry>;

// What must survive a crash besides the entries themselves.
struct HardState {
  View view = 0;              // highest view this replica has joined
  NodeId voted_for = kNoNode; // whom it voted for in `view`
  Index commit = 0;           // known commit point (an optimisation for restart; not required)
  uint64_t incarnation = 0;   // bumped at every start; see ProposalId
  friend bool operator==(const HardState&, const HardState&) = default;
};

}  // namespace lockstep::paxos
