#include "eval/paxos/lockstep_target.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <fmt/format.h>

#include "paxos/wire/message_codec.h"

namespace lockstep::eval {

struct LockstepTarget::Connection {
  LockstepTarget* target = nullptr;
  ClientId client = 0;
  uint16_t port = 0;
  bufferevent* bev = nullptr;
  bool busy = false;
  uint64_t request = 0;
  std::string out;
  wire::RejectCounters rejects;

  ~Connection() { close(); }
  void close() {
    if (bev) bufferevent_free(bev);
    bev = nullptr;
  }

  void connect() {
    bev = bufferevent_socket_new(target->ctx_.base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(bev, &Connection::on_read, nullptr, &Connection::on_event, this);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    out.clear();
    wire::append_frame(target->codec_, wire::Hello{.cluster = target->cluster_, .role = wire::Role::Client}, out);
    bufferevent_write(bev, out.data(), out.size());
    if (bufferevent_socket_connect(bev, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) fail("connect failed");
  }

  void fail(std::string_view why) {
    close();
    if (busy) {
      busy = false;
      target->ctx_.completions->failed(client, why);
    }
  }

  static void on_event(bufferevent* bev, short what, void* self) {
    auto* c = static_cast<Connection*>(self);
    if (what & BEV_EVENT_CONNECTED) {
      int one = 1;
      setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) c->fail(fmt::format("connection to port {} closed", c->port));
  }

  static void on_read(bufferevent* bev, void* self) {
    auto* c = static_cast<Connection*>(self);
    evbuffer* in = bufferevent_get_input(bev);
    for (;;) {
      size_t have = evbuffer_get_length(in);
      if (have == 0) return;
      auto* data = reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ssize_t>(have)));
      wire::DecodeResult r = c->target->codec_.decode({data, have}, c->rejects);
      if (r.need_more()) return;
      if (r.failed()) {
        c->target->ctx_.completions->fatal("node sent a bad frame: " + r.error);
        return;
      }
      std::optional<wire::SubmitResult> result;
      if (r.kind == wire::FrameKind::SubmitResult) result = wire::decode_submit_result(r.payload);
      evbuffer_drain(in, r.consumed);
      if (!result || !c->busy || result->request_id != c->request) continue;
      c->busy = false;
      if (result->status == wire::SubmitStatus::Ok) {
        c->target->ctx_.completions->succeeded(c->client);
      } else {
        c->target->ctx_.completions->failed(c->client, fmt::format("status {}", static_cast<int>(result->status)));
      }
    }
  }
};

LockstepTarget::LockstepTarget(std::vector<uint16_t> ports, std::string cluster, std::string key)
    : ports_(std::move(ports)), cluster_(std::move(cluster)), codec_(key, 64u << 20) {}

LockstepTarget::~LockstepTarget() = default;

void LockstepTarget::open(const TargetContext& context) {
  ctx_ = context;
  for (uint32_t i = 0; i < context.clients; ++i) {
    auto c = std::make_unique<Connection>();
    c->target = this;
    c->client = context.first_client + i;
    c->port = ports_[c->client % ports_.size()];
    c->connect();
    conns_.push_back(std::move(c));
  }
}

void LockstepTarget::start(ClientId client, std::uint64_t, std::string_view payload) {
  Connection& c = *conns_[client - ctx_.first_client];
  c.busy = true;
  if (!c.bev) c.connect();
  if (!c.bev) return;  // fail() has reported the operation
  c.request++;
  c.out.clear();
  wire::append_frame(codec_, wire::Submit{.request_id = c.request, .data = payload}, c.out);
  bufferevent_write(c.bev, c.out.data(), c.out.size());
}

}  // namespace lockstep::eval
