// The outbound half of a replica-to-replica connection: this node sends its messages for one
// peer over a TCP connection it opened itself, and reconnects with backoff when it drops.
// (Each pair of replicas thus has two connections, one per direction, which keeps both ends
// simple: no connection races, no deciding who dials whom.) Messages for a peer that is not
// connected are dropped; the protocol retransmits what matters. Messages are encoded straight
// into the connection's output and leave with the loop turn's flush: one send() per peer per
// turn, however many messages the turn produced.
#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "paxos/core/message.h"
#include "paxos/node/libevent_handles.h"
#include "paxos/node/stream.h"
#include "paxos/wire/frame.h"

namespace lockstep::node {

class PeerLink final : private Stream::Handler {
 public:
  PeerLink(event_base* base, const wire::FrameCodec& codec, const NodeConfig& peer,
           std::string hello_frame, size_t max_queued_bytes, FlushList& flush_list);
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;

  void send(const paxos::Message& message);
  bool connected() const { return connected_; }
  uint64_t dropped() const { return dropped_; }

 private:
  void on_input(Stream& stream) override;
  void on_closed(Stream& stream, std::string_view why) override;
  void on_connected(Stream& stream) override;
  static void on_retry(evutil_socket_t, short, void* self);
  void connect();
  void schedule_retry();

  event_base* base_;
  const wire::FrameCodec& codec_;
  NodeConfig peer_;
  std::string hello_frame_;
  size_t max_queued_bytes_;
  FlushList& flush_list_;
  std::unique_ptr<Stream> stream_;
  std::unique_ptr<Stream> retired_;  // closed from its own callback; freed at the next connect
  EventPtr retry_timer_;
  bool connected_ = false;
  int backoff_ms_ = 50;
  uint64_t dropped_ = 0;
};

}  // namespace lockstep::node
