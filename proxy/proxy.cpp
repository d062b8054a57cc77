// Proxy setup and the origin side: accepting clients, batching their events into proposals,
// backpressure on client reads, and the housekeeping timer.
#include "proxy/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace lockstep::proxy {
namespace {


sockaddr_in ipv4(const std::string& host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    throw std::runtime_error(fmt::format("proxy: bad IPv4 address '{}'", host));
  return addr;
}

// Each client costs the origin two descriptors (client + server); a thousand clients need more
// than the usual soft limit of 1024.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) log::warn("proxy: cannot raise RLIMIT_NOFILE: {}", strerror(errno));
  }
}

}  // namespace

Proxy::Proxy(node::Node& node, ProxyOptions options)
    : node_(node),
      options_(std::move(options)),
      self_(node.replica().id()),
      incarnation_(node.replica().incarnation()),
      digests_(node.config().nodes.size(), 65536) {
  restart_point_ = node_.replica().commit_index();
  const NodeConfig& me = node_.config().node(self_);
  // Three election timeouts: a peer that is merely slow (a loaded machine) must not lose its
  // clients, and one that is gone has lost the leadership or its votes long before.
  if (options_.down_after.count() == 0)
    options_.down_after = std::chrono::milliseconds(3 * node_.config().timeouts.election_timeout_max_ms);
  raise_fd_limit();
  read_buffer_ = std::make_unique_for_overwrite<char[]>(kMaxSingleRead);

  sockaddr_in server = ipv4(me.host, me.server_port);
  std::memcpy(&server_addr_, &server, sizeof server);
  server_addrlen_ = sizeof server;

  sockaddr_in listen_addr = ipv4(me.host, me.proxy_port);
  listener_.reset(evconnlistener_new_bind(node_.base(), &Proxy::on_accept, this,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
                                          reinterpret_cast<sockaddr*>(&listen_addr), sizeof listen_addr));
  if (!listener_) {
    throw std::runtime_error(fmt::format("proxy: cannot listen on {}:{}: {}", me.host, me.proxy_port,
                                         evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR())));
  }
  evconnlistener_set_error_cb(listener_.get(), &Proxy::on_accept_error);
  // Accepted sockets inherit TCP_NODELAY from the listener: one setsockopt here instead of one
  // per client.
  int one = 1;
  setsockopt(evconnlistener_get_fd(listener_.get()), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  flush_event_.reset(event_new(node_.base(), -1, 0, &Proxy::on_flush, this));
  hold_timer_.reset(evtimer_new(node_.base(), &Proxy::on_hold, this));
  timer_.reset(event_new(node_.base(), -1, EV_PERSIST, &Proxy::on_timer, this));
  timeval tv{static_cast<time_t>(options_.timer.count() / 1000),
             static_cast<suseconds_t>((options_.timer.count() % 1000) * 1000)};
  event_add(timer_.get(), &tv);

  node_.set_apply([this](const paxos::CommittedProposal& c) { apply(c); });
  node_.set_status_extra([this](nlohmann::json& j) { status(j); });

  // Whatever clients an earlier run of this node had are gone with it: close their connections
  // on every replica, at one log position.
  if (incarnation_ > 1) {
    queue(Op{.type = EventType::OriginDown,
              .conn = ConnId{self_, incarnation_ - 1, std::numeric_limits<uint64_t>::max()}});
    ++counters_.origin_down_proposed;
  }
  log::info("proxy: clients on {}:{}, server at {}:{}{}", me.host, me.proxy_port, me.host, me.server_port,
            options_.app.empty() ? "" : fmt::format(" (app {})", options_.app));
}

Proxy::~Proxy() {
  nlohmann::json t;
  timings_.to_json(t);
  log::info("proxy: timing (us) {}", t.dump());
  node_.set_apply(nullptr);
  node_.set_status_extra(nullptr);
}

bool Proxy::is_mine(const ConnId& id) const { return id.node == self_ && id.incarnation == incarnation_; }

Proxy::Client* Proxy::origin_client(const ConnId& id) {
  if (!is_mine(id)) return nullptr;
  auto it = clients_.find(id.counter);
  return it == clients_.end() || it->second->gone ? nullptr : it->second.get();
}

