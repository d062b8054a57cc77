#include "tests/sim/sim_checker.h"

#include <algorithm>

#include <fmt/format.h>

namespace lockstep::sim {

using paxos::EntryPtr;
using paxos::Index;
using paxos::NodeId;

namespace {
std::string id_text(const paxos::ProposalId& id) {
  return fmt::format("{}/{}/{}", id.origin, id.incarnation, id.seq);
}
}  // namespace

Checker::Checker(const std::vector<Disk>& disks) : disks_(disks), nodes_(disks.size()) {}

Checker::NodeState& Checker::node(NodeId id) {
  if (id == paxos::kNoNode || id > nodes_.size()) throw SimFailure(fmt::format("unknown node {}", id));
  return nodes_[id - 1];
}

size_t Checker::holders(Index index) const {
  const paxos::Entry& want = *chosen_[index - 1];
  size_t n = 0;
  for (const Disk& d : disks_) {
    if (d.log.size() >= index && same_value(*d.log[index - 1], want)) ++n;
  }
  return n;
}

void Checker::on_start(NodeId id, uint64_t incarnation, Index applied) {
  NodeState& n = node(id);
  // An incarnation may repeat only if the earlier one never reached the disk: then no id it
  // handed out can have left the process (messages go out only after persisting), and its
  // submissions died with their submitter.
  const uint64_t durable = disks_[id - 1].hard.incarnation;
  if (incarnation <= durable) {
    throw SimFailure(fmt::format("node {} started with incarnation {}, not above the persisted {}",
                                 id, incarnation, durable));
  }
  if (incarnation <= n.incarnation) {
    std::erase_if(submitted_, [&](const auto& kv) {
      return kv.second.node == id && kv.second.incarnation >= incarnation;
    });
  }
  n.incarnation = incarnation;
  n.claimed = 0;
  n.applied = 0;
  n.seen.clear();
  if (applied > chosen_.size()) {
    throw SimFailure(fmt::format("node {} restarts with applied {} above the committed {}", id,
                                 applied, chosen_.size()));
  }
  for (Index i = 1; i <= applied; ++i) {
    for (const paxos::Proposal& p : chosen_[i - 1]->proposals) n.seen.insert(p.id);
  }
  n.claimed = n.applied = applied;
}

void Checker::on_submit(NodeId id, uint64_t incarnation, const paxos::ProposalId& pid,
                        const std::string& data) {
  if (pid.origin != id || pid.incarnation != incarnation) {
    throw SimFailure(fmt::format("node {} incarnation {} handed out proposal id {}", id,
                                 incarnation, id_text(pid)));
  }
  if (!submitted_.emplace(pid, Submission{id, incarnation, data}).second) {
    throw SimFailure(fmt::format("node {} handed out proposal id {} twice", id, id_text(pid)));
  }
}

void Checker::choose(const EntryPtr& e, NodeId by) {
  for (const paxos::Proposal& p : e->proposals) {
    auto it = submitted_.find(p.id);
    if (it == submitted_.end()) {
      throw SimFailure(fmt::format("validity: node {} committed index {} with proposal {} that was "
                                   "never submitted", by, e->index, id_text(p.id)));
    }
    if (it->second.data != p.data) {
      throw SimFailure(fmt::format("validity: node {} committed index {} with proposal {} whose "
                                   "bytes differ from the submitted ones", by, e->index, id_text(p.id)));
    }
    committed_ids_.insert(p.id);
  }
  committed_copies_ += e->proposals.size();
  chosen_.push_back(e);
  size_t have = holders(e->index);
  if (have < quorum()) {
    throw SimFailure(fmt::format("durability: node {} committed index {} held by only {} disk(s), "
                                 "fewer than a majority", by, e->index, have));
  }
}

void Checker::on_committed(NodeId id, const std::vector<EntryPtr>& committed) {
  NodeState& n = node(id);
  for (const EntryPtr& e : committed) {
    if (!e) throw SimFailure(fmt::format("node {} committed a null entry", id));
    if (e->index != n.claimed + 1) {
      throw SimFailure(fmt::format("node {} committed index {} after {}: not in order", id,
                                   e->index, n.claimed));
    }
    n.claimed = e->index;
    if (e->index <= chosen_.size()) {
      if (!same_value(*chosen_[e->index - 1], *e)) {
        const paxos::Entry& c = *chosen_[e->index - 1];
        throw SimFailure(fmt::format(
            "agreement: node {} committed index {} (view {}, {} proposals, stamp {}) but it was "
            "committed before as (view {}, {} proposals, stamp {})", id, e->index, e->view,
            e->proposals.size(), e->stamp_ns, c.view, c.proposals.size(), c.stamp_ns));
      }
    } else {
      choose(e, id);
    }
  }
}

void Checker::on_persisted(NodeId id, size_t old_size, const paxos::Ready& ready) {
  const Disk& disk = disks_[id - 1];
  if (ready.truncate_after && *ready.truncate_after < old_size) {
    Index hi = std::min<Index>(old_size, chosen_.size());
    for (Index i = *ready.truncate_after + 1; i <= hi; ++i) {
      size_t have = holders(i);
      if (have < quorum()) {
        throw SimFailure(fmt::format(
            "durability: node {} truncated its log after {}, leaving committed index {} on only "
            "{} disk(s)", id, *ready.truncate_after, i, have));
      }
    }
  }
  for (const EntryPtr& e : ready.committed) {
    if (disk.log.size() < e->index || !same_value(*disk.log[e->index - 1], *e)) {
      throw SimFailure(fmt::format("durability: node {} is told to apply index {} which is not on "
                                   "its disk (disk log ends at {})", id, e->index, disk.log.size()));
    }
  }
}

void Checker::on_applied(NodeId id, const std::vector<EntryPtr>& committed,
                         const std::vector<paxos::CommittedProposal>& unique) {
  NodeState& n = node(id);
  size_t u = 0;
  for (const EntryPtr& e : committed) {
    if (e->index != n.applied + 1) {
      throw SimFailure(fmt::format("node {} applied index {} after {}", id, e->index, n.applied));
    }
    n.applied = e->index;
    for (const paxos::Proposal& p : e->proposals) {
      if (!n.seen.insert(p.id).second) continue;  // a retried duplicate: must be filtered out
      if (u >= unique.size()) {
        throw SimFailure(fmt::format("apply: node {} did not report proposal {} of index {} (first "
                                     "occurrence)", id, id_text(p.id), e->index));
      }
      const paxos::CommittedProposal& c = unique[u++];
      if (!c.proposal || !(c.proposal->id == p.id) || c.index != e->index ||
          c.stamp_ns != e->stamp_ns || c.proposal->data != p.data) {
        throw SimFailure(fmt::format(
            "apply: node {} reported {} at index {} where the first occurrence of {} at index {} "
            "was expected (a duplicate or a lost proposal)", id,
            c.proposal ? id_text(c.proposal->id) : "null", c.index, id_text(p.id), e->index));
      }
      ++applied_proposals_;
    }
  }
  if (u != unique.size()) {
    throw SimFailure(fmt::format("apply: node {} reported proposal {} at index {} twice (already "
                                 "applied by this incarnation)", id,
                                 unique[u].proposal ? id_text(unique[u].proposal->id) : "null",
                                 unique[u].index));
  }
}

void Checker::on_leader(NodeId id, paxos::View view) {
  auto [it, inserted] = leaders_.emplace(view, id);
  if (!inserted && it->second != id) {
    throw SimFailure(fmt::format("election: nodes {} and {} are both leader of view {}",
                                 it->second, id, view));
  }
}

void Checker::on_send(NodeId id, const paxos::Message& m) const {
  if (m.from != id || m.to == paxos::kNoNode || m.to > disks_.size() || m.to == id) {
    throw SimFailure(fmt::format("node {} emitted a message from {} to {}", id, m.from, m.to));
  }
}

}  // namespace lockstep::sim
