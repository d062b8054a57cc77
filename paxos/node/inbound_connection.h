// A connection accepted on the peer port: either a peer sending us its messages or a client
// submitting to the log. The first frame (Hello) says which; anything malformed, forged or out
// of place closes the connection and is counted.
#pragma once

#include <cstdint>
#include <string>

#include "paxos/node/libevent_handles.h"
#include "paxos/wire/client_messages.h"
#include "paxos/wire/frame.h"

namespace lockstep::node {

class Node;

class InboundConnection {
 public:
  InboundConnection(Node& node, uint64_t id, BuffereventPtr bev, std::string remote);
  InboundConnection(const InboundConnection&) = delete;
  InboundConnection& operator=(const InboundConnection&) = delete;

  // Appends a SubmitResult frame to the output.
  void send_result(const wire::SubmitResult& result);
  bool is_client() const { return state_ == State::Client; }

 private:
  enum class State { AwaitingHello, Peer, Client };
  static void on_read(bufferevent*, void* self);
  static void on_event(bufferevent*, short what, void* self);
  bool handle_frame(wire::FrameKind kind, std::string_view payload);
  void reject(const std::string& why);  // logs and asks the node to drop this connection

  Node& node_;
  uint64_t id_;
  BuffereventPtr bev_;
  std::string remote_;
  State state_ = State::AwaitingHello;
  uint32_t peer_id_ = 0;
  wire::RejectCounters rejects_;
  std::string scratch_;
};

}  // namespace lockstep::node
