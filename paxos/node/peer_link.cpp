#include "paxos/node/peer_link.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

#include "common/log.h"
#include "paxos/wire/message_codec.h"

namespace lockstep::node {

PeerLink::PeerLink(event_base* base, const wire::FrameCodec& codec, const NodeConfig& peer,
                   std::string hello_frame, size_t max_queued_bytes, FlushList& flush_list)
    : base_(base), codec_(codec), peer_(peer), hello_frame_(std::move(hello_frame)),
      max_queued_bytes_(max_queued_bytes), flush_list_(flush_list) {
  retry_timer_.reset(evtimer_new(base_, &PeerLink::on_retry, this));
  connect();
}

void PeerLink::connect() {
  retired_.reset();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(peer_.peer_port);
  inet_pton(AF_INET, peer_.host.c_str(), &addr.sin_addr);
  std::string error;
  stream_ = Stream::connect(base_, addr, *this, &flush_list_, error);
  if (!stream_) {
    schedule_retry();
    return;
  }
  // Queued now, sent as soon as the connection is up, ahead of every message.
  stream_->output().assign(hello_frame_);
  stream_->queue_output();
}

void PeerLink::schedule_retry() {
  connected_ = false;
  timeval tv{backoff_ms_ / 1000, (backoff_ms_ % 1000) * 1000};
  evtimer_add(retry_timer_.get(), &tv);
  backoff_ms_ = std::min(backoff_ms_ * 2, 1000);
}

void PeerLink::on_retry(evutil_socket_t, short, void* self) { static_cast<PeerLink*>(self)->connect(); }

void PeerLink::on_input(Stream& stream) {
  // Peers never answer on this connection; discard anything that arrives.
  stream.consume(stream.input().size());
}

void PeerLink::on_connected(Stream&) {
  connected_ = true;
  backoff_ms_ = 50;
  log::info("connected to peer {} at {}:{}", peer_.id, peer_.host, peer_.peer_port);
}

void PeerLink::on_closed(Stream&, std::string_view) {
  if (connected_) log::warn("lost connection to peer {}", peer_.id);
  retired_ = std::move(stream_);
  schedule_retry();
}

void PeerLink::send(const paxos::Message& message) {
  if (!connected_ || !stream_) {
    ++dropped_;
    return;
  }
  // A peer that stops reading must not make this node grow without bound; dropping is safe
  // because the protocol resends what was not acknowledged.
  if (stream_->pending_output() > max_queued_bytes_) {
    ++dropped_;
    return;
  }
  wire::append_frame(codec_, message, stream_->output());
  stream_->queue_output();
}

}  // namespace lockstep::node
