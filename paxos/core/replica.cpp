#include "paxos/core/replica.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace lockstep::paxos {

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::PreVote: return "PreVote";
    case MessageType::PreVoteReply: return "PreVoteReply";
    case MessageType::Prepare: return "Prepare";
    case MessageType::PrepareReply: return "PrepareReply";
    case MessageType::Accept: return "Accept";
    case MessageType::AcceptReply: return "AcceptReply";
    case MessageType::Forward: return "Forward";
  }
  return "?";
}

std::string_view to_string(Role role) {
  switch (role) {
    case Role::Follower: return "follower";
    case Role::PreCandidate: return "pre-candidate";
    case Role::Candidate: return "candidate";
    case Role::Leader: return "leader";
  }
  return "?";
}

namespace {
// A broken protocol invariant means the replica can no longer promise safety; stopping is the
// only honest answer (the simulator turns this into a failing seed).
[[noreturn]] void invariant_failed(const char* what, NodeId id, Index a, Index b) {
  std::fprintf(stderr, "paxos invariant violated on node %u: %s (%llu, %llu)\n", id, what,
               static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  std::abort();
}
}  // namespace

bool Replica::SeqSet::insert(uint64_t seq) {
  if (seq <= floor) return false;
  // Origins submit in order, so almost every commit is the next seq: no tree node for it.
  if (seq == floor + 1) {
    ++floor;
  } else if (!above.insert(seq).second) {
    return false;
  }
  while (!above.empty() && *above.begin() == floor + 1) {
    above.erase(above.begin());
    ++floor;
  }
  return true;
}

Replica::Replica(ReplicaOptions options, RestoredState restored)
    : options_(std::move(options)),
      hard_(restored.hard),
      log_(std::move(restored.log)),
      rng_(options_.seed * 0x9e3779b97f4a7c15ULL + options_.id) {
  if (!is_member(options_.id)) invariant_failed("own id is not a member", options_.id, 0, 0);
  for (Index i = 0; i < log_.size(); ++i) {
    if (!log_[i] || log_[i]->index != i + 1)
      invariant_failed("restored log is not contiguous", options_.id, i + 1, 0);
  }
  stable_ = emitted_ = log_.size();
  hard_.commit = std::min<Index>(hard_.commit, log_.size());
  applied_ = std::min<Index>(options_.applied, hard_.commit);
  ++hard_.incarnation;
  mark_dirty();
  // Entries applied before the restart are not handed out again, but their proposal ids must
  // still be known so that a late retry of one of them is recognised as a duplicate.
  std::vector<CommittedProposal> ignored;
  for (Index i = 1; i <= applied_; ++i) note_committed(*log_[i - 1], ignored);
  reset_election_timer();
}

bool Replica::is_member(NodeId id) const {
  return std::find(options_.members.begin(), options_.members.end(), id) != options_.members.end();
}

bool Replica::log_up_to_date(Index last_index, View last_view_of_other) const {
  return last_view_of_other > last_view() ||
         (last_view_of_other == last_view() && last_index >= log_.size());
}

void Replica::reset_election_timer() {
  election_elapsed_ = 0;
  int span = std::max(0, options_.election_ticks_max - options_.election_ticks_min);
  election_timeout_ = options_.election_ticks_min + static_cast<int>(rng_() % (span + 1));
}

// ---------------------------------------------------------------------------------------------
// Roles

void Replica::become_follower(View view, NodeId leader) {
  if (view > hard_.view) {
    hard_.view = view;
    hard_.voted_for = kNoNode;
    mark_dirty();
  }
  bool leader_changed = leader != leader_;
  role_ = Role::Follower;
  leader_ = leader;
  votes_.clear();
  progress_.clear();
  leader_queue_.clear();
  leader_queue_bytes_ = 0;
  ordering_.clear();
  reset_election_timer();
  // A new leader may not have what we forwarded to the old one; send it all again. Duplicates
  // are harmless: every replica drops a proposal id it has already committed.
  if (leader_changed) {
    for (auto& [seq, p] : pending_) p.sent = false;
    unsent_pending_ = !pending_.empty();
  }
}

void Replica::start_pre_vote() {
  role_ = Role::PreCandidate;
  leader_ = kNoNode;
  votes_ = {options_.id};
  reset_election_timer();
  if (votes_.size() >= quorum()) {
    start_election();
    return;
  }
  for (NodeId peer : options_.members) {
    if (peer == options_.id) continue;
    send(Message{.type = MessageType::PreVote, .to = peer, .view = hard_.view + 1,
                 .log_index = log_.size(), .log_view = last_view()});
  }
}

void Replica::start_election() {
  role_ = Role::Candidate;
  leader_ = kNoNode;
  ++hard_.view;
  hard_.voted_for = options_.id;
  mark_dirty();
  votes_ = {options_.id};
  reset_election_timer();
  if (votes_.size() >= quorum()) {
    become_leader();
    return;
  }
  for (NodeId peer : options_.members) {
    if (peer == options_.id) continue;
    send(Message{.type = MessageType::Prepare, .to = peer, .view = hard_.view,
                 .log_index = log_.size(), .log_view = last_view()});
  }
}

void Replica::become_leader() {
  role_ = Role::Leader;
  leader_ = options_.id;
  votes_.clear();
  progress_.clear();
  quorum_check_elapsed_ = 0;
  for (NodeId peer : options_.members) {
    if (peer == options_.id) continue;
    Progress& pr = progress_[peer];
    pr.next = log_.size() + 1;
    pr.active = true;
  }
  // Entries of earlier views become committed only through an entry of this view (counting
  // replicas is safe only for the current view), so the leader opens its view with an empty one.
  append_local({});
  ordering_.clear();
  for (Index i = applied_ + 1; i <= log_.size(); ++i) {
    for (const Proposal& p : log_[i - 1]->proposals) {
      ordering_.emplace(p.id.origin, p.id.incarnation, p.id.seq);
    }
  }
  for (auto& [seq, p] : pending_) p.sent = false;
  unsent_pending_ = !pending_.empty();
  flush_pending();
  cut_batches();
  broadcast_accepts();
}

// ---------------------------------------------------------------------------------------------
// Inputs

void Replica::tick() {
  if (role_ == Role::Leader) {
    if (++quorum_check_elapsed_ >= options_.election_ticks_min) {
      // A leader that cannot hear a majority steps down, so the proposals queued at it go to
      // whoever the majority elects instead of waiting for the partition to heal.
      quorum_check_elapsed_ = 0;
      size_t active = 1;
      for (auto& [peer, pr] : progress_) {
        if (pr.active) ++active;
        pr.active = false;
      }
      if (active < quorum()) {
        become_follower(hard_.view, kNoNode);
        return;
      }
    }
    for (auto& [peer, pr] : progress_) {
      ++pr.since_sent;
      if (!pr.inflight.empty() && ++pr.since_progress >= options_.election_ticks_min) {
        // Acknowledgements stopped although entries are in flight: something was lost.
        // Fall back to probing from the last known match.
        pr.probing = true;
        pr.paused = false;
        pr.next = pr.match + 1;
        pr.inflight.clear();
        pr.inflight_bytes = 0;
        pr.since_progress = 0;
      }
      // Only a small heartbeat here: its answer restarts replication where it stopped, so a
      // dead follower costs a few bytes per heartbeat, not a resent batch.
      if (pr.since_sent >= options_.heartbeat_ticks) send_accept(peer, true);
    }
    return;
  }

  if (++election_elapsed_ >= election_timeout_) start_pre_vote();
  for (auto& [seq, p] : pending_) {
    if (p.sent && ++p.age >= options_.proposal_retry_ticks) {
      p.sent = false;
      unsent_pending_ = true;
    }
  }
}

void Replica::step(const Message& m) {
  if (m.to != options_.id || m.from == options_.id || !is_member(m.from)) return;
  switch (m.type) {
    case MessageType::PreVote: on_pre_vote(m); return;
    case MessageType::PreVoteReply: on_pre_vote_reply(m); return;
    case MessageType::Prepare: on_prepare(m); return;
    case MessageType::PrepareReply: on_prepare_reply(m); return;
    case MessageType::Accept: on_accept(m); return;
    case MessageType::AcceptReply: on_accept_reply(m); return;
    case MessageType::Forward: on_forward(m); return;
  }
}

ProposalId Replica::submit(std::string data) {
  ProposalId id{options_.id, hard_.incarnation, next_seq_++};
  Pending& p = pending_[id.seq];
  p.proposal = Proposal{id, std::move(data)};
  unsent_pending_ = true;  // batched: sent on the next take_ready()
  return id;
}

// ---------------------------------------------------------------------------------------------
// Phase 1

void Replica::on_pre_vote(const Message& m) {
  // Grant only if we would really vote and have not heard from a leader recently: a replica
  // returning from a partition then cannot depose a leader that the others still follow.
  bool leader_recent = role_ == Role::Leader ||
                       (leader_ != kNoNode && election_elapsed_ < options_.election_ticks_min);
  bool grant = m.view > hard_.view && !leader_recent && log_up_to_date(m.log_index, m.log_view);
  send(Message{.type = MessageType::PreVoteReply, .to = m.from, .view = m.view, .ok = grant});
}

void Replica::on_pre_vote_reply(const Message& m) {
  if (role_ != Role::PreCandidate || m.view != hard_.view + 1 || !m.ok) return;
  votes_.insert(m.from);
  if (votes_.size() >= quorum()) start_election();
}

void Replica::on_prepare(const Message& m) {
  if (m.view < hard_.view) {
    send(Message{.type = MessageType::PrepareReply, .to = m.from, .view = hard_.view, .ok = false});
    return;
  }
  if (m.view > hard_.view) become_follower(m.view, kNoNode);
  bool grant = (hard_.voted_for == kNoNode || hard_.voted_for == m.from) &&
               log_up_to_date(m.log_index, m.log_view);
  if (grant) {
    if (hard_.voted_for != m.from) {
      hard_.voted_for = m.from;
      mark_dirty();
    }
    election_elapsed_ = 0;
  }
  send(Message{.type = MessageType::PrepareReply, .to = m.from, .view = hard_.view, .ok = grant});
}

void Replica::on_prepare_reply(const Message& m) {
  if (m.view > hard_.view) {
    become_follower(m.view, kNoNode);
    return;
  }
  if (role_ != Role::Candidate || m.view != hard_.view || !m.ok) return;
  votes_.insert(m.from);
  if (votes_.size() >= quorum()) become_leader();
}

// ---------------------------------------------------------------------------------------------
// Phase 2

void Replica::on_accept(const Message& m) {
  if (m.view < hard_.view) {
    // A deposed leader learns the new view from this answer and steps down.
    send(Message{.type = MessageType::AcceptReply, .to = m.from, .view = hard_.view,
                 .log_index = log_.size(), .ok = false});
    return;
  }
  if (m.view > hard_.view || role_ != Role::Follower || leader_ != m.from) {
    become_follower(m.view, m.from);
  }
  election_elapsed_ = 0;

  Message reply{.type = MessageType::AcceptReply, .to = m.from, .view = hard_.view};
  if (m.log_index > log_.size() || view_at(m.log_index) != m.log_view) {
    // Our log does not hold the entry before these; tell the leader where to back up to. Any
    // entry of the conflicting view may be wrong, so skip back past all of them, but never
    // below the commit point, which matches every leader's log.
    Index hint = std::min<Index>(m.log_index - (m.log_index > 0 ? 1 : 0), log_.size());
    if (m.log_index <= log_.size()) {
      View bad = view_at(m.log_index);
      while (hint > hard_.commit && view_at(hint) == bad) --hint;
    }
    reply.ok = false;
    reply.log_index = std::max(hint, hard_.commit);
    send(std::move(reply));
    return;
  }

  for (const EntryPtr& e : m.entries) {
    if (e->index <= log_.size()) {
      if (view_at(e->index) == e->view) continue;  // already have it
      if (e->index <= hard_.commit) invariant_failed("truncating committed entry", options_.id, e->index, hard_.commit);
      truncate_after(e->index - 1);
    }
    if (e->index != log_.size() + 1) invariant_failed("accept leaves a gap", options_.id, e->index, log_.size());
    log_.push_back(e);
  }
  Index matched = m.log_index + m.entries.size();
  Index can_commit = std::min<Index>(m.commit, matched);
  if (can_commit > hard_.commit) set_commit(can_commit);
  reply.ok = true;
  reply.log_index = matched;
  send(std::move(reply));
}

void Replica::on_accept_reply(const Message& m) {
  if (m.view > hard_.view) {
    become_follower(m.view, kNoNode);
    return;
  }
  if (role_ != Role::Leader || m.view != hard_.view) return;
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.active = true;

  if (m.ok) {
    // A duplicate or reordered acknowledgement tells nothing new. Answering it with another
    // Accept would keep one more message circulating forever (each reply begets an Accept,
    // each Accept a reply), and would also end a probe that is still waiting for its answer.
    if (m.log_index < pr.match || (m.log_index == pr.match && !pr.probing)) return;
    if (m.log_index > pr.match) {
      pr.match = std::min<Index>(m.log_index, log_.size());
      pr.since_progress = 0;
    }
    pr.next = std::max(pr.next, pr.match + 1);
    while (!pr.inflight.empty() && pr.inflight.front().first <= pr.match) {
      pr.inflight_bytes -= pr.inflight.front().second;
      pr.inflight.pop_front();
    }
    pr.probing = false;
    pr.paused = false;
    maybe_commit();
  } else {
    if (m.log_index < pr.match) return;  // a stale rejection; the follower has moved on
    pr.next = std::min(pr.next, m.log_index + 1);
    pr.next = std::max(pr.next, pr.match + 1);
    pr.probing = true;
    pr.paused = false;
    pr.inflight.clear();
    pr.inflight_bytes = 0;
  }
  fill_window(m.from, pr);
}

void Replica::on_forward(const Message& m) {
  // Only the leader orders proposals. Anyone else drops them: the origin resends to the
  // leader it learns of, so nothing bounces between followers.
  if (role_ != Role::Leader) return;
  for (const Proposal& p : m.proposals) {
    if (!admit(p.id)) continue;
    leader_queue_bytes_ += p.data.size();
    leader_queue_.push_back(p);
  }
}

void Replica::send(Message m) {
  m.from = options_.id;
  outbox_.push_back(std::move(m));
}

void Replica::send_accept(NodeId to, bool heartbeat_only) {
  Progress& pr = progress_[to];
  if (heartbeat_only || pr.paused) {
    // A heartbeat names the last entry known to match, so the follower can safely advance its
    // commit point to it and nothing beyond.
    send(Message{.type = MessageType::Accept, .to = to, .view = hard_.view, .log_index = pr.match,
                 .log_view = view_at(pr.match), .commit = std::min(hard_.commit, pr.match)});
    pr.commit_sent = std::max(pr.commit_sent, std::min(hard_.commit, pr.match));
    pr.since_sent = 0;
    return;
  }
  Message m{.type = MessageType::Accept, .to = to, .view = hard_.view};
  m.log_index = pr.next - 1;
  m.log_view = view_at(m.log_index);
  size_t budget = options_.max_message_bytes;
  if (!pr.probing) {
    size_t room = options_.max_inflight_bytes > pr.inflight_bytes
                      ? options_.max_inflight_bytes - pr.inflight_bytes : 0;
    budget = std::min(budget, room);
  }
  size_t bytes = 0;
  for (Index i = pr.next; i <= log_.size(); ++i) {
    size_t size = log_[i - 1]->byte_size();
    if (!m.entries.empty() && bytes + size > budget) break;
    // Window full: wait for acknowledgements. With nothing in flight, send the entry even if it
    // is bigger than the budget, or an entry above max_message_bytes would never be sent.
    if (m.entries.empty() && !pr.probing && size > budget && pr.inflight_bytes > 0) break;
    m.entries.push_back(log_[i - 1]);
    bytes += size;
  }
  // Nothing to carry: an empty Accept here would only be answered by another AcceptReply,
  // which would trigger another empty Accept (a ping-pong at network speed).
  if (m.entries.empty() && !pr.probing) return;
  Index last = m.log_index + m.entries.size();
  m.commit = std::min(hard_.commit, last);
  pr.commit_sent = std::max(pr.commit_sent, m.commit);
  pr.since_sent = 0;
  if (pr.probing) {
    pr.paused = true;
  } else if (!m.entries.empty()) {
    pr.next = last + 1;
    pr.inflight.emplace_back(last, bytes);
    pr.inflight_bytes += bytes;
  }
  send(std::move(m));
}

// Sends to one follower until its in-flight window is full (catch-up in bulk), or one probe.
void Replica::fill_window(NodeId peer, Progress& pr) {
  while (!pr.paused && pr.next <= log_.size()) {
    Index before = pr.next;
    send_accept(peer, false);
    if (pr.probing || pr.next == before) break;  // probe out, or window full
  }
}

void Replica::broadcast_accepts() {
  for (auto& [peer, pr] : progress_) fill_window(peer, pr);
}

void Replica::append_local(std::vector<Proposal> proposals) {
  auto e = std::make_shared<Entry>();
  e->index = log_.size() + 1;
  e->view = hard_.view;
  e->stamp_ns = now_ns_;
  e->proposals = std::move(proposals);
  log_.push_back(std::move(e));
}

void Replica::cut_batches() {
  if (leader_queue_.empty()) return;
  std::vector<Proposal> batch;
  size_t bytes = 0;
  for (Proposal& p : leader_queue_) {
    if (!batch.empty() && bytes + p.data.size() > options_.max_batch_bytes) {
      append_local(std::move(batch));
      batch = {};
      bytes = 0;
    }
    bytes += p.data.size();
    batch.push_back(std::move(p));
  }
  append_local(std::move(batch));
  leader_queue_.clear();
  leader_queue_bytes_ = 0;
}

void Replica::truncate_after(Index index) {
  log_.resize(index);
  emitted_ = std::min(emitted_, index);
  stable_ = std::min(stable_, index);
  truncate_after_ = truncate_after_ ? std::min(*truncate_after_, index) : index;
}

void Replica::maybe_commit() {
  if (role_ != Role::Leader) return;
  // Runs on every acknowledgement: reuse one buffer instead of allocating.
  match_scratch_.clear();
  match_scratch_.push_back(stable_);
  for (auto& [peer, pr] : progress_) match_scratch_.push_back(pr.match);
  auto kth = match_scratch_.begin() + static_cast<std::ptrdiff_t>(quorum() - 1);
  std::nth_element(match_scratch_.begin(), kth, match_scratch_.end(), std::greater<>());
  Index candidate = *kth;
  if (candidate > hard_.commit && view_at(candidate) == hard_.view) set_commit(candidate);
}

void Replica::set_commit(Index index) {
  if (index > log_.size()) invariant_failed("commit beyond log", options_.id, index, log_.size());
  // Not marked dirty: the commit point is only a restart hint and must not cost a write of its
  // own; it is saved with the next write that happens anyway.
  hard_.commit = index;
}

void Replica::flush_pending() {
  if (!unsent_pending_) return;
  if (role_ == Role::Leader) {
    unsent_pending_ = false;
    for (auto& [seq, p] : pending_) {
      if (p.sent) continue;
      p.sent = true;
      p.age = 0;
      if (!admit(p.proposal.id)) continue;
      leader_queue_bytes_ += p.proposal.data.size();
      leader_queue_.push_back(p.proposal);
    }
    return;
  }
  if (leader_ == kNoNode) return;
  unsent_pending_ = false;
  Message m{.type = MessageType::Forward, .to = leader_, .view = hard_.view};
  size_t bytes = 0;
  for (auto& [seq, p] : pending_) {
    if (p.sent) continue;
    if (!m.proposals.empty() && bytes + p.proposal.data.size() > options_.max_message_bytes) {
      send(std::move(m));
      m = Message{.type = MessageType::Forward, .to = leader_, .view = hard_.view};
      bytes = 0;
    }
    bytes += p.proposal.data.size();
    m.proposals.push_back(p.proposal);
    p.sent = true;
    p.age = 0;
  }
  if (!m.proposals.empty()) send(std::move(m));
}

bool Replica::admit(const ProposalId& id) {
  auto it = committed_seqs_.find({id.origin, id.incarnation});
  if (it != committed_seqs_.end() && it->second.contains(id.seq)) return false;
  return ordering_.emplace(id.origin, id.incarnation, id.seq).second;
}

void Replica::note_committed(const Entry& entry, std::vector<CommittedProposal>& out) {
  for (const Proposal& p : entry.proposals) {
    if (!ordering_.empty()) ordering_.erase({p.id.origin, p.id.incarnation, p.id.seq});
    if (!committed_seqs_[{p.id.origin, p.id.incarnation}].insert(p.id.seq)) continue;
    if (p.id.origin == options_.id && p.id.incarnation == hard_.incarnation) pending_.erase(p.id.seq);
    out.push_back(CommittedProposal{entry.index, entry.stamp_ns, &p});
  }
}

// ---------------------------------------------------------------------------------------------
// Output

bool Replica::follower_can_learn_commit() const {
  for (const auto& [peer, pr] : progress_) {
    if (pr.commit_sent < std::min(hard_.commit, pr.match)) return true;
  }
  return false;
}

bool Replica::has_ready() const {
  return hard_dirty_ || truncate_after_ || emitted_ < log_.size() || !outbox_.empty() ||
         applied_ < hard_.commit ||
         (role_ == Role::Leader && !leader_queue_.empty() &&
          (!hold_batches_ || leader_queue_bytes_ >= options_.max_batch_bytes)) ||
         (unsent_pending_ && leader_ != kNoNode) ||
         // A follower whose acknowledgement arrived after the quorum was reached still has to
         // hear the new commit point; without this it would wait for the next heartbeat.
         (role_ == Role::Leader && follower_can_learn_commit());
}

Ready Replica::take_ready() {
  flush_pending();
  if (role_ == Role::Leader) {
    if (!hold_batches_ || leader_queue_bytes_ >= options_.max_batch_bytes) cut_batches();
    broadcast_accepts();
    // Tell followers about a commit point they can use, without waiting for the next heartbeat;
    // under load this rides on the Accepts above instead.
    for (auto& [peer, pr] : progress_) {
      if (pr.commit_sent < std::min(hard_.commit, pr.match)) send_accept(peer, true);
    }
  }
  Ready r;
  r.truncate_after = truncate_after_;
  r.append.assign(log_.begin() + static_cast<std::ptrdiff_t>(emitted_), log_.end());
  if (hard_dirty_ || r.truncate_after || !r.append.empty()) r.hard_state = hard_;
  r.messages = std::move(outbox_);
  outbox_.clear();
  r.committed.assign(log_.begin() + static_cast<std::ptrdiff_t>(applied_),
                     log_.begin() + static_cast<std::ptrdiff_t>(hard_.commit));
  for (const EntryPtr& e : r.committed) note_committed(*e, r.unique);

  hard_dirty_ = false;
  truncate_after_.reset();
  emitted_ = log_.size();
  applied_ = hard_.commit;
  return r;
}

void Replica::advance(const Ready& ready) {
  if (!ready.append.empty()) {
    Index last = ready.append.back()->index;
    if (last <= log_.size() && log_[last - 1] == ready.append.back()) stable_ = std::max(stable_, last);
  }
  if (role_ == Role::Leader) maybe_commit();
}

}  // namespace lockstep::paxos
