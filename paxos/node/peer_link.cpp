#include "paxos/node/peer_link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>

#include "common/log.h"
#include "paxos/wire/message_codec.h"

namespace lockstep::node {

PeerLink::PeerLink(event_base* base, const wire::FrameCodec& codec, const NodeConfig& peer,
                   std::string hello_frame, size_t max_queued_bytes)
    : base_(base), codec_(codec), peer_(peer), hello_frame_(std::move(hello_frame)),
      max_queued_bytes_(max_queued_bytes) {
  retry_timer_.reset(evtimer_new(base_, &PeerLink::on_retry, this));
  connect();
}

void PeerLink::connect() {
  bev_.reset(bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(peer_.peer_port);
  inet_pton(AF_INET, peer_.host.c_str(), &addr.sin_addr);
  bufferevent_setcb(bev_.get(), &PeerLink::on_read, nullptr, &PeerLink::on_event, this);
  bufferevent_enable(bev_.get(), EV_READ);
  if (bufferevent_socket_connect(bev_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    bev_.reset();
    schedule_retry();
  }
}

void PeerLink::schedule_retry() {
  connected_ = false;
  timeval tv{backoff_ms_ / 1000, (backoff_ms_ % 1000) * 1000};
  evtimer_add(retry_timer_.get(), &tv);
  backoff_ms_ = std::min(backoff_ms_ * 2, 1000);
}

void PeerLink::on_retry(evutil_socket_t, short, void* self) { static_cast<PeerLink*>(self)->connect(); }

void PeerLink::on_read(bufferevent* bev, void*) {
  // Peers never answer on this connection; discard anything that arrives.
  evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

void PeerLink::on_event(bufferevent* bev, short what, void* self) {
  auto* link = static_cast<PeerLink*>(self);
  if (what & BEV_EVENT_CONNECTED) {
    int one = 1;
    setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    link->connected_ = true;
    link->backoff_ms_ = 50;
    bufferevent_write(bev, link->hello_frame_.data(), link->hello_frame_.size());
    log::info("connected to peer {} at {}:{}", link->peer_.id, link->peer_.host, link->peer_.peer_port);
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    if (link->connected_) log::warn("lost connection to peer {}", link->peer_.id);
    link->bev_.reset();
    link->schedule_retry();
  }
}

void PeerLink::send(const paxos::Message& message) {
  if (!connected_ || !bev_) {
    ++dropped_;
    return;
  }
  // A peer that stops reading must not make this node grow without bound; dropping is safe
  // because the protocol resends what was not acknowledged.
  if (evbuffer_get_length(bufferevent_get_output(bev_.get())) > max_queued_bytes_) {
    ++dropped_;
    return;
  }
  scratch_.clear();
  wire::append_frame(codec_, message, scratch_);
  bufferevent_write(bev_.get(), scratch_.data(), scratch_.size());
}

}  // namespace lockstep::node
