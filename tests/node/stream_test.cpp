// node::Stream over real TCP on loopback: output larger than the socket buffers arrives whole
// and in order (the EV_WRITE path), a FlushList sends once per flush and tolerates a stream
// destroyed while queued, a closed peer and a refused connect are reported once, and a frame
// larger than one read accumulates in the input buffer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "paxos/node/stream.h"

namespace lockstep::node {
namespace {

// A listening socket on 127.0.0.1 with an ephemeral port.
struct Listener {
  int fd = -1;
  sockaddr_in addr{};
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 8) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      ADD_FAILURE() << "cannot listen on loopback";
  }
  ~Listener() { ::close(fd); }
  int accept() const { return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); }
};

struct Recorder : Stream::Handler {
  event_base* base = nullptr;
  std::string received;
  size_t stop_at = 0;  // loopbreak once this much arrived
  bool connected = false;
  std::optional<std::string> closed;
  void on_input(Stream& s) override {
    received.append(s.input());
    s.consume(s.input().size());
    if (stop_at && received.size() >= stop_at) event_base_loopbreak(base);
  }
  void on_closed(Stream&, std::string_view why) override {
    closed = std::string(why);
    event_base_loopbreak(base);
  }
  void on_connected(Stream&) override { connected = true; }
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

void run_for(event_base* base, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  event_base_loopexit(base, &tv);
  event_base_dispatch(base);
}

TEST(Stream, LargeOutputArrivesWholeAndInOrderThroughAFlushList) {
  EventBasePtr base(event_base_new());
  Listener listener;
  Recorder client_side, server_side;
  client_side.base = server_side.base = base.get();
  FlushList flush;
  std::string error;
  auto client = Stream::connect(base.get(), listener.addr, client_side, &flush, error);
  ASSERT_TRUE(client) << error;
  Stream server(base.get(), listener.accept(), server_side, nullptr);

  const std::string data = pattern(8u << 20);  // far more than the socket buffers hold
  for (size_t off = 0; off < data.size(); off += 1000) client->output().append(data, off, 1000);
  client->queue_output();  // connecting: the write event sends once connected
  flush.flush();
  server_side.stop_at = data.size();
  run_for(base.get(), 20000);
  EXPECT_TRUE(client_side.connected);
  ASSERT_EQ(server_side.received.size(), data.size());
  EXPECT_TRUE(server_side.received == data) << "bytes reordered or corrupted";
  EXPECT_EQ(client->pending_output(), 0u);

  // Queued output leaves only with the flush.
  client->output() += "ping";
  client->queue_output();
  EXPECT_FALSE(flush.empty());
  server_side.received.clear();
  server_side.stop_at = 4;
  run_for(base.get(), 50);
  EXPECT_TRUE(server_side.received.empty());
  flush.flush();
  run_for(base.get(), 5000);
  EXPECT_EQ(server_side.received, "ping");
}

TEST(Stream, DestroyedWhileQueuedLeavesTheFlushList) {
  EventBasePtr base(event_base_new());
  Listener listener;
  Recorder a_side, b_side;
  a_side.base = b_side.base = base.get();
  FlushList flush;
  std::string error;
  auto a = Stream::connect(base.get(), listener.addr, a_side, &flush, error);
  ASSERT_TRUE(a) << error;
  int accepted = listener.accept();
  run_for(base.get(), 50);  // connected
  ASSERT_TRUE(a_side.connected);
  a->output() += "lost";
  a->queue_output();
  a.reset();
  flush.flush();  // must not touch the destroyed stream (ASan)
  EXPECT_TRUE(flush.empty());
  ::close(accepted);
}

TEST(Stream, PeerCloseIsReportedOnce) {
  EventBasePtr base(event_base_new());
  Listener listener;
  Recorder side;
  side.base = base.get();
  std::string error;
  auto s = Stream::connect(base.get(), listener.addr, side, nullptr, error);
  ASSERT_TRUE(s) << error;
  int accepted = listener.accept();
  ASSERT_GE(accepted, 0);
  ASSERT_EQ(::write(accepted, "hello", 5), 5);
  ::close(accepted);
  run_for(base.get(), 5000);
  EXPECT_EQ(side.received, "hello");
  ASSERT_TRUE(side.closed);
  EXPECT_FALSE(s->is_open());
  side.closed.reset();
  run_for(base.get(), 50);
  EXPECT_FALSE(side.closed) << "closed twice";
}

TEST(Stream, RefusedConnectIsReported) {
  EventBasePtr base(event_base_new());
  sockaddr_in addr{};
  {
    Listener gone;  // a port that was just free and is closed again
    addr = gone.addr;
  }
  Recorder side;
  side.base = base.get();
  std::string error;
  auto s = Stream::connect(base.get(), addr, side, nullptr, error);
  if (!s) {
    EXPECT_NE(error.find("connect"), std::string::npos) << error;
    return;
  }
  run_for(base.get(), 5000);
  ASSERT_TRUE(side.closed);
  EXPECT_NE(side.closed->find("connect"), std::string::npos) << *side.closed;
  EXPECT_FALSE(side.connected);
}

// A handler that keeps input until a whole "frame" (here: a fixed size) is in, as the frame
// decoders do, and tells the stream how much it waits for.
struct FrameWaiter : Stream::Handler {
  event_base* base = nullptr;
  size_t frame = 0;
  size_t reads = 0;
  bool complete = false;
  void on_input(Stream& s) override {
    ++reads;
    if (s.input().size() < frame) {
      s.expect(frame);
      return;
    }
    complete = s.input().size() == frame && s.input() == pattern(frame);
    s.consume(frame);
    event_base_loopbreak(base);
  }
  void on_closed(Stream&, std::string_view) override { event_base_loopbreak(base); }
};

TEST(Stream, FrameLargerThanOneReadAccumulates) {
  EventBasePtr base(event_base_new());
  Listener listener;
  Recorder sender_side;
  FrameWaiter receiver_side;
  sender_side.base = receiver_side.base = base.get();
  receiver_side.frame = 3u << 20;
  std::string error;
  auto sender = Stream::connect(base.get(), listener.addr, sender_side, nullptr, error);
  ASSERT_TRUE(sender) << error;
  Stream receiver(base.get(), listener.accept(), receiver_side, nullptr);
  sender->output() = pattern(receiver_side.frame);
  sender->queue_output();
  run_for(base.get(), 20000);
  EXPECT_TRUE(receiver_side.complete);
  EXPECT_TRUE(receiver.input().empty());
}

}  // namespace
}  // namespace lockstep::node