void Proxy::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* self = static_cast<Proxy*>(arg);
  auto c = std::make_unique<Client>();
  c->owner = self;
  c->id = ConnId{self->self_, self->incarnation_, self->next_counter_++};
  c->accepted_at = Clock::now();
  c->bev.reset(bufferevent_socket_new(self->node_.base(), fd, BEV_OPT_CLOSE_ON_FREE));
  if (!c->bev) {
    evutil_closesocket(fd);
    return;
  }
  bufferevent* bev = c->bev.get();
  bufferevent_setcb(bev, nullptr, &Proxy::on_client_write, &Proxy::on_client_event, c.get());
  // The write callback fires once the client has taken half of a full output buffer, to
  // resume the server.
  bufferevent_setwatermark(bev, EV_WRITE, self->options_.client_output_limit / 2, 0);
  bufferevent_set_max_single_write(bev, kMaxSingleRead);
  // EV_WRITE (on by default) only while a reply waits for room in the socket (send_or_queue).
  bufferevent_disable(bev, EV_WRITE);
  c->input.reset(evbuffer_new());
  if (!c->input) return;
  c->read_event.reset(event_new(self->node_.base(), fd, EV_READ | EV_PERSIST, &Proxy::on_client_readable, c.get()));
  if (!c->read_event || event_add(c->read_event.get(), nullptr) != 0) return;  // frees c, closes fd
  ++self->counters_.accepted;
  self->queue(Op{.type = EventType::Connect, .conn = c->id});
  self->clients_.emplace(c->id.counter, std::move(c));
}

void Proxy::on_accept_error(evconnlistener*, void* arg) {
  // Usually EMFILE: keep the listener; the next accept may succeed once connections close.
  (void)arg;
  log::warn("proxy: accept failed: {}", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

void Proxy::on_client_readable(evutil_socket_t fd, short, void* arg) {
  auto* c = static_cast<Client*>(arg);
  Proxy* self = c->owner;
  evbuffer* in = c->input.get();
  size_t have = evbuffer_get_length(in);
  if (have >= self->options_.read_chunk) {
    self->update_reading(*c);  // full until the next flush takes it
    return;
  }
  ssize_t n = ::read(fd, self->read_buffer_.get(), std::min(self->options_.read_chunk - have, kMaxSingleRead));
  if (n > 0) {
    evbuffer_add(in, self->read_buffer_.get(), static_cast<size_t>(n));
    if (!c->queued) {
      c->queued = true;
      self->queue(Op{.type = EventType::Data, .conn = c->id});
    }
    if (have + static_cast<size_t>(n) >= self->options_.read_chunk) self->update_reading(*c);
  } else if (n == 0) {
    self->client_eof(*c);
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    self->client_gone(*c);
  }
}

void Proxy::client_eof(Client& c) {
  timings_.eof_to_close.add(c.server_eof_at, Clock::now());
  c.read_eof = true;
  c.reading = false;
  c.read_event.reset();
  if (c.write_shut) {
    // The reply is complete and passed on: CLOSE alone (a SHUTDOWN and then the close) is the
    // same to every server, one event and one syscall per replica less.
    client_gone(c, true);
    return;
  }
  queue(Op{.type = EventType::Shutdown, .conn = c.id});
}

// Sends bytes straight to a bufferevent's socket when nothing is queued before them, rather than
// through the write event: libevent would switch EPOLLOUT on and off around every write (two
// epoll_ctl and a loop turn). What the kernel does not take goes into the output with EV_WRITE
// enabled, which sends it later or reports a write error through the event callback; the write
// callbacks disable EV_WRITE again once the output is empty.
void Proxy::send_or_queue(bufferevent* bev, const char* p, size_t n) {
  evbuffer* out = bufferevent_get_output(bev);
  if (evbuffer_get_length(out) == 0 && !(bufferevent_get_enabled(bev) & EV_WRITE)) {
    ssize_t w = ::send(bufferevent_getfd(bev), p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
    }
    if (n == 0) return;
  }
  evbuffer_add(out, p, n);
  bufferevent_enable(bev, EV_WRITE);
}

void Proxy::on_client_write(bufferevent* bev, void* arg) {
  auto* c = static_cast<Client*>(arg);
  Proxy* self = c->owner;
  size_t pending = evbuffer_get_length(bufferevent_get_output(bev));
  if (pending == 0) bufferevent_disable(bev, EV_WRITE);
  if (c->server_eof && !c->write_shut && pending == 0) {
    // Every reply byte has reached the client: pass the server's close on.
    shutdown(bufferevent_getfd(bev), SHUT_WR);
    c->write_shut = true;
    self->maybe_finish_client(*c);
    return;
  }
  auto it = self->servers_.find(c->id);
  if (it != self->servers_.end() && pending <= self->options_.client_output_limit)
    self->resume_server_reading(*it->second);
}

void Proxy::on_client_event(bufferevent*, short what, void* arg) {
  auto* c = static_cast<Client*>(arg);
  Proxy* self = c->owner;
  if (c->gone) return;
  // Only writes go through the bufferevent: this is a failed write to the client.
  if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) self->client_gone(*c);
}

void Proxy::client_gone(Client& c, bool finished) {
  if (c.gone) return;
  c.gone = true;
  c.reading = false;
  c.read_event.reset();
  bufferevent_disable(c.bev.get(), EV_READ | EV_WRITE);
  // After a complete exchange (both sides closed, every reply byte passed on) nobody waits for
  // the CLOSE: the client is done and the server only lingers for it. It rides along with the
  // next proposal (usually the next request's CONNECT and DATA) instead of making its own.
  queue(Op{.type = EventType::Close, .conn = c.id}, finished ? options_.close_hold : std::chrono::microseconds{0});
}

void Proxy::maybe_finish_client(Client& c) {
  if (c.read_eof && c.write_shut) client_gone(c, true);
}

void Proxy::queue(Op op, std::chrono::microseconds hold) {
  ops_.push_back(op);
  if (op.type == EventType::Connect) hold = options_.connect_hold;
  if (op.type == EventType::Digest) hold = options_.digest_hold;
  if (hold.count() > 0) {
    hold_until_ = std::min(hold_until_, Clock::now() + hold);
  } else {
    urgent_pending_ = true;
  }
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    // Runs after the callbacks already active in this loop iteration: everything that arrived
    // in one iteration goes into one proposal.
    event_active(flush_event_.get(), EV_TIMEOUT, 0);
  }
}

