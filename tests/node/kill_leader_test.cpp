// Real node processes on loopback under load: kill -9 the leader, and check what the issue asks:
// every acknowledged submission is still committed on the survivors, a new leader commits within
// 2 s, and the restarted node catches up to the same log. The logs are read back from each
// node's Berkeley DB after the nodes are stopped.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "eval/paxos/local_cluster.h"
#include "paxos/node/sync_client.h"
#include "paxos/storage/log_store.h"

namespace lockstep {
namespace {

using Clock = std::chrono::steady_clock;
std::string g_lockstep_binary;

struct Acked {
  std::string data;
  paxos::Index index;
  Clock::time_point at;
};

class Load {
 public:
  Load(eval::LocalCluster& cluster, int clients) : cluster_(cluster) {
    for (int c = 0; c < clients; ++c) threads_.emplace_back([this, c] { run(c); });
  }
  ~Load() { stop(); }
  void stop() {
    running_ = false;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  std::vector<Acked> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }

 private:
  void run(int client) {
    const ClusterConfig& config = cluster_.config();
    uint64_t seq = 0;
    size_t target = client % config.nodes.size();
    while (running_) {
      const NodeConfig& node = config.nodes[target];
      try {
        node::SyncClient c("127.0.0.1", node.peer_port, config.name, config.key, std::chrono::milliseconds(3000));
        while (running_) {
          std::string data = "c" + std::to_string(client) + "-" + std::to_string(seq++);
          auto outcome = c.submit(data);
          if (!outcome) break;  // node gone or slow: move on to another node
          if (outcome->status != wire::SubmitStatus::Ok) continue;
          std::lock_guard lock(mu_);
          acked_.push_back({data, outcome->index, Clock::now()});
        }
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      target = (target + 1) % config.nodes.size();
    }
  }

  eval::LocalCluster& cluster_;
  std::atomic<bool> running_{true};
  std::mutex mu_;
  std::vector<Acked> acked_;
  std::vector<std::thread> threads_;
};

paxos::RestoredState read_log(const eval::LocalCluster& cluster, uint32_t id) {
  paxos::StorageOptions options;
  options.directory = cluster.config().node_data_dir(id);
  return paxos::LogStore::open(options).load();
}

void kill_leader_and_check(int replicas) {
  eval::LocalClusterOptions options;
  options.replicas = replicas;
  options.lockstep_binary = g_lockstep_binary;
  eval::LocalCluster cluster(options);
  uint32_t leader = cluster.wait_leader(std::chrono::seconds(10));

  Load load(cluster, 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_GT(load.acked().size(), 10u) << "no progress before the kill";
  auto killed_at = Clock::now();
  cluster.kill(leader);
  uint32_t new_leader = cluster.wait_leader(std::chrono::seconds(10));
  EXPECT_NE(new_leader, leader);
  // Serve a while under the new leader, then bring the old one back.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  load.stop();
  std::vector<Acked> acked = load.acked();

  cluster.start(leader);
  cluster.wait_ready(std::chrono::seconds(20));  // a probe through the restarted node commits
  for (const auto& n : cluster.config().nodes) cluster.stop(n.id);

  std::map<uint32_t, paxos::RestoredState> logs;
  for (const auto& n : cluster.config().nodes) logs[n.id] = read_log(cluster, n.id);
  paxos::Index max_acked = 0;
  for (const Acked& a : acked) max_acked = std::max(max_acked, a.index);
  for (auto& [id, log] : logs) {
    ASSERT_GE(log.log.size(), max_acked) << "node " << id << " is missing acknowledged entries";
  }
  // Every acknowledged submission is at its index, on every node, including the restarted one.
  for (const Acked& a : acked) {
    for (auto& [id, log] : logs) {
      const paxos::Entry& e = *log.log[a.index - 1];
      bool found = false;
      for (const auto& p : e.proposals) found |= p.data == a.data;
      ASSERT_TRUE(found) << "node " << id << " lost acknowledged '" << a.data << "' at index " << a.index;
    }
  }
  // Failover time: from the kill to the first acknowledged entry chosen in a newer view than the
  // killed leader's (an acknowledgement merely in flight at the kill does not count).
  const auto& any_log = logs.begin()->second.log;
  paxos::View killed_view = 0;
  for (const Acked& a : acked)
    if (a.at <= killed_at) killed_view = std::max(killed_view, any_log[a.index - 1]->view);
  auto first_after = Clock::time_point::max();
  for (const Acked& a : acked)
    if (any_log[a.index - 1]->view > killed_view) first_after = std::min(first_after, a.at);
  ASSERT_NE(first_after, Clock::time_point::max()) << "nothing committed by a new leader";
  double failover_s = std::chrono::duration<double>(first_after - killed_at).count();
  std::printf("failover: first commit in a new view %.3f s after kill -9 of leader %u (new leader %u), %zu acked\n",
              failover_s, leader, new_leader, acked.size());
  EXPECT_LT(failover_s, 2.0);

  // And the logs agree entry by entry up to the highest acknowledged index.
  const auto& reference = logs.begin()->second.log;
  for (auto& [id, log] : logs) {
    for (paxos::Index i = 0; i < max_acked; ++i) {
      ASSERT_EQ(log.log[i]->view, reference[i]->view) << "node " << id << " index " << i + 1;
      ASSERT_EQ(log.log[i]->proposals.size(), reference[i]->proposals.size()) << "node " << id << " index " << i + 1;
    }
  }
}

TEST(KillLeader, ThreeReplicas) { kill_leader_and_check(3); }
TEST(KillLeader, FiveReplicas) { kill_leader_and_check(5); }

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
