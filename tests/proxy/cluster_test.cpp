// The proxy end to end: three real `lockstep node --proxy` processes on loopback, each in front
// of its own echo server (a thread of this process, see test_server.h). Clients talk TCP to the
// proxies exactly as they would to the server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "eval/paxos/local_cluster.h"
#include "paxos/node/sync_client.h"
#include "tests/proxy/test_server.h"

namespace lockstep {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
std::string g_lockstep_binary;

// A socket that closes itself.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd_ = o.fd_;
    o.fd_ = -1;
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Fd connect_to(uint16_t port) {
  Fd fd(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("connect to " + std::to_string(port) + ": " + strerror(errno));
  timeval tv{60, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

bool send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads until EOF (or timeout/error: returns what arrived).
std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return out;
    out.append(buf, static_cast<size_t>(r));
  }
}

// Byte i of a test stream: a pseudo-random block that shifts every time it repeats, so lost,
// duplicated or reordered chunks show up.
class Pattern {
 public:
  explicit Pattern(uint64_t seed) : block_(1000003, '\0') {
    std::mt19937_64 rng(seed);
    for (auto& c : block_) c = static_cast<char>(rng());
  }
  char at(uint64_t i) const { return static_cast<char>(block_[i % block_.size()] ^ static_cast<char>(i / block_.size())); }
  void fill(uint64_t from, char* out, size_t n) const {
    for (size_t k = 0; k < n; ++k) out[k] = at(from + k);
  }

 private:
  std::string block_;
};

// Sends SIZE pattern bytes (in a thread), half-closes, and checks that exactly the same bytes
// come back before EOF. Returns "" or what went wrong.
std::string round_trip(uint16_t port, uint64_t size, uint64_t seed) {
  Fd fd = connect_to(port);
  Pattern pattern(seed);
  std::atomic<bool> sent_ok{true};
  std::thread sender([&] {
    std::vector<char> buf(1 << 20);
    for (uint64_t off = 0; off < size;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - off));
      pattern.fill(off, buf.data(), n);
      if (!send_all(fd.get(), buf.data(), n)) {
        sent_ok = false;
        break;
      }
      off += n;
    }
    shutdown(fd.get(), SHUT_WR);
  });
  std::vector<char> buf(1 << 20);
  uint64_t got = 0;
  std::string problem;
  for (;;) {
    ssize_t r = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      problem = std::string("recv: ") + strerror(errno);
      break;
    }
    if (r == 0) break;
    for (ssize_t k = 0; k < r && problem.empty(); ++k) {
      if (got + k >= size || buf[k] != pattern.at(got + k))
        problem = "byte " + std::to_string(got + k) + " differs (size " + std::to_string(size) + ")";
    }
    got += static_cast<uint64_t>(r);
    if (!problem.empty()) break;
  }
  sender.join();
  if (problem.empty() && !sent_ok) problem = "send failed";
  if (problem.empty() && got != size) problem = "got " + std::to_string(got) + " of " + std::to_string(size) + " bytes";
  return problem;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

class ProxyCluster {
 public:
  // durability "none" is faster but loses the log on kill -9 (the node restarts empty, with
  // its old incarnation): the kill test needs "fsync".
  explicit ProxyCluster(test::TestServer::Mode mode = test::TestServer::Mode::Echo, const std::string& durability = "none")
      : cluster_(options(durability)) {
    for (const auto& n : cluster_.config().nodes) servers_.push_back(std::make_unique<test::TestServer>(n.server_port, mode, n.id));
  }
  eval::LocalCluster& cluster() { return cluster_; }
  uint16_t proxy_port(uint32_t id) const { return cluster_.config().node(id).proxy_port; }
  test::TestServer& server(uint32_t id) { return *servers_.at(id - 1); }
  nlohmann::json status(uint32_t id) {
    auto s = cluster_.status(id);
    return s ? nlohmann::json::parse(*s) : nlohmann::json();
  }
  // Every replica has compared digests and none differed.
  void expect_no_divergence() {
    for (const auto& n : cluster_.config().nodes) {
      auto j = status(n.id);
      ASSERT_TRUE(j.contains("divergences")) << "node " << n.id << " status has no divergences: " << j.dump();
      EXPECT_EQ(j["divergences"].get<uint64_t>(), 0u) << "node " << n.id << ": " << cluster_.log_tail(n.id, 5);
      EXPECT_EQ(j["proxy"]["batches_rejected"].get<uint64_t>(), 0u);
    }
  }
  bool all_server_connections_closed() {
    for (const auto& s : servers_)
      if (s && s->open_connections() != 0) return false;
    return true;
  }
  void stop_server(uint32_t id) { servers_.at(id - 1).reset(); }

