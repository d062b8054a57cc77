// The apply side of the proxy, the same on every replica: committed batches in log order become
// operations on connections to the local server; reply bytes are hashed, and the origin's are
// forwarded to its client.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "proxy/proxy.h"

namespace lockstep::proxy {
namespace {

constexpr size_t kMaxHeldPerOrigin = 4096;

bool covered(const ConnId& id, const ConnId& bound) {
  return id.node == bound.node &&
         (id.incarnation < bound.incarnation || (id.incarnation == bound.incarnation && id.counter <= bound.counter));
}

}  // namespace

void Proxy::apply(const paxos::CommittedProposal& committed) {
  std::string_view payload = committed.proposal->data;
  if (!is_batch(payload)) {
    ++counters_.foreign_proposals;  // e.g. readiness probes submitted by clients of the log
    return;
  }
  const paxos::ProposalId& pid = committed.proposal->id;
  applying_ = committed.index;
  // Decoded in full before anything else, so garbage neither applies half nor takes the
  // sequence number of a real batch of that origin.
  std::string error;
  if (!decode_batch(payload, decoded_, error)) {
    ++counters_.batches_rejected;
    log::warn("proxy: rejected a batch from node {} at index {}: {}", pid.origin, committed.index, error);
    return;
  }
  if (pid.origin == self_ && pid.incarnation == incarnation_) {
    while (!proposed_at_.empty() && proposed_at_.front().first < decoded_.seq) proposed_at_.pop_front();
    if (!proposed_at_.empty() && proposed_at_.front().first == decoded_.seq) {
      timings_.commit.add(proposed_at_.front().second, Clock::now());
      proposed_at_.pop_front();
    }
  }
  auto key = std::make_pair(pid.origin, pid.incarnation);
  auto [next, inserted] = next_batch_.try_emplace(key, 1);
  uint64_t seq = decoded_.seq;
  if (seq < next->second) {
    ++counters_.events_ignored;
    return;
  }
  if (seq > next->second) {
    // An earlier batch of this origin is not committed yet (a retry after a leader change):
    // keep this one until it is, so a connection's bytes keep their order.
    auto& held = held_[key];
    if (held.size() >= kMaxHeldPerOrigin) {
      ++counters_.batches_rejected;
      log::warn("proxy: dropping batch {} of node {}: {} batches already waiting", seq, pid.origin, held.size());
      return;
    }
    held.emplace(seq, std::string(payload));
    ++counters_.batches_held;
    return;
  }
  apply_decoded();
  uint64_t expect = seq + 1;
  for (auto h = held_.find(key); h != held_.end() && !h->second.empty() && h->second.begin()->first == expect;
       h = held_.find(key)) {
    std::string later = std::move(h->second.begin()->second);
    h->second.erase(h->second.begin());
    if (decode_batch(later, decoded_, error)) apply_decoded();  // checked when it was held
    ++expect;
  }
  auto h = held_.find(key);
  if (h != held_.end() && h->second.empty()) held_.erase(h);
  next_batch_[key] = expect;
}

void Proxy::apply_decoded() {
  ++counters_.batches_applied;
  for (const Event& e : decoded_.events) apply_event(e);
}

void Proxy::apply_event(const Event& e) {
  ++counters_.events_applied;
  switch (e.type) {
    case EventType::Connect:
      apply_connect(e.conn);
      return;
    case EventType::Data:
      apply_data(e);
      return;
    case EventType::Shutdown:
      apply_shutdown(e.conn);
      return;
    case EventType::Close: {
      auto it = servers_.find(e.conn);
      if (it == servers_.end()) {
        ++counters_.events_ignored;
        return;
      }
      apply_close(*it->second);
      return;
    }
    case EventType::Digest:
      apply_digest(e);
      return;
    case EventType::OriginDown:
      apply_origin_down(e.conn);
      return;
  }
}

void Proxy::apply_connect(const ConnId& id) {
  if (applying_ <= restart_point_) {
    // Replay after a restart: this connection began before the restart point, against the
    // server's previous run (whose data directory is kept). Its later events find no
    // connection and are ignored. See README "Restart".
    ++counters_.replay_skipped;
    return;
  }
  auto floor = down_floor_.find(id.node);
  if (servers_.count(id) || (floor != down_floor_.end() && covered(id, floor->second))) {
    ++counters_.events_ignored;
    return;
  }
  auto s = std::make_unique<ServerConn>();
  s->owner = this;
  s->id = id;
  s->hash.reset(XXH3_createState());
  XXH3_64bits_reset(s->hash.get());
  s->next_digest = options_.digest_interval;
  s->applied_at = Clock::now();
  ServerConn& ref = *s;
  servers_.emplace(id, std::move(s));
  // Our own connect instead of bufferevent_socket_connect, which watches EPOLLOUT for the
  // handshake (an epoll_ctl to add it, one to drop it, a getsockopt and a loop turn per
  // connection). The local server's handshake normally completes inside connect(); the first
  // send() that succeeds, or the first read, proves it. Only a connection that has to wait
  // (bytes that did not fit, a shutdown before any byte) watches for writability (watch_connect).
  int fd = ::socket(server_addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    server_failed(ref, "cannot create a socket");
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // inherited by the connection
  ref.bev.reset(bufferevent_socket_new(node_.base(), fd, BEV_OPT_CLOSE_ON_FREE));
  if (!ref.bev) {
    ::close(fd);
    server_failed(ref, "cannot create a socket");
    return;
  }
  bufferevent* bev = ref.bev.get();
  bufferevent_setcb(bev, nullptr, &Proxy::on_server_write, &Proxy::on_server_event, &ref);
  bufferevent_set_max_single_write(bev, kMaxSingleRead);
  bufferevent_disable(bev, EV_WRITE);  // on only while bytes wait for room (server_write)
  if (::connect(fd, reinterpret_cast<sockaddr*>(&server_addr_), server_addrlen_) == 0) {
    server_connected(ref);
  } else if (errno != EINPROGRESS && errno != EINTR) {
    server_failed(ref, "connection refused");
    return;
  }
  // Also how a refused connection is noticed when nobody waits for it: read() says so.
  ref.read_event.reset(event_new(node_.base(), fd, EV_READ | EV_PERSIST, &Proxy::on_server_readable, &ref));
  if (!ref.read_event || event_add(ref.read_event.get(), nullptr) != 0) server_failed(ref, "cannot watch the socket");
}

void Proxy::server_connected(ServerConn& s) {
  s.connected = true;
  timings_.connect_to_server.add(s.applied_at, Clock::now());
}

void Proxy::watch_connect(ServerConn& s) {
  if (s.connected || s.dead || !s.bev) return;
  if (!s.connect_event) {
    s.connect_event.reset(
        event_new(node_.base(), bufferevent_getfd(s.bev.get()), EV_WRITE, &Proxy::on_server_connect, &s));
    if (!s.connect_event) {
      server_failed(s, "cannot watch the socket");
      return;
    }
  }
  if (!event_pending(s.connect_event.get(), EV_WRITE, nullptr) && event_add(s.connect_event.get(), nullptr) != 0)
    server_failed(s, "cannot watch the socket");
}

void Proxy::on_server_connect(evutil_socket_t fd, short, void* arg) {
  auto* s = static_cast<ServerConn*>(arg);
  Proxy* self = s->owner;
  if (s->connected || s->dead) return;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == EINPROGRESS || err == EALREADY) {  // not yet (a spurious wake-up): keep waiting
    self->watch_connect(*s);
    return;
  }
  if (err != 0) {
    self->server_failed(*s, "connection refused");
    return;
  }
  self->server_connected(*s);
  self->after_server_progress(*s);
}

// Bytes for the server. Once the handshake is proven they go like every other write
// (send_or_queue). Before that, the first send() that succeeds proves it; bytes it did not take
// queue in the bufferevent's output until the connect's write event. False if the connection
// failed here.
bool Proxy::server_write(ServerConn& s, const char* p, size_t n) {
  bufferevent* bev = s.bev.get();
  evbuffer* out = bufferevent_get_output(bev);
  if (!s.connected && evbuffer_get_length(out) == 0) {
    ssize_t w = ::send(bufferevent_getfd(bev), p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      server_connected(s);
      p += w;
      n -= static_cast<size_t>(w);
    } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ENOTCONN) {
      // Refused or reset during the handshake. send() has taken the socket's pending error, so
      // a later check would see none: report it here.
      server_failed(s, "connection refused");
      return false;
    }
    if (n == 0) return true;
  }
  if (s.connected) {
    send_or_queue(bev, p, n);
  } else {
    evbuffer_add(out, p, n);
    watch_connect(s);
  }
  return true;
}

