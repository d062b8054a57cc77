// A connection accepted on the peer port: either a peer sending us its messages or a client
// submitting to the log. The first frame (Hello) says which; anything malformed, forged or out
// of place closes the connection and is counted.
#pragma once

#include <cstdint>
#include <string>

#include "paxos/node/libevent_handles.h"
#include "paxos/node/stream.h"
#include "paxos/wire/client_messages.h"
#include "paxos/wire/frame.h"

namespace lockstep::node {

class Node;

class InboundConnection final : private Stream::Handler {
 public:
  // Adopts the accepted socket `fd`.
  InboundConnection(Node& node, uint64_t id, int fd, std::string remote, FlushList& flush_list);
  InboundConnection(const InboundConnection&) = delete;
  InboundConnection& operator=(const InboundConnection&) = delete;

  // Queues a SubmitResult frame; it leaves with the loop turn's flush.
  void send_result(const wire::SubmitResult& result);
  bool is_client() const { return state_ == State::Client; }

 private:
  enum class State { AwaitingHello, Peer, Client };
  void on_input(Stream& stream) override;
  void on_closed(Stream& stream, std::string_view why) override;
  static void on_hello_timeout(evutil_socket_t, short, void* self);
  bool handle_frame(wire::FrameKind kind, std::string_view payload);
  void reject(const std::string& why);  // logs, closes, and asks the node to drop this connection

  Node& node_;
  uint64_t id_;
  Stream stream_;
  EventPtr hello_timer_;
  std::string remote_;
  State state_ = State::AwaitingHello;
  uint32_t peer_id_ = 0;
  wire::RejectCounters rejects_;
};

}  // namespace lockstep::node
