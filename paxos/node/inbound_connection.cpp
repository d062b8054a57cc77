#include "paxos/node/inbound_connection.h"

#include "common/log.h"
#include "paxos/node/frame_reader.h"
#include "paxos/node/node.h"
#include "paxos/wire/message_codec.h"

namespace lockstep::node {

InboundConnection::InboundConnection(Node& node, uint64_t id, BuffereventPtr bev, std::string remote)
    : node_(node), id_(id), bev_(std::move(bev)), remote_(std::move(remote)) {
  bufferevent_setcb(bev_.get(), &InboundConnection::on_read, nullptr, &InboundConnection::on_event, this);
  bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
  // Until it says who it is, a connection gets little patience: a peer port held open by
  // half-sent Hellos would otherwise cost a descriptor each, forever.
  timeval hello_timeout{10, 0};
  bufferevent_set_timeouts(bev_.get(), &hello_timeout, nullptr);
}

void InboundConnection::send_result(const wire::SubmitResult& result) {
  scratch_.clear();
  wire::append_frame(node_.codec(), result, scratch_);
  bufferevent_write(bev_.get(), scratch_.data(), scratch_.size());
}

void InboundConnection::reject(const std::string& why) {
  node_.on_frame_rejected();
  log::warn("closing connection from {}: {}", remote_, why);
  node_.on_connection_closed(id_);  // destroys this object
}

void InboundConnection::on_read(bufferevent* bev, void* self) {
  auto* conn = static_cast<InboundConnection*>(self);
  std::string error;
  bool closed = false;
  ReadOutcome outcome = read_frames(
      bufferevent_get_input(bev), conn->node_.codec(), conn->rejects_, error,
      [&](wire::FrameKind kind, std::string_view payload) {
        if (conn->handle_frame(kind, payload)) return true;
        closed = true;
        return false;
      });
  if (closed) return;  // handle_frame already rejected and destroyed the connection
  if (outcome == ReadOutcome::Rejected) conn->reject("bad frame: " + error);
}

void InboundConnection::on_event(bufferevent*, short what, void* self) {
  auto* conn = static_cast<InboundConnection*>(self);
  if (what & BEV_EVENT_TIMEOUT) {
    conn->reject("no Hello within 10 s");
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) conn->node_.on_connection_closed(conn->id_);
}

// Returns false after rejecting (the object is gone then).
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
      bufferevent_set_timeouts(bev_.get(), nullptr, nullptr);
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
        scratch_.clear();
        node_.codec().encode(wire::FrameKind::Status, node_.status_json(), scratch_);
        bufferevent_write(bev_.get(), scratch_.data(), scratch_.size());
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