// Once connected or after a write: queued bytes go out, a pending shutdown follows them, and the
// origin's client may read again.
void Proxy::after_server_progress(ServerConn& s) {
  if (s.connected && s.bev && evbuffer_get_length(bufferevent_get_output(s.bev.get())) > 0)
    bufferevent_enable(s.bev.get(), EV_WRITE);
  try_shut_server(s);
  if (Client* c = origin_client(s.id)) update_reading(*c);
}

void Proxy::apply_data(const Event& e) {
  if (is_mine(e.conn)) {
    size_t n = e.data.size();
    inflight_total_ -= std::min(inflight_total_, n);
    auto it = clients_.find(e.conn.counter);
    if (it != clients_.end()) it->second->inflight -= std::min(it->second->inflight, n);
  }
  auto it = servers_.find(e.conn);
  if (it == servers_.end() || it->second->dead || it->second->write_shut || !it->second->bev) {
    ++counters_.events_ignored;
    return;
  }
  ServerConn& srv = *it->second;
  if (srv.first_data_at.time_since_epoch().count() == 0) srv.first_data_at = Clock::now();
  // The one copy on the apply path: from the committed entry into the socket buffer. A
  // CONNECT usually comes in the same entry, and the local server's handshake normally completes
  // inside connect(): the bytes leave now; a socket still connecting says EAGAIN and they queue.
  server_write(srv, e.data.data(), e.data.size());
  if (Client* c = origin_client(e.conn)) update_reading(*c);
}

