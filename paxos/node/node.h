// One replica's node process: the Multi-Paxos core, its Berkeley DB log, and the libevent loop
// that connects them to peers and to clients.
//
// Every loop iteration handles whatever arrived (peer messages, client submissions, the tick
// timer), then drains the core's Ready output: the leader's Accepts go out at once, everything
// else waits for one durable write of the iteration's entries (group commit), then committed
// proposals are applied. Clients submit with Submit frames on the peer port and get a
// SubmitResult with the log index once their bytes are committed.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/config.h"
#include "paxos/core/replica.h"
#include "paxos/node/libevent_handles.h"
#include "paxos/storage/log_store.h"
#include "paxos/wire/frame.h"

namespace lockstep::node {

class PeerLink;
class InboundConnection;

struct NodeCounters {
  uint64_t frames_rejected = 0;
  uint64_t submissions = 0;
  uint64_t commits_acknowledged = 0;
  uint64_t entries_written = 0;
  uint64_t writes = 0;          // durable write transactions (each one fsync with durability fsync)
  uint64_t max_batch = 0;       // most proposals in one entry this node appended as leader
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
  paxos::ProposalId propose(std::string data) { return replica_->submit(std::move(data)); }

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
    uint64_t connection_id;
    uint64_t request_id;
  };
  static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self);
  static void on_tick(evutil_socket_t, short, void* self);
  static void on_signal(evutil_socket_t, short, void* self);
  void process_ready();
  void send(const paxos::Message& message);
  void answer(const Waiter& waiter, paxos::Index index);

  ClusterConfig config_;
  paxos::NodeId id_;
  wire::FrameCodec codec_;
  EventBasePtr base_;
  paxos::LogStore store_;
  std::unique_ptr<paxos::Replica> replica_;
  ListenerPtr listener_;
  EventPtr tick_timer_;
  EventPtr sigterm_, sigint_;
  std::map<paxos::NodeId, std::unique_ptr<PeerLink>> peers_;
  std::unordered_map<uint64_t, std::unique_ptr<InboundConnection>> connections_;
  std::vector<std::unique_ptr<InboundConnection>> closing_;  // freed after their callbacks return
  std::unordered_map<uint64_t, Waiter> waiters_;  // by proposal seq (this incarnation)
  uint64_t next_connection_id_ = 1;
  size_t max_pending_ = 100000;
  bool stopping_ = false;
  ApplyFn apply_;
  NodeCounters counters_;
  std::string scratch_;
};

}  // namespace lockstep::node
