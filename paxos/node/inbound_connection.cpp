#include "paxos/node/inbound_connection.h"

#include "common/log.h"
#include "paxos/node/node.h"
#include "paxos/wire/message_codec.h"

namespace lockstep::node {

InboundConnection::InboundConnection(Node& node, uint64_t id, int fd, std::string remote, FlushList& flush_list)
    : node_(node), id_(id), stream_(node.base(), fd, *this, &flush_list), remote_(std::move(remote)) {
  // Until it says who it is, a connection gets little patience: a peer port held open by
  // half-sent Hellos would otherwise cost a descriptor each, forever.
  hello_timer_.reset(evtimer_new(node.base(), &InboundConnection::on_hello_timeout, this));
  timeval hello_timeout{10, 0};
  evtimer_add(hello_timer_.get(), &hello_timeout);
}

void InboundConnection::send_result(const wire::SubmitResult& result) {
  wire::append_frame(node_.codec(), result, stream_.output());
  stream_.queue_output();
}

void InboundConnection::reject(const std::string& why) {
  node_.on_frame_rejected();
  log::warn("closing connection from {}: {}", remote_, why);
  stream_.close();
  hello_timer_.reset();
  node_.on_connection_closed(id_);  // frees this object after the loop turn
}

void InboundConnection::on_hello_timeout(evutil_socket_t, short, void* self) {
  static_cast<InboundConnection*>(self)->reject("no Hello within 10 s");
}

void InboundConnection::on_closed(Stream&, std::string_view) {
  hello_timer_.reset();
  node_.on_connection_closed(id_);
}

void InboundConnection::on_input(Stream& stream) {
  const wire::FrameCodec& codec = node_.codec();
  for (;;) {
    std::string_view in = stream.input();
    if (in.empty()) return;
    wire::DecodeResult r = codec.decode(in, rejects_);
    if (r.failed()) {
      reject("bad frame: " + r.error);
      return;
    }
    if (r.need_more()) {
      stream.expect(r.need);
      return;
    }
    if (!handle_frame(r.kind, r.payload)) return;  // rejected: the stream is closed
    stream.consume(r.consumed);
  }
}

// Returns false after rejecting (the stream is closed then).
bool InboundConnection::handle_frame(wire::FrameKind kind, std::string_view payload) {
  switch (state_) {
    case State::AwaitingHello: {
      auto hello = kind == wire::FrameKind::Hello ? wire::decode_hello(payload) : std::nullopt;
      if (!hello) {
        reject("first frame is not a valid Hello");
        return false;
      }
      if (hello->cluster != node_.config().name) {
        reject(fmt::format("Hello for cluster '{}', this is '{}'", hello->cluster, node_.config().name));
        return false;
      }
      if (hello->role == wire::Role::Peer) {
        bool known = false;
        for (const auto& n : node_.config().nodes) known |= n.id == hello->node_id;
        if (!known || hello->node_id == node_.replica().id()) {
          reject(fmt::format("Hello from unknown peer id {}", hello->node_id));
          return false;
        }
        state_ = State::Peer;
        peer_id_ = hello->node_id;
      } else {
        state_ = State::Client;
      }
      hello_timer_.reset();
      return true;
    }
    case State::Peer: {
      auto message = kind == wire::FrameKind::Paxos ? wire::decode_message(payload) : std::nullopt;
      // A peer speaks only for itself: a message naming another sender is forged or confused.
      if (!message || message->from != peer_id_) {
        reject(message ? "message with a foreign sender id" : "malformed paxos message");
        return false;
      }
      node_.on_peer_message(*message);
      return true;
    }
    case State::Client: {
      if (kind == wire::FrameKind::StatusRequest) {
        node_.codec().encode(wire::FrameKind::Status, node_.status_json(), stream_.output());
        stream_.queue_output();
        return true;
      }
      auto submit = kind == wire::FrameKind::Submit ? wire::decode_submit(payload) : std::nullopt;
      if (!submit) {
        reject("malformed client frame");
        return false;
      }
      node_.on_submit(id_, submit->request_id, submit->data);
      return true;
    }
  }
  return false;
}

}  // namespace lockstep::node
