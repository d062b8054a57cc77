// The Multi-Paxos protocol core: a pure state machine in the style of etcd's raft package.
//
// Inputs: tick(), step(message), submit(bytes), set_time(ns). Outputs: a Ready bundle of state to
// persist, entries to append, messages to send and entries newly committed. The core does no I/O
// and reads no clock, so the node and the deterministic simulator run the same code.
//
// Contract with the caller, once per loop iteration:
//   1. if (replica.has_ready()) { Ready r = replica.take_ready();
//   2.   persist r.hard_state and r.truncate_after / r.append durably (one transaction);
//   3.   send r.messages (only after step 2: acknowledgements promise durability);
//   4.   apply r.committed in order;
//   5.   replica.advance(r); }
//
// Protocol: a stable leader per view (Multi-Paxos phase 2 for every entry), elected by a
// majority that only votes for a candidate whose log is at least as up to date as its own
// (so the leader holds every committed entry), preceded by a pre-vote. Followers learn the
// commit point from the leader's Accept messages, which double as heartbeats.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <unordered_map>

#include "paxos/core/message.h"

namespace lockstep::paxos {

struct ReplicaOptions {
  NodeId id = kNoNode;
  std::vector<NodeId> members;       // all replicas including this one; 2f+1 of them
  int heartbeat_ticks = 1;           // leader sends an Accept at least this often
  int election_ticks_min = 10;       // follower waits this long without a leader, plus jitter
  int election_ticks_max = 20;
  int proposal_retry_ticks = 20;     // resubmit a proposal not yet committed after this long
  size_t max_batch_bytes = 1 << 20;  // one log entry holds at most this much (one proposal more)
  size_t max_message_bytes = 4 << 20;   // entries per Accept, for catch-up in bulk
  size_t max_inflight_bytes = 16 << 20; // unacknowledged bytes per follower before waiting
  uint64_t seed = 1;                 // election jitter; fixed seeds make the simulator replayable
  Index applied = 0;                 // entries up to here were applied before a restart
};

// Durable state loaded at start.
struct RestoredState {
  HardState hard;
  std::vector<EntryPtr> log;  // contiguous, starting at index 1
};

enum class Role { Follower, PreCandidate, Candidate, Leader };
std::string_view to_string(Role role);

// A committed proposal as the application sees it, with retried duplicates filtered out.
struct CommittedProposal {
  Index index;
  uint64_t stamp_ns;
  const Proposal* proposal;  // points into an entry held by Ready::committed
};

struct Ready {
  std::optional<HardState> hard_state;   // persist when set
  std::optional<Index> truncate_after;   // delete persisted entries above this index first
  std::vector<EntryPtr> append;          // then append these
  std::vector<Message> messages;         // send after persisting
  std::vector<EntryPtr> committed;       // newly committed, in log order
  std::vector<CommittedProposal> unique; // their proposals, minus retried duplicates
};

class Replica {
 public:
  // Starts as a follower from durable state. The incarnation is bumped here and persisted by
  // the first Ready, before any message that could carry a proposal id leaves this replica.
  Replica(ReplicaOptions options, RestoredState restored);

  void tick();
  void step(const Message& message);
  // Queues bytes for the log; returns the id the commit will carry. Never fails: the caller
  // bounds how much it queues (see pending_proposals()).
  ProposalId submit(std::string data);
  // The caller's wall clock, used only to stamp entries this replica cuts as leader.
  void set_time(uint64_t now_ns) { now_ns_ = now_ns; }
  // While held, a leader cuts only full batches (max_batch_bytes); the caller bounds how long a
  // submission waits by releasing the hold when its batching delay expires.
  void hold_batches(bool hold) { hold_batches_ = hold; }
  // A leader has submissions waiting to be cut into an entry.
  bool batch_waiting() const { return role_ == Role::Leader && (!leader_queue_.empty() || unsent_pending_); }

  bool has_ready() const;
  Ready take_ready();
  void advance(const Ready& ready);

  // Proposals of Ready::committed in order, minus duplicates of ones committed before
  // (the same as ready.unique; kept for callers that prefer a function).
  static const std::vector<CommittedProposal>& unique_proposals(const Ready& ready) { return ready.unique; }

