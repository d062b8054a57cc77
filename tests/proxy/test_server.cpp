#include "tests/proxy/test_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace lockstep::test {
namespace {

constexpr size_t kOutputLimit = 4u << 20;

struct Conn {
  bufferevent* bev;
  TestServer::Shared* shared;
  bool eof = false;
};

void finish(Conn* c) {
  c->shared->live.erase(c);
  bufferevent_free(c->bev);
  c->shared->open->fetch_sub(1);
  delete c;
}

void on_write(bufferevent* bev, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) return;
  if (c->eof) {
    finish(c);  // everything echoed after the client's half-close: close (the client sees EOF)
    return;
  }
  bufferevent_enable(bev, EV_READ);
}

void on_read(bufferevent* bev, void* arg) {
  evbuffer* out = bufferevent_get_output(bev);
  evbuffer_add_buffer(out, bufferevent_get_input(bev));
  (void)arg;
  if (evbuffer_get_length(out) > kOutputLimit) bufferevent_disable(bev, EV_READ);
}

void on_event(bufferevent* bev, short what, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING)) {
    c->eof = true;
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) finish(c);
    return;
  }
  finish(c);
}

void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* shared = static_cast<TestServer::Shared*>(arg);
  bufferevent* bev = bufferevent_socket_new(evconnlistener_get_base(listener), fd, BEV_OPT_CLOSE_ON_FREE);
  auto* c = new Conn{bev, shared};
  shared->live.insert(c);
  shared->open->fetch_add(1);
  shared->accepted->fetch_add(1);
  bufferevent_setcb(bev, on_read, on_write, on_event, c);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  if (shared->mode == TestServer::Mode::Tagged) {
    std::string tag = "replica " + std::to_string(shared->tag) + "\n";
    bufferevent_write(bev, tag.data(), tag.size());
  }
}

void on_tick(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<std::pair<std::atomic<bool>*, event_base*>*>(arg);
  if (self->first->load()) event_base_loopbreak(self->second);
}

}  // namespace

TestServer::TestServer(uint16_t port, Mode mode, uint32_t tag) : shared_{mode, tag, &open_, &accepted_, {}} {
  base_ = event_base_new();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  evconnlistener* listener =
      evconnlistener_new_bind(base_, on_accept, &shared_, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
                              reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (!listener) {
    event_base_free(base_);
    throw std::runtime_error("test server cannot listen on port " + std::to_string(port));
  }
  thread_ = std::thread([this, listener] {
    std::pair<std::atomic<bool>*, event_base*> ctx{&stop_, base_};
    event* tick = event_new(base_, -1, EV_PERSIST, on_tick, &ctx);
    timeval tv{0, 20000};
    event_add(tick, &tv);
    event_base_dispatch(base_);
    event_free(tick);
    evconnlistener_free(listener);
  });
}

TestServer::~TestServer() {
  stop_ = true;
  thread_.join();
  while (!shared_.live.empty()) finish(static_cast<Conn*>(*shared_.live.begin()));
  event_base_free(base_);
}

}  // namespace lockstep::test