 private:
  static eval::LocalClusterOptions options(const std::string& durability) {
    eval::LocalClusterOptions o;
    o.lockstep_binary = g_lockstep_binary;
    o.durability = durability;
    o.node_args = {"--proxy"};
    o.free_service_ports = true;
    return o;
  }
  eval::LocalCluster cluster_;
  std::vector<std::unique_ptr<test::TestServer>> servers_;
};

TEST(ProxyCluster, ByteExactRoundTripsOfRandomSizesUpTo100MB) {
  ProxyCluster pc;
  std::mt19937_64 rng(7);
  std::vector<uint64_t> sizes{0, 1, 1000, 65537, 10u << 20, 100u << 20};
  for (int i = 0; i < 8; ++i) sizes.push_back(rng() % (2u << 20));
  for (size_t i = 0; i < sizes.size(); ++i) {
    uint32_t via = static_cast<uint32_t>(i % 3) + 1;
    auto started = Clock::now();
    std::string problem = round_trip(pc.proxy_port(via), sizes[i], 1000 + i);
    double secs = std::chrono::duration<double>(Clock::now() - started).count();
    EXPECT_EQ(problem, "") << "size " << sizes[i] << " via node " << via;
    if (sizes[i] >= (10u << 20))
      std::printf("round trip of %.0f MB via node %u: %.2f s (%.1f MB/s each way)\n", sizes[i] / 1e6, via, secs,
                  sizes[i] / 1e6 / secs);
  }
  // Every replica closes its server connections, and their digests (final ones, and the
  // periodic ones of the large transfers) agree.
  EXPECT_TRUE(wait_until([&] { return pc.all_server_connections_closed(); }, 30s));
  EXPECT_TRUE(wait_until([&] { return pc.status(1)["proxy"]["digests_compared"].get<uint64_t>() >= 2 * sizes.size(); }, 30s))
      << pc.status(1).dump();
  pc.expect_no_divergence();
  EXPECT_GE(pc.status(2)["proxy"]["digests_compared"].get<uint64_t>(), 2 * sizes.size());
}

TEST(ProxyCluster, HalfCloseStillDeliversTheRest) {
  ProxyCluster pc;
  for (uint32_t via = 1; via <= 3; ++via) {
    Fd fd = connect_to(pc.proxy_port(via));
    std::string request = "first part;";
    ASSERT_TRUE(send_all(fd.get(), request.data(), request.size()));
    std::this_thread::sleep_for(100ms);
    std::string more = "second part after a pause";
    ASSERT_TRUE(send_all(fd.get(), more.data(), more.size()));
    ASSERT_EQ(shutdown(fd.get(), SHUT_WR), 0);
    std::this_thread::sleep_for(300ms);  // the reply is still on its way after the half-close
    EXPECT_EQ(read_all(fd.get()), request + more);
  }
  EXPECT_TRUE(wait_until([&] { return pc.all_server_connections_closed(); }, 10s));
  pc.expect_no_divergence();
}