void Proxy::on_flush(evutil_socket_t, short, void* arg) { static_cast<Proxy*>(arg)->flush(); }

void Proxy::on_hold(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Proxy*>(arg);
  self->hold_armed_ = false;
  if (self->ops_.empty()) return;
  ++self->counters_.holds_expired;
  self->flush(true);
}

void Proxy::propose_batch() {
  if (writer_.empty()) return;
  std::string batch = writer_.finish();
  counters_.bytes_proposed += batch.size();
  ++counters_.batches_proposed;
  if (proposed_at_.size() >= 4096) proposed_at_.pop_front();  // never applied (a lost leader): forget
  proposed_at_.emplace_back(next_seq_, Clock::now());
  node_.propose(std::move(batch));
  writer_.begin(++next_seq_);
}

void Proxy::take_input(Client& c) {
  c.queued = false;
  evbuffer* in = c.input.get();
  size_t left = evbuffer_get_length(in);
  if (left > 0 && !c.data_seen) {
    c.data_seen = true;
    timings_.accept_to_data.add(c.accepted_at, Clock::now());
  }
  while (left > 0) {
    size_t room = writer_.size() < options_.max_batch_bytes ? options_.max_batch_bytes - writer_.size() : 0;
    size_t n = std::min(left, std::max<size_t>(room, 64 * 1024));
    char* slot = writer_.data_slot(c.id, static_cast<uint32_t>(n));
    evbuffer_remove(in, slot, n);
    left -= n;
    c.inflight += n;
    inflight_total_ += n;
    if (writer_.size() >= options_.max_batch_bytes) propose_batch();
  }
  update_reading(c);
}

void Proxy::flush(bool force) {
  flush_scheduled_ = false;
  if (ops_.empty()) return;
  if (!urgent_pending_ && !force) {
    // Only events that may wait: a CONNECT whose client has not spoken yet (its first bytes
    // usually follow within a millisecond: one log entry instead of two), digests (they ride
    // along with the next proposal). The timer sends them when the first one's time is up.
    auto now = Clock::now();
    if (now < hold_until_) {
      if (!hold_armed_ || hold_until_ < hold_timer_at_) {
        hold_timer_at_ = hold_until_;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(hold_until_ - now).count() + 1;
        timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
        evtimer_add(hold_timer_.get(), &tv);
        hold_armed_ = true;
      }
      return;
    }
  }
  urgent_pending_ = false;
  hold_until_ = Clock::time_point::max();
  if (hold_armed_) {
    evtimer_del(hold_timer_.get());
    hold_armed_ = false;
  }
  writer_.begin(next_seq_);
  for (const Op& op : ops_) {
    auto it = op.conn.node == self_ && op.conn.incarnation == incarnation_ ? clients_.find(op.conn.counter)
                                                                         : clients_.end();
    Client* c = it == clients_.end() ? nullptr : it->second.get();
    switch (op.type) {
      case EventType::Data:
        if (c) take_input(*c);
        break;
      case EventType::Connect:
        writer_.add(op.type, op.conn);
        break;
      case EventType::Shutdown:
        if (c) take_input(*c);
        writer_.add(op.type, op.conn);
        break;
      case EventType::Close:
        if (c) {
          take_input(*c);
          clients_.erase(it);  // closes the client socket
        }
        writer_.add(op.type, op.conn);
        break;
      case EventType::Digest:
        writer_.add_digest(op.conn, op.replica, op.offset, op.hash, op.final);
        ++counters_.digests_proposed;
        break;
      case EventType::OriginDown:
        writer_.add(op.type, op.conn);
        break;
    }
    if (writer_.size() >= options_.max_batch_bytes) propose_batch();
  }
  ops_.clear();
  propose_batch();
}

