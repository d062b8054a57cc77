// One replica's node process: the Multi-Paxos core, its Berkeley DB log, and the libevent loop
// that connects them to peers and to clients.
//
// Every loop iteration handles whatever arrived (peer messages, client submissions, the tick
// timer), then drains the core's Ready output: the leader's Accepts go out at once, and so do the
// answers to clients whose submissions committed (committed = durable on a majority); the other
// messages wait for one durable write of the iteration's entries (group commit), after which
// committed proposals are applied. Output queued during the iteration (replies to clients,
// messages to peers) is written at its end, one send() per connection. Clients submit with
// Submit frames on the peer port and get a SubmitResult with the log index once their bytes are
// committed.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/config.h"
#include "paxos/core/replica.h"
#include "paxos/node/libevent_handles.h"
#include "paxos/node/micro_timer.h"
#include "paxos/node/stream.h"
#include "paxos/node/storage_writer.h"
#include "paxos/storage/log_store.h"
#include "paxos/wire/frame.h"

namespace lockstep::node {

class PeerLink;
class InboundConnection;

struct NodeCounters {
  uint64_t frames_rejected = 0;
  uint64_t submissions = 0;
  uint64_t commits_acknowledged = 0;
  uint64_t entries_written = 0;   // entries handed to storage
  uint64_t max_batch = 0;       // most proposals in one entry this node appended as leader
  uint64_t leader_entries = 0;    // entries this node appended as leader
  uint64_t leader_proposals = 0;  // proposals in them (their mean batch = this / leader_entries)
  // Clients answered here, and their time (ns, summed) from submission to the cut of the entry
  // holding it, and from that cut to the answer (the entry's Accept round to a majority).
  uint64_t answered = 0;
  uint64_t batch_wait_ns = 0;
  uint64_t commit_wait_ns = 0;
  uint64_t loop_turns = 0;
};

class Node {
 public:
  // Opens the log in the node's data directory and restores from it. Throws StorageError or
  // std::runtime_error with one line on failure (port in use, bad id).
  Node(ClusterConfig config, paxos::NodeId id);
  ~Node();

  // Runs until SIGTERM/SIGINT or stop().
  void run();
  void stop();

  // Committed proposals, in log order, on every replica; set before run().
  using ApplyFn = std::function<void(const paxos::CommittedProposal&)>;
  void set_apply(ApplyFn apply) { apply_ = std::move(apply); }

  // Submits bytes from inside this process (the proxy). They reach every replica's apply
  // callback, in log order, once committed; the returned id identifies them there.
  paxos::ProposalId propose(std::string data);

  // Hooks for the proxy (proxy/): extra fields for status_json(), and how long ago this node
  // last heard from a peer (since this node started if never), to decide when a peer is down.
  using StatusFn = std::function<void(nlohmann::json&)>;
  void set_status_extra(StatusFn fn) { status_extra_ = std::move(fn); }
  std::chrono::milliseconds since_heard(paxos::NodeId peer) const;

  const paxos::Replica& replica() const { return *replica_; }
  const NodeCounters& counters() const { return counters_; }
  event_base* base() const { return base_.get(); }

  // Called by inbound connections.
  void on_peer_message(const paxos::Message& message);
  void on_submit(uint64_t connection_id, uint64_t request_id, std::string_view data);
  void on_connection_closed(uint64_t connection_id);
  void on_frame_rejected() { ++counters_.frames_rejected; }
  const ClusterConfig& config() const { return config_; }
  const wire::FrameCodec& codec() const { return codec_; }
  std::string status_json() const;

 private:
  struct Waiter {
    uint64_t seq;  // the proposal's seq (this incarnation)
    uint64_t connection_id;
    uint64_t request_id;
    uint64_t submitted_ns;  // wall clock, like Entry::stamp_ns
    bool answered = false;
  };
  static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self);
  static void on_tick(evutil_socket_t, short, void* self);
  void on_batch_delay();
  static void on_signal(evutil_socket_t, short, void* self);
  // A Ready taken from the core whose write may still be in progress; it is finished (rest of
  // the messages sent, committed proposals applied, core advanced) strictly in order.
  struct InFlight {
    paxos::Ready ready;
    bool writes = false;
  };
  void process_ready();
  void on_writes_done(uint64_t count);
  void answer_committed(const paxos::Ready& ready);
  void finish(paxos::Ready& ready);
  void send(const paxos::Message& message);
  void answer(const Waiter& waiter, paxos::Index index);

  ClusterConfig config_;
  paxos::NodeId id_;
  wire::FrameCodec codec_;
  EventBasePtr base_;
  paxos::LogStore store_;
  std::unique_ptr<paxos::Replica> replica_;
  std::unique_ptr<StorageWriter> writer_;  // after store_: stopped before the store closes
  std::deque<InFlight> in_flight_;
  uint64_t writes_done_ = 0;  // completed writes not yet matched to an InFlight
  ListenerPtr listener_;
  EventPtr tick_timer_;
  std::unique_ptr<MicroTimer> batch_timer_;  // cuts a held batch: batch_quiet_us / max_batch_delay_us
  bool batch_released_ = false;   // the delay just expired: cut before holding again
  uint64_t hold_started_ns_ = 0;  // monotonic: the held batch's timer was first armed
  uint64_t last_arrival_ns_ = 0;  // monotonic: the latest submission (local, forwarded, proxy) arrived
  EventPtr sigterm_, sigint_;
  FlushList flush_list_;  // before the streams: they leave it when destroyed
  std::map<paxos::NodeId, std::unique_ptr<PeerLink>> peers_;
  std::unordered_map<uint64_t, std::unique_ptr<InboundConnection>> connections_;
  std::vector<std::unique_ptr<InboundConnection>> closing_;  // freed after their callbacks return
  // Clients waiting for a commit, in seq order (submit hands out increasing seqs). Commits come
  // nearly in that order, so lookups land at the front and no node is allocated per submission.
  std::deque<Waiter> waiters_;
  uint64_t next_connection_id_ = 1;
  size_t max_pending_ = 100000;
  bool stopping_ = false;
  bool storage_failed_ = false;
  ApplyFn apply_;
  StatusFn status_extra_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::map<paxos::NodeId, std::chrono::steady_clock::time_point> last_heard_;
  NodeCounters counters_;
  std::string scratch_;
};

}  // namespace lockstep::node