TEST(ProxyCluster, PipelinedRequestsOnOneConnectionKeepTheirOrder) {
  ProxyCluster pc;
  Fd fd = connect_to(pc.proxy_port(2));
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    std::string req = "request " + std::to_string(i) + "\n";
    expected += req;
    ASSERT_TRUE(send_all(fd.get(), req.data(), req.size()));
    if (i % 100 == 0) std::this_thread::sleep_for(5ms);
  }
  shutdown(fd.get(), SHUT_WR);
  EXPECT_EQ(read_all(fd.get()), expected);
}

TEST(ProxyCluster, ThousandConcurrentConnections) {
  ProxyCluster pc;
  constexpr int kConnections = 1000;
  std::vector<Fd> fds;
  fds.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) fds.push_back(connect_to(pc.proxy_port(static_cast<uint32_t>(i % 3) + 1)));
  // All open at once: wait until every replica's server sees all of them.
  EXPECT_TRUE(wait_until([&] {
    for (uint32_t id = 1; id <= 3; ++id)
      if (pc.server(id).open_connections() < kConnections) return false;
    return true;
  }, 60s)) << pc.server(1).open_connections() << " " << pc.server(2).open_connections() << " "
           << pc.server(3).open_connections();
  for (int i = 0; i < kConnections; ++i) {
    std::string msg = "connection " + std::to_string(i) + " says hello " + std::string(static_cast<size_t>(i % 300), 'x');
    ASSERT_TRUE(send_all(fds[i].get(), msg.data(), msg.size()));
    shutdown(fds[i].get(), SHUT_WR);
  }
  int ok = 0;
  for (int i = 0; i < kConnections; ++i) {
    std::string msg = "connection " + std::to_string(i) + " says hello " + std::string(static_cast<size_t>(i % 300), 'x');
    ok += read_all(fds[i].get()) == msg;
  }
  EXPECT_EQ(ok, kConnections);
  fds.clear();
  EXPECT_TRUE(wait_until([&] { return pc.all_server_connections_closed(); }, 60s));
  pc.expect_no_divergence();
}

TEST(ProxyCluster, GarbageAndSlowLorisClientsDoNotDisturbOthers) {
  ProxyCluster pc;
  std::atomic<bool> done{false};
  // Slow loris: one byte per 200 ms, never finishes.
  Fd loris = connect_to(pc.proxy_port(1));
  std::thread loris_thread([&] {
    while (!done) {
      send_all(loris.get(), "L", 1);
      std::this_thread::sleep_for(200ms);
    }
  });
  // Garbage: random binary bytes (some never read back), then a reset instead of a close.
  std::thread garbage_thread([&] {
    std::mt19937_64 rng(99);
    while (!done) {
      Fd g = connect_to(pc.proxy_port(static_cast<uint32_t>(rng() % 3) + 1));
      std::string junk(static_cast<size_t>(rng() % 65536), '\0');
      for (auto& c : junk) c = static_cast<char>(rng());
      send_all(g.get(), junk.data(), junk.size());
      linger l{1, 0};
      setsockopt(g.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);  // RST on close
      std::this_thread::sleep_for(20ms);
    }
  });
  // Garbage in committed log entries: proposals that claim to be proxy batches but are not
  // (submitted by a log client, which holds the cluster key) are rejected and counted.
  {
    const ClusterConfig& config = pc.cluster().config();
    node::SyncClient client("127.0.0.1", config.node(2).peer_port, config.name, config.key, 5s);
    std::string bad_header("LSPX\x01\x05", 6);  // cut inside the sequence number
    std::string bad_event("LSPX\x01\x01\0\0\0\0\0\0\0\x01\0\0\0\x63", 18);  // unknown event type 99
    for (const std::string& junk : {bad_header, bad_event}) {
      auto outcome = client.submit(junk);
      ASSERT_TRUE(outcome && outcome->status == wire::SubmitStatus::Ok);
    }
    for (uint32_t id = 1; id <= 3; ++id) {
      EXPECT_TRUE(wait_until([&] { return pc.status(id)["proxy"].value("batches_rejected", 0u) == 2; }, 10s))
          << "node " << id << ": " << pc.status(id).dump();
    }
  }
  std::mt19937_64 rng(5);
  for (int i = 0; i < 30; ++i) {
    uint64_t size = rng() % 300000;
    auto started = Clock::now();
    EXPECT_EQ(round_trip(pc.proxy_port(static_cast<uint32_t>(i % 3) + 1), size, 500 + i), "");
    EXPECT_LT(Clock::now() - started, 10s);
  }
  done = true;
  garbage_thread.join();
  loris_thread.join();
  // The slow loris is still served: everything it sent comes back.
  shutdown(loris.get(), SHUT_WR);
  std::string back = read_all(loris.get());
  EXPECT_FALSE(back.empty());
  EXPECT_EQ(back, std::string(back.size(), 'L'));
  for (uint32_t id = 1; id <= 3; ++id) EXPECT_TRUE(pc.cluster().status(id).has_value()) << "node " << id << " died";
}

