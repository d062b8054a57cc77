// Hostile bytes against real node processes: every malformed, truncated, oversized,
// wrong-version or forged frame closes its connection and is counted, and the cluster keeps
// committing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "eval/paxos/local_cluster.h"
#include "paxos/node/sync_client.h"
#include "paxos/wire/message_codec.h"

namespace lockstep {
namespace {

std::string g_lockstep_binary;

// Sends BYTES on a fresh connection and reports whether the node closed it within 3 s.
bool node_closes_after(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  (void)sent;
  bool closed = false;
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 3000) > 0) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      break;
    }
  }
  ::close(fd);
  return closed;
}

TEST(BadFrames, RejectedCountedAndHarmless) {
  eval::LocalClusterOptions options;
  options.lockstep_binary = g_lockstep_binary;
  eval::LocalCluster cluster(options);
  const ClusterConfig& config = cluster.config();
  uint16_t port = config.nodes[0].peer_port;
  wire::FrameCodec good(config.key, 1 << 20);
  wire::FrameCodec forged("not the cluster key", 1 << 20);

  std::string hello_client, hello_peer_2, forged_hello, wrong_version, oversized, bad_checksum;
  wire::append_frame(good, wire::Hello{.cluster = config.name, .role = wire::Role::Client}, hello_client);
  wire::append_frame(good, wire::Hello{.cluster = config.name, .role = wire::Role::Peer, .node_id = 2}, hello_peer_2);
  wire::append_frame(forged, wire::Hello{.cluster = config.name, .role = wire::Role::Client}, forged_hello);
  wrong_version = hello_client;
  wrong_version[4] = 99;
  oversized = hello_client;
  oversized[8] = oversized[9] = oversized[10] = static_cast<char>(0xff);
  oversized[11] = 0x7f;
  bad_checksum = hello_client;
  bad_checksum[wire::kFrameHeaderSize] ^= 1;

  // A peer's message that names another sender than its Hello.
  std::string spoofed = hello_peer_2;
  wire::append_frame(good, paxos::Message{.type = paxos::MessageType::Accept, .from = 3, .to = 1, .view = 99}, spoofed);
  // A well-framed, authenticated Paxos payload that does not decode.
  std::string bad_payload = hello_peer_2;
  good.encode(wire::FrameKind::Paxos, "\x05garbage", bad_payload);
  // A Hello for another cluster, and a Submit before any Hello.
  std::string other_cluster, submit_first;
  wire::append_frame(good, wire::Hello{.cluster = "other", .role = wire::Role::Client}, other_cluster);
  wire::append_frame(good, wire::Submit{.request_id = 1, .data = "x"}, submit_first);

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"random garbage", std::string(200, '\x5a')},
      {"forged (wrong key)", forged_hello},
      {"wrong version", wrong_version},
      {"oversized length", oversized},
      {"bad checksum", bad_checksum},
      {"spoofed sender", spoofed},
      {"undecodable payload", bad_payload},
      {"other cluster", other_cluster},
      {"submit before hello", submit_first},
  };
  for (const auto& [name, bytes] : cases) {
    EXPECT_TRUE(node_closes_after(port, bytes)) << name << ": connection not closed";
  }
  // A truncated frame is not an error yet: the node waits for the rest, and a client that
  // leaves half-way costs nothing.
  EXPECT_TRUE(node_closes_after(port, hello_client.substr(0, 10)) == false);

  auto status = cluster.status(1);
  ASSERT_TRUE(status);
  auto s = nlohmann::json::parse(*status);
  EXPECT_GE(s.value("frames_rejected", 0), static_cast<int>(cases.size()));
  // The node still serves, and the cluster still commits through it.
  node::SyncClient client("127.0.0.1", port, config.name, config.key, std::chrono::milliseconds(5000));
  auto outcome = client.submit("after the garbage");
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, wire::SubmitStatus::Ok);
}

}  // namespace
}  // namespace lockstep

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PATH_TO_LOCKSTEP_BINARY\n", argv[0]);
    return 2;
  }
  lockstep::g_lockstep_binary = argv[1];
  return RUN_ALL_TESTS();
}
