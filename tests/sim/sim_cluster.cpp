#include "tests/sim/sim_cluster.h"

#include <fmt/format.h>

namespace lockstep::sim {

using paxos::NodeId;

Cluster::Cluster(ClusterOptions options, Trace& trace)
    : options_(std::move(options)),
      trace_(trace),
      disks_(options_.replicas),
      checker_(disks_),
      network_(options_.replicas, mix_seed(options_.seed, 101)),
      nodes_(options_.replicas),
      rng_(mix_seed(options_.seed, 102)) {
  network_.set_faults(options_.faults);
  options_.replica.members.clear();
  for (NodeId id = 1; id <= options_.replicas; ++id) options_.replica.members.push_back(id);
  for (NodeId id = 1; id <= options_.replicas; ++id) restart(id);
}

size_t Cluster::up_count() const {
  size_t n = 0;
  for (const Node& node : nodes_) n += node.replica.has_value();
  return n;
}

const paxos::Replica& Cluster::replica(NodeId id) const {
  const Node& node = nodes_.at(id - 1);
  if (!node.replica) throw SimFailure(fmt::format("node {} is down", id));
  return *node.replica;
}

paxos::Replica& Cluster::running(NodeId id) {
  Node& node = nodes_.at(id - 1);
  if (!node.replica) throw SimFailure(fmt::format("node {} is down", id));
  return *node.replica;
}

paxos::ProposalId Cluster::submit(NodeId id, std::string data) {
  paxos::Replica& r = running(id);
  set_clock(r);
  trace_.mix(0x5b);
  trace_.mix(data);
  std::string copy = data;
  paxos::ProposalId pid = r.submit(std::move(data));
  checker_.on_submit(id, r.incarnation(), pid, copy);
  ++stats_.submits;
  trace_.mix(pid.seq);
  trace_.line("node {} submit {}/{}/{} ({} bytes)", id, pid.origin, pid.incarnation, pid.seq,
              copy.size());
  observe(id);
  return pid;
}

void Cluster::tick(NodeId id) {
  paxos::Replica& r = running(id);
  set_clock(r);
  trace_.mix(0x71 + (uint64_t{id} << 8));
  r.tick();
  observe(id);
  handle_ready(id);
}

void Cluster::crash(NodeId id, const char* why) {
  Node& node = nodes_.at(id - 1);
  if (!node.replica) return;
  node.replica.reset();
  ++stats_.crashes;
  trace_.mix(0xc7 + (uint64_t{id} << 8));
  trace_.line("node {} CRASH ({}); disk: view={} voted={} commit={} log={}", id, why,
              disks_[id - 1].hard.view, disks_[id - 1].hard.voted_for, disks_[id - 1].hard.commit,
              disks_[id - 1].log.size());
}

void Cluster::restart(NodeId id) {
  Node& node = nodes_.at(id - 1);
  if (node.replica) return;
  const Disk& disk = disks_[id - 1];
  paxos::ReplicaOptions opts = options_.replica;
  opts.id = id;
  opts.seed = mix_seed(options_.seed, uint64_t{id} * 1000 + node.starts);
  // Usually the simulated application keeps nothing and everything is applied again; sometimes
  // it resumes from a checkpoint taken at the durable commit point.
  opts.applied = 0;
  if (node.starts > 0 && rng_.chance(options_.restart_from_checkpoint)) {
    opts.applied = std::min<paxos::Index>(disk.hard.commit, disk.log.size());
  }
  const paxos::Index applied = opts.applied;
  ++node.starts;
  node.replica.emplace(std::move(opts), paxos::RestoredState{disk.hard, disk.log});
  node.role = node.replica->role();
  node.view = node.replica->view();
  checker_.on_start(id, node.replica->incarnation(), applied);
  trace_.mix(0x5e + (uint64_t{id} << 8));
  trace_.mix(applied);
  trace_.line("node {} START incarnation {} from disk: view={} commit={} log={} applied={}", id,
              node.replica->incarnation(), disk.hard.view, disk.hard.commit, disk.log.size(),
              applied);
  handle_ready(id);
}

void Cluster::observe(NodeId id) {
  Node& node = nodes_[id - 1];
  if (!node.replica) return;
  const paxos::Replica& r = *node.replica;
  if (r.role() == node.role && r.view() == node.view) return;
  node.role = r.role();
  node.view = r.view();
  trace_.mix(0x0b + (uint64_t{id} << 8) + (static_cast<uint64_t>(node.role) << 16));
  trace_.mix(node.view);
  trace_.line("node {} is {} in view {} (last={} commit={})", id, paxos::to_string(node.role),
              node.view, r.last_index(), r.commit_index());
  if (node.role == paxos::Role::Leader) checker_.on_leader(id, node.view);
}

void Cluster::handle_ready(NodeId id) {
  for (int rounds = 0;; ++rounds) {
    Node& node = nodes_[id - 1];
    if (!node.replica || !node.replica->has_ready()) return;
    if (rounds > 1000) throw SimFailure(fmt::format("node {}: has_ready() stays true", id));
    paxos::Replica& r = *node.replica;
    paxos::Ready ready = r.take_ready();
    ++stats_.readies;
    checker_.on_committed(id, ready.committed);

    CrashPoint crash_at = CrashPoint::None;
    if (rng_.chance(options_.ready_crash)) crash_at = static_cast<CrashPoint>(1 + rng_.below(3));
    if (r.role() == paxos::Role::Leader && !ready.append.empty() &&
        rng_.chance(options_.leader_append_crash)) {
      crash_at = CrashPoint::AfterPersist;
    }
    if (crash_at == CrashPoint::BeforePersist) {
      crash(id, "before persisting a Ready");
      return;
    }

    Disk& disk = disks_[id - 1];
    size_t old_size = disk.log.size();
    if (auto error = persist(disk, ready)) throw SimFailure(fmt::format("node {}: {}", id, *error));
    checker_.on_persisted(id, old_size, ready);
    if (ready.hard_state || ready.truncate_after || !ready.append.empty()) {
      trace_.mix(0xd1 + (uint64_t{id} << 8));
      trace_.mix(disk.log.size());
      trace_.mix(disk.hard.view);
      trace_.line("node {} persist view={} voted={} commit={} truncate_after={} append={} -> log={}",
                  id, disk.hard.view, disk.hard.voted_for, disk.hard.commit,
                  ready.truncate_after ? fmt::format("{}", *ready.truncate_after) : "-",
                  ready.append.size(), disk.log.size());
    }
    if (crash_at == CrashPoint::AfterPersist) {
      crash(id, "after persisting, before sending");
      return;
    }

    if (stats_.sent + ready.messages.size() > kMaxMessages) {
      throw SimFailure(fmt::format("message storm: more than {} messages sent in one run",
                                   kMaxMessages));
    }
    for (const paxos::Message& m : ready.messages) {
      checker_.on_send(id, m);
      ++stats_.sent;
      trace_.mix_message(m);
      if (on_send) on_send(m);
      int copies = network_.send(m, step_);
      if (copies == 0) ++stats_.lost;
      if (trace_.verbose()) {
        trace_.line("send {}{}", describe(m), copies == 0 ? " (DROPPED)" : copies == 2 ? " (DUP)" : "");
      }
    }

    const auto& unique = r.unique_proposals(ready);
    checker_.on_applied(id, ready.committed, unique);
    if (!ready.committed.empty()) {
      trace_.mix(0xa9 + (uint64_t{id} << 8));
      trace_.mix(ready.committed.back()->index);
      trace_.line("node {} apply [{}..{}] ({} new proposals)", id, ready.committed.front()->index,
                  ready.committed.back()->index, unique.size());
    }
    if (crash_at == CrashPoint::AfterSend) {
      crash(id, "after sending, before advance");
      return;
    }
    r.advance(ready);
    observe(id);
  }
}

void Cluster::step() {
  ++step_;
  trace_.set_time(step_);
  paxos::Message m;
  uint64_t this_step = 0;
  while (network_.next_due(step_, m)) {
    if (++this_step > kMaxDeliveriesPerStep) {
      throw SimFailure(fmt::format("message storm: more than {} messages delivered in one step "
                                   "(replies answered by messages that are answered again)",
                                   kMaxDeliveriesPerStep));
    }
    NodeId to = m.to;
    if (to == paxos::kNoNode || to > nodes_.size() || !nodes_[to - 1].replica ||
        !network_.connected(m.from, to)) {
      ++stats_.lost;
      continue;
    }
    ++stats_.delivered;
    trace_.mix(0xde);
    trace_.mix_message(m);
    if (trace_.verbose()) trace_.line("recv {}", describe(m));
    paxos::Replica& r = *nodes_[to - 1].replica;
    set_clock(r);
    r.step(m);
    observe(to);
    if (rng_.chance(options_.eager_ready)) handle_ready(to);
  }
  size_t first = rng_.below(nodes_.size());
  for (size_t k = 0; k < nodes_.size(); ++k) {
    handle_ready(static_cast<NodeId>((first + k) % nodes_.size() + 1));
  }
}

void Cluster::run_ticks(int n) {
  for (int i = 0; i < n; ++i) {
    for (int s = 0; s < options_.steps_per_tick; ++s) step();
    for (NodeId id = 1; id <= nodes_.size(); ++id) {
      if (up(id)) tick(id);
    }
  }
}

std::optional<NodeId> Cluster::leader() const {
  std::optional<NodeId> best;
  paxos::View view = 0;
  for (NodeId id = 1; id <= nodes_.size(); ++id) {
    const Node& node = nodes_[id - 1];
    if (node.replica && node.replica->role() == paxos::Role::Leader &&
        (!best || node.replica->view() > view)) {
      best = id;
      view = node.replica->view();
    }
  }
  return best;
}

}  // namespace lockstep::sim