// A CONNECT waits briefly for the client's first bytes (one log entry for both), but a client
// that waits for the server to speak first must still get its server connection.
TEST(ProxyCluster, SilentClientStillReachesEveryServer) {
  ProxyCluster pc;
  for (uint32_t via : {1u, 2u}) {
    SCOPED_TRACE("via node " + std::to_string(via));
    uint64_t expired_before = pc.status(via)["proxy"].value("holds_expired", uint64_t{0});
    {
      Fd fd = connect_to(pc.proxy_port(via));
      for (uint32_t id = 1; id <= 3; ++id)
        EXPECT_TRUE(wait_until([&] { return pc.server(id).open_connections() == 1; }, 10s)) << "server " << id;
      EXPECT_GT(pc.status(via)["proxy"].value("holds_expired", uint64_t{0}), expired_before);
      // Speaking later works as usual.
      ASSERT_TRUE(send_all(fd.get(), "late", 4));
      ASSERT_EQ(shutdown(fd.get(), SHUT_WR), 0);
      EXPECT_EQ(read_all(fd.get()), "late");
    }
    EXPECT_TRUE(wait_until([&] { return pc.all_server_connections_closed(); }, 10s));
  }
  pc.expect_no_divergence();
}

// A client that half-closes before sending a byte: CONNECT and SHUTDOWN usually share an entry,
// so the shutdown reaches a server connection whose handshake nothing has confirmed yet (no
// byte was sent on it). It must wait for the handshake (a shutdown while connecting would abort
// it instead of sending a FIN), then pass the half-close on; and the CLOSE that ends the
// exchange, held for the next proposal, still goes out when nothing else comes.
TEST(ProxyCluster, HalfCloseBeforeAnyByteReachesEveryServer) {
  ProxyCluster pc;
  for (uint32_t via : {1u, 2u, 3u}) {
    SCOPED_TRACE("via node " + std::to_string(via));
    std::vector<uint64_t> accepted;
    for (uint32_t id = 1; id <= 3; ++id) accepted.push_back(pc.server(id).accepted());
    auto start = Clock::now();
    {
      Fd fd = connect_to(pc.proxy_port(via));
      ASSERT_EQ(shutdown(fd.get(), SHUT_WR), 0);
      EXPECT_EQ(read_all(fd.get()), "");  // the echo server passed the half-close back
    }
    EXPECT_LT(Clock::now() - start, 10s);
    for (uint32_t id = 1; id <= 3; ++id)
      EXPECT_TRUE(wait_until([&] { return pc.server(id).accepted() == accepted[id - 1] + 1; }, 10s)) << "server " << id;
    EXPECT_TRUE(wait_until([&] { return pc.all_server_connections_closed(); }, 10s));
  }
  pc.expect_no_divergence();
}