void Proxy::update_reading(Client& c) {
  if (c.gone || c.read_eof || !c.read_event) return;
  size_t server_out = 0;
  auto it = servers_.find(c.id);
  if (it != servers_.end() && it->second->bev) server_out = evbuffer_get_length(bufferevent_get_output(it->second->bev.get()));
  // The input stops growing at read_chunk until the next flush takes it.
  bool want = c.inflight + server_out < options_.conn_inflight_limit && inflight_total_ < options_.global_inflight_limit &&
              evbuffer_get_length(c.input.get()) < options_.read_chunk;
  if (want == c.reading) return;
  c.reading = want;
  if (want) {
    event_add(c.read_event.get(), nullptr);
  } else {
    event_del(c.read_event.get());
  }
}

void Proxy::on_timer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Proxy*>(arg);
  // Clients paused by the global limit are not tied to any one commit: retry them here.
  if (self->inflight_total_ < self->options_.global_inflight_limit) {
    for (auto& [counter, c] : self->clients_)
      if (!c->reading) self->update_reading(*c);
  }
  // Connections closed by the log whose server never sent its EOF.
  auto now = std::chrono::steady_clock::now();
  std::vector<ConnId> expired;
  for (const auto& [id, s] : self->servers_)
    if (s->closing && now >= s->linger_until) expired.push_back(id);
  for (const ConnId& id : expired) self->free_server(id);
  self->check_down_peers();
}

void Proxy::check_down_peers() {
  if (node_.replica().role() != paxos::Role::Leader) return;
  for (const NodeConfig& n : node_.config().nodes) {
    if (n.id == self_ || node_.since_heard(n.id) < options_.down_after) continue;
    ConnId newest;
    for (const auto& [id, s] : servers_)
      if (id.node == n.id && !s->closing && id > newest) newest = id;
    if (newest.node == 0) continue;
    auto it = down_proposed_.find(n.id);
    if (it != down_proposed_.end() && !(it->second < newest)) continue;
    down_proposed_[n.id] = newest;
    log::warn("proxy: node {} silent for {} ms: closing its connections up to {}", n.id,
              node_.since_heard(n.id).count(), to_string(newest));
    queue(Op{.type = EventType::OriginDown, .conn = newest});
    ++counters_.origin_down_proposed;
  }
}

void Proxy::status(nlohmann::json& j) const {
  size_t lingering = 0;
  for (const auto& [id, s] : servers_) lingering += s->closing;
  j["divergences"] = counters_.divergences;
  j["connections"] = servers_.size() - lingering;
  j["proxy"] = {
      {"app", options_.app},
      {"clients", clients_.size()},
      {"server_connections", servers_.size()},
      {"lingering", lingering},
      {"inflight_bytes", inflight_total_},
      {"accepted", counters_.accepted},
      {"batches_proposed", counters_.batches_proposed},
      {"bytes_proposed", counters_.bytes_proposed},
      {"batches_applied", counters_.batches_applied},
      {"batches_rejected", counters_.batches_rejected},
      {"batches_held", counters_.batches_held},
      {"foreign_proposals", counters_.foreign_proposals},
      {"events_applied", counters_.events_applied},
      {"events_ignored", counters_.events_ignored},
      {"server_connect_failures", counters_.server_connect_failures},
      {"origin_down_proposed", counters_.origin_down_proposed},
      {"origin_down_applied", counters_.origin_down_applied},
      {"digests_proposed", counters_.digests_proposed},
      {"digests_compared", digests_.compared()},
      {"restart_point", restart_point_},
      {"replay_skipped", counters_.replay_skipped},
      {"holds_expired", counters_.holds_expired},
  };
  timings_.to_json(j["proxy"]["timing_us"]);
}

}  // namespace lockstep::proxy