void Proxy::try_shut_server(ServerConn& s) {
  if (!s.shut_pending || s.write_shut || !s.bev) return;
  if (!s.connected) {
    watch_connect(s);  // a shutdown now would abort the handshake instead of sending a FIN
    return;
  }
  if (evbuffer_get_length(bufferevent_get_output(s.bev.get())) > 0) return;  // on_server_write retries
  shutdown(bufferevent_getfd(s.bev.get()), SHUT_WR);
  s.write_shut = true;
}

void Proxy::apply_shutdown(const ConnId& id) {
  auto it = servers_.find(id);
  if (it == servers_.end() || it->second->dead) {
    ++counters_.events_ignored;
    return;
  }
  it->second->shut_pending = true;
  try_shut_server(*it->second);
}

void Proxy::apply_close(ServerConn& s) {
  if (s.dead || s.server_eof) {
    free_server(s.id);
    return;
  }
  // The queued bytes still go out, then the write side is shut; the server's remaining reply
  // is read (and hashed) until its EOF or the linger time, whichever comes first.
  s.closing = true;
  s.shut_pending = true;
  s.linger_until = std::chrono::steady_clock::now() + options_.linger;
  try_shut_server(s);
}

void Proxy::apply_digest(const Event& e) {
  Divergence d;
  if (!digests_.add(e.conn, e.replica, e.offset, e.hash, e.final, d)) return;
  ++counters_.divergences;
  log::warn("proxy: DIVERGENCE on connection {} ({} digest): replica {} has {} bytes hash {:016x}, "
            "replica {} has {} bytes hash {:016x}",
            to_string(d.conn), d.final ? "final" : "periodic", d.replica_a, d.offset_a, d.hash_a, d.replica_b,
            d.offset_b, d.hash_b);
}