TEST(ProxyCluster, RefusedServerClosesTheOriginsClientOnly) {
  ProxyCluster pc;
  pc.stop_server(1);
  // Through node 1, whose server refuses: the client is closed without a byte.
  {
    Fd fd = connect_to(pc.proxy_port(1));
    send_all(fd.get(), "anyone?", 7);
    EXPECT_EQ(read_all(fd.get()), "");
  }
  EXPECT_TRUE(wait_until([&] { return pc.status(1)["proxy"].value("server_connect_failures", 0u) >= 1; }, 10s));
  // Through node 2: served by its own server; node 1 only notes the refusal.
  EXPECT_EQ(round_trip(pc.proxy_port(2), 100000, 3), "");
  EXPECT_TRUE(wait_until([&] { return pc.status(1)["proxy"].value("server_connect_failures", 0u) >= 2; }, 10s));
  EXPECT_EQ(pc.status(2)["proxy"].value("server_connect_failures", 0u), 0u);
}

TEST(ProxyCluster, ServersThatAnswerDifferentlyAreReportedAsDivergent) {
  ProxyCluster pc(test::TestServer::Mode::Tagged);
  Fd fd = connect_to(pc.proxy_port(2));
  send_all(fd.get(), "hello", 5);
  shutdown(fd.get(), SHUT_WR);
  EXPECT_EQ(read_all(fd.get()), "replica 2\nhello");  // the origin's own server answers
  for (uint32_t id = 1; id <= 3; ++id) {
    EXPECT_TRUE(wait_until([&] { return pc.status(id).value("divergences", 0u) >= 1; }, 20s))
        << "node " << id << ": " << pc.status(id).dump();
  }
  bool logged = false;
  for (uint32_t id = 1; id <= 3; ++id) logged |= pc.cluster().log_tail(id, 50).find("DIVERGENCE on connection 2/") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST(ProxyCluster, KillingTheOriginClosesItsConnectionsEverywhere) {
  ProxyCluster pc(test::TestServer::Mode::Echo, "fsync");
  uint32_t leader = pc.cluster().wait_leader(20s);
  for (uint32_t victim : {leader % 3 + 1, leader}) {  // a follower, then the leader
    SCOPED_TRACE("victim node " + std::to_string(victim) + (victim == leader ? " (leader)" : " (follower)"));
    Fd fd = connect_to(pc.proxy_port(victim));
    ASSERT_TRUE(send_all(fd.get(), "ping", 4));
    char buf[4];
    ASSERT_EQ(recv(fd.get(), buf, 4, MSG_WAITALL), 4);
    std::vector<uint32_t> others;
    for (uint32_t id = 1; id <= 3; ++id)
      if (id != victim && pc.cluster().running(id)) others.push_back(id);
    for (uint32_t id : others) ASSERT_TRUE(wait_until([&] { return pc.server(id).open_connections() == 1; }, 10s));
    pc.cluster().kill(victim);
    for (uint32_t id : others) {
      EXPECT_TRUE(wait_until([&] { return pc.server(id).open_connections() == 0; }, 20s))
          << "node " << id << " still has a server connection: " << pc.cluster().log_tail(id, 10);
    }
    if (victim == leader) break;
    // Bring the follower back: its new incarnation closes nothing else, and it serves again.
    pc.cluster().start(victim);
    try {
      pc.cluster().wait_ready(30s);
    } catch (const std::exception& e) {
      for (uint32_t id = 1; id <= 3; ++id) ADD_FAILURE() << "node " << id << ":\n" << pc.cluster().log_tail(id, 30);
      throw;
    }
    EXPECT_EQ(round_trip(pc.proxy_port(victim), 100000, 77), "");
  }
  // The two survivors still serve clients.
  for (uint32_t id = 1; id <= 3; ++id) {
    if (pc.cluster().running(id)) {
      EXPECT_EQ(round_trip(pc.proxy_port(id), 50000, 78), "") << "via node " << id;
    }
  }
}

}  // namespace
}  // namespace lockstep

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PATH_TO_LOCKSTEP_BINARY [gtest flags]\n", argv[0]);
    return 2;
  }
  lockstep::g_lockstep_binary = argv[1];
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}
