#include "eval/etcd/etcd_target.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "eval/etcd/http_response.h"

namespace lockstep::eval {

struct EtcdTarget::Connection {
  EtcdTarget* owner = nullptr;
  ClientId client = 0;
  std::uint16_t port = 0;
  bufferevent* bev = nullptr;
  bool connected = false;
  bool outstanding = false;
  HttpResponseParser parser{64 * 1024};
  std::string key;      // raw key bytes, rebuilt per request
  std::string json;     // request body
  std::string request;  // headers + body

  ~Connection() { drop(); }

  void drop() {
    if (bev) bufferevent_free(bev);
    bev = nullptr;
    connected = false;
    parser.reset();
  }

  bool connect_now(std::string* why) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *why = fmt::format("socket: {}", std::strerror(errno));
      return false;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // one small request per RTT
    bev = bufferevent_socket_new(owner->ctx_.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
      close(fd);
      *why = "bufferevent_socket_new failed";
      return false;
    }
    bufferevent_setcb(bev, &Connection::on_read, nullptr, &Connection::on_event, this);
    const auto ms = owner->reply_timeout_.count();
    const timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
    bufferevent_set_timeouts(bev, &tv, &tv);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bufferevent_socket_connect(bev, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      *why = fmt::format("connect 127.0.0.1:{}: {}", port, std::strerror(errno));
      drop();
      return false;
    }
    return true;
  }

  // Ends the outstanding operation; the completion call comes last because the driver may
  // start the next operation on this connection from inside it.
  void finish(bool ok, std::string_view why) {
    if (!outstanding) return;
    outstanding = false;
    Completions* c = owner->ctx_.completions;
    if (ok) {
      c->succeeded(client);
    } else {
      c->failed(client, why);
    }
  }

  void fail(const std::string& why) {
    drop();
    finish(false, why);
  }

  static void on_read(bufferevent* bev, void* arg) {
    auto* self = static_cast<Connection*>(arg);
    evbuffer* in = bufferevent_get_input(bev);
    while (evbuffer_get_length(in) > 0) {
      const auto len = evbuffer_get_length(in);
      const auto* data = reinterpret_cast<const char*>(evbuffer_pullup(in, -1));
      const std::size_t used = self->parser.feed(std::string_view(data, len));
      evbuffer_drain(in, used);
      using State = HttpResponseParser::State;
      if (self->parser.state() == State::incomplete) return;
      if (self->parser.state() == State::error) {
        self->fail(fmt::format("127.0.0.1:{}: bad HTTP reply: {}", self->port, self->parser.error()));
        return;
      }
      if (!self->outstanding) {
        self->fail(fmt::format("127.0.0.1:{}: reply without a request", self->port));
        return;
      }
      const int status = self->parser.status();
      // A put's reply carries the new revision in "header"; an error reply carries "error".
      const bool ok = status == 200 && self->parser.body().find("\"header\"") != std::string::npos;
      std::string why;
      if (!ok) {
        why = fmt::format("127.0.0.1:{}: HTTP {}: {}", self->port, status,
                          self->parser.body().substr(0, 200));
      }
      if (self->parser.close_after()) {
        self->drop();
      } else {
        self->parser.reset();
      }
      self->finish(ok, why);
      return;  // the next request has been sent; any further bytes belong to it
    }
  }

  static void on_event(bufferevent*, short events, void* arg) {
    auto* self = static_cast<Connection*>(arg);
    if (events & BEV_EVENT_CONNECTED) {
      self->connected = true;
      return;
    }
    std::string why;
    if (events & BEV_EVENT_TIMEOUT) {
      why = fmt::format("127.0.0.1:{}: no reply within {} ms", self->port, self->owner->reply_timeout_.count());
    } else if (events & BEV_EVENT_EOF) {
      why = fmt::format("127.0.0.1:{}: connection closed by etcd", self->port);
    } else {
      const int err = EVUTIL_SOCKET_ERROR();
      why = fmt::format("127.0.0.1:{}: {}", self->port, err ? std::strerror(err) : "connection error");
    }
    self->fail(why);
  }
};

EtcdTarget::EtcdTarget(std::vector<std::uint16_t> client_ports, std::chrono::milliseconds reply_timeout)
    : ports_(std::move(client_ports)), reply_timeout_(reply_timeout) {
  if (ports_.empty()) throw std::invalid_argument("EtcdTarget needs at least one endpoint");
}

EtcdTarget::~EtcdTarget() = default;

void EtcdTarget::open(const TargetContext& context) {
  ctx_ = context;
  conns_.clear();
  for (std::uint32_t i = 0; i < context.clients; ++i) {
    auto c = std::make_unique<Connection>();
    c->owner = this;
    c->client = context.first_client + i;
    c->port = ports_[c->client % ports_.size()];
    // Sized for the largest request, so appends below never reallocate.
    const std::size_t b64 = (context.payload_size + 2) / 3 * 4 + 64;
    c->json.reserve(b64 + 64);
    c->request.reserve(b64 + 256);
    c->key.reserve(48);
    std::string why;
    if (!c->connect_now(&why)) throw std::runtime_error(why);
    conns_.push_back(std::move(c));
  }
}

void EtcdTarget::start(ClientId client, std::uint64_t seq, std::string_view payload) {
  Connection& c = *conns_[client - ctx_.first_client];
  c.outstanding = true;
  if (!c.bev) {
    std::string why;
    if (!c.connect_now(&why)) {
      c.finish(false, why);
      return;
    }
  }
  c.key.clear();
  fmt::format_to(std::back_inserter(c.key), "lockstep/{}/{}", client, seq);
  c.json.assign(R"({"key":")");
  base64_append(c.json, c.key);
  c.json.append(R"(","value":")");
  base64_append(c.json, payload);
  c.json.append(R"("})");
  c.request.clear();
  fmt::format_to(std::back_inserter(c.request),
                 "POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n"
                 "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                 c.port, c.json.size());
  c.request.append(c.json);
  // Sending straight to the socket saves the bufferevent's write-event round trip (two
  // epoll_ctl calls and a writev per request); only an unsent tail goes through the buffer.
  std::string_view rest = c.request;
  evbuffer* out = bufferevent_get_output(c.bev);
  if (c.connected && evbuffer_get_length(out) == 0) {
    const ssize_t n = send(bufferevent_getfd(c.bev), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n > 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      c.fail(fmt::format("127.0.0.1:{}: send: {}", c.port, std::strerror(errno)));
      return;
    }
  }
  if (!rest.empty() && bufferevent_write(c.bev, rest.data(), rest.size()) != 0) {
    c.fail("bufferevent_write failed");
  }
}

}  // namespace lockstep::eval