void Proxy::apply_origin_down(const ConnId& bound) {
  ++counters_.origin_down_applied;
  auto floor = down_floor_.find(bound.node);
  if (floor == down_floor_.end() || floor->second < bound) down_floor_[bound.node] = bound;
  std::vector<ConnId> hit;
  for (const auto& [id, s] : servers_)
    if (covered(id, bound) && !s->closing) hit.push_back(id);
  for (const ConnId& id : hit) {
    auto it = servers_.find(id);
    if (it != servers_.end()) apply_close(*it->second);
  }
  // This node's own clients, if the others decided it was down (e.g. it was cut off).
  if (bound.node == self_) {
    for (auto it = clients_.begin(); it != clients_.end();) {
      if (covered(it->second->id, bound)) {
        it = clients_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->first.first == bound.node && it->first.second < bound.incarnation) {
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  log::info("proxy: ORIGIN_DOWN {}: closed {} connections", to_string(bound), hit.size());
}

void Proxy::hash_reply(ServerConn& s, const char* p, size_t len) {
  while (len > 0) {
    size_t take = std::min<uint64_t>(len, s.next_digest - s.reply_bytes);
    XXH3_64bits_update(s.hash.get(), p, take);
    s.reply_bytes += take;
    p += take;
    len -= take;
    if (s.reply_bytes == s.next_digest) {
      queue(Op{.type = EventType::Digest, .conn = s.id, .replica = self_, .offset = s.reply_bytes,
               .hash = XXH3_64bits_digest(s.hash.get())});
      s.next_digest += options_.digest_interval;
    }
  }
}

void Proxy::on_server_readable(evutil_socket_t fd, short, void* arg) {
  auto* s = static_cast<ServerConn*>(arg);
  Proxy* self = s->owner;
  ssize_t n = ::read(fd, self->read_buffer_.get(), kMaxSingleRead);
  if (n >= 0 && !s->connected) {
    // The server spoke first (or closed) before any byte of ours: connected all the same.
    self->server_connected(*s);
    self->after_server_progress(*s);
    if (s->dead) return;
  }
  if (n > 0) {
    self->server_bytes(*s, self->read_buffer_.get(), static_cast<size_t>(n));
  } else if (n == 0) {
    self->server_eof(*s);
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    self->server_failed(*s, s->connected ? "connection reset" : "connection refused");
  }
}

void Proxy::server_bytes(ServerConn& s, const char* p, size_t n) {
  if (s.first_reply_at.time_since_epoch().count() == 0) {
    s.first_reply_at = Clock::now();
    timings_.data_to_reply.add(s.first_data_at, s.first_reply_at);
  }
  hash_reply(s, p, n);
  Client* c = origin_client(s.id);
  if (!c) return;  // not the origin (or its client left): hashed and dropped
  // The usual case: straight from the read buffer to the client, no evbuffer in between.
  send_or_queue(c->bev.get(), p, n);
  if (evbuffer_get_length(bufferevent_get_output(c->bev.get())) > options_.client_output_limit) pause_server_reading(s);
}

void Proxy::pause_server_reading(ServerConn& s) {
  if (s.read_paused || !s.read_event) return;
  s.read_paused = true;
  event_del(s.read_event.get());
}

void Proxy::resume_server_reading(ServerConn& s) {
  if (!s.read_paused || !s.read_event || s.server_eof) return;
  s.read_paused = false;
  event_add(s.read_event.get(), nullptr);
}

void Proxy::on_server_write(bufferevent* bev, void* arg) {
  auto* s = static_cast<ServerConn*>(arg);
  Proxy* self = s->owner;
  if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) bufferevent_disable(bev, EV_WRITE);
  self->after_server_progress(*s);
}

void Proxy::on_server_event(bufferevent*, short what, void* arg) {
  auto* s = static_cast<ServerConn*>(arg);
  Proxy* self = s->owner;
  if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
    self->server_failed(*s, s->connected ? "connection reset" : "connection refused");
  }
}

void Proxy::server_eof(ServerConn& s) {
  s.server_eof = true;
  Clock::time_point now = Clock::now();
  timings_.reply_to_eof.add(s.first_reply_at, now);
  s.read_event.reset();
  // The final digest: every reply byte the server sent on this connection.
  queue(Op{.type = EventType::Digest, .conn = s.id, .replica = self_, .offset = s.reply_bytes,
           .hash = XXH3_64bits_digest(s.hash.get()), .final = true});
  if (Client* c = origin_client(s.id)) {
    c->server_eof = true;
    c->server_eof_at = now;
    timings_.accept_to_eof.add(c->accepted_at, now);
    bufferevent_setwatermark(c->bev.get(), EV_WRITE, 0, 0);
    if (evbuffer_get_length(bufferevent_get_output(c->bev.get())) == 0) {
      shutdown(bufferevent_getfd(c->bev.get()), SHUT_WR);
      c->write_shut = true;
      maybe_finish_client(*c);
    }
  }
  if (s.closing) free_server(s.id);
}

void Proxy::server_failed(ServerConn& s, const char* why) {
  if (!s.connected) ++counters_.server_connect_failures;
  log::debug("proxy: server connection {}: {}", to_string(s.id), why);
  s.dead = true;
  s.read_event.reset();
  s.connect_event.reset();
  s.bev.reset();
  if (Client* c = origin_client(s.id)) client_gone(*c);
  if (s.closing) free_server(s.id);
}

void Proxy::free_server(const ConnId& id) { servers_.erase(id); }

}  // namespace lockstep::proxy