  NodeId id() const { return options_.id; }
  Role role() const { return role_; }
  View view() const { return hard_.view; }
  NodeId leader() const { return leader_; }
  Index commit_index() const { return hard_.commit; }
  Index last_index() const { return log_.size(); }
  Index stable_index() const { return stable_; }
  uint64_t incarnation() const { return hard_.incarnation; }
  size_t pending_proposals() const { return pending_.size(); }
  const std::vector<EntryPtr>& log() const { return log_; }
  EntryPtr entry(Index index) const { return index >= 1 && index <= log_.size() ? log_[index - 1] : nullptr; }

 private:
  struct Progress {  // leader's view of one follower
    Index match = 0;          // highest index known replicated (durably) there
    Index next = 1;           // next index to send
    Index commit_sent = 0;    // highest commit point told to it
    bool probing = true;      // unsure where its log ends: one message at a time
    bool paused = false;      // probing and waiting for the answer
    bool active = false;      // answered since the last quorum check
    int since_sent = 0;       // ticks since the last Accept to it
    int since_progress = 0;   // ticks since `match` last moved while entries were in flight
    size_t inflight_bytes = 0;
    std::deque<std::pair<Index, size_t>> inflight;  // (last index, bytes) per unacked message
  };
  struct Pending {  // a proposal this replica originated that has not committed yet
    Proposal proposal;
    int age = 0;        // ticks since it was last sent towards the leader
    bool sent = false;
  };
  // Committed sequence numbers of one (origin, incarnation): everything up to `floor`, plus a
  // few above it. Origins submit in order, so `above` stays small.
  struct SeqSet {
    uint64_t floor = 0;
    std::set<uint64_t> above;
    bool insert(uint64_t seq);  // false if already present
    bool contains(uint64_t seq) const { return seq <= floor || above.contains(seq); }
  };

  size_t quorum() const { return options_.members.size() / 2 + 1; }
  View last_view() const { return log_.empty() ? 0 : log_.back()->view; }
  View view_at(Index index) const { return index == 0 ? 0 : log_[index - 1]->view; }
  bool log_up_to_date(Index last_index, View last_view) const;

  void become_follower(View view, NodeId leader);
  void start_pre_vote();
  void start_election();
  void become_leader();
  void reset_election_timer();

  void on_pre_vote(const Message& m);
  void on_pre_vote_reply(const Message& m);
  void on_prepare(const Message& m);
  void on_prepare_reply(const Message& m);
  void on_accept(const Message& m);
  void on_accept_reply(const Message& m);
  void on_forward(const Message& m);

  void send(Message m);
  void send_accept(NodeId to, bool heartbeat_only);
  void broadcast_accepts();
  void fill_window(NodeId peer, Progress& pr);
  void cut_batches();
  void append_local(std::vector<Proposal> proposals);
  void truncate_after(Index index);
  void maybe_commit();
  bool follower_can_learn_commit() const;
  void set_commit(Index index);
  void flush_pending();
  void note_committed(const Entry& entry, std::vector<CommittedProposal>& out);
  bool admit(const ProposalId& id);
  void mark_dirty() { hard_dirty_ = true; }
  bool is_member(NodeId id) const;

  ReplicaOptions options_;
  HardState hard_;
  bool hard_dirty_ = false;
  Role role_ = Role::Follower;
  NodeId leader_ = kNoNode;
  std::vector<EntryPtr> log_;
  Index stable_ = 0;        // entries up to here are durable locally
  Index emitted_ = 0;       // entries up to here were handed out in Ready::append
  Index applied_ = 0;       // entries up to here were handed out in Ready::committed
  std::optional<Index> truncate_after_;

  int election_elapsed_ = 0;
  int election_timeout_ = 0;
  int quorum_check_elapsed_ = 0;
  std::mt19937_64 rng_;
  std::set<NodeId> votes_;
  std::map<NodeId, Progress> progress_;

  uint64_t now_ns_ = 0;
  bool hold_batches_ = false;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, Pending> pending_;          // originated here, by seq
  bool unsent_pending_ = false;                  // some of pending_ still has to be sent
  std::vector<Proposal> leader_queue_;           // leader: waiting to be cut into an entry
  size_t leader_queue_bytes_ = 0;
  std::vector<Message> outbox_;
  std::vector<Index> match_scratch_;  // maybe_commit's buffer
  // Per (origin, incarnation): seqs already committed, to drop retried duplicates.
  std::map<std::pair<NodeId, uint64_t>, SeqSet> committed_seqs_;
  // Leader: ids queued or in the log above the applied point. A retried Forward of one of them
  // is dropped, so retries under load do not fill the log with copies.
  std::set<std::tuple<NodeId, uint64_t, uint64_t>> ordering_;
};

}  // namespace lockstep::paxos
