// Runs the real `lockstep bench paxos` briefly (three node processes on loopback) and checks its
// JSON line, with one connection per client and with clients multiplexed over fewer
// connections. Label "slow".
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "last_json_line.h"

namespace {

nlohmann::json run_bench(const std::string& flags) {
  const auto out = lockstep::test::run_for_json(std::string(LOCKSTEP_BIN) +
                                                " bench paxos --replicas 3 --size 64 --seconds 2 --warmup 0.5 --json " +
                                                flags);
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_FALSE(out.last_json.is_discarded()) << "last line is not JSON:\n" << out.text;
  return out.last_json.is_discarded() ? nlohmann::json::object() : out.last_json;
}

void expect_sane_closed_loop(const nlohmann::json& j, int clients) {
  for (const char* key : {"ops_per_s", "p50_us", "p99_us", "p999_us", "errors", "leader_mean_batch", "node_timing"}) {
    ASSERT_TRUE(j.contains(key)) << key << " missing: " << j.dump();
  }
  EXPECT_EQ(j["target"], "lockstep");
  EXPECT_EQ(j["clients"], clients);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_GT(j["ops"].get<double>(), 50);
  EXPECT_LE(j["p50_us"].get<double>(), j["p99_us"].get<double>());
  // Closed loop: throughput x mean latency is the number of clients, however they share connections.
  EXPECT_NEAR(j["ops_per_s"].get<double>() * j["mean_us"].get<double>() / 1e6, clients, clients * 0.15);
  // The leader reports where a submission's time went.
  bool leader_timing = false;
  for (const auto& [name, t] : j["node_timing"].items()) {
    if (name.rfind("leader_", 0) == 0) leader_timing = t.contains("batch_wait_us_mean") && t.contains("commit_wait_us_mean");
  }
  EXPECT_TRUE(leader_timing) << j["node_timing"].dump();
}

TEST(BenchPaxos, OneConnectionPerClient) {
  auto j = run_bench("--clients 6 --endpoints all");
  expect_sane_closed_loop(j, 6);
  EXPECT_EQ(j["conns"], 6);
  // Measured at the leader mid-run: the six connections are spread over the three nodes.
  EXPECT_EQ(j.value("leader_client_connections", -1), 2);
}

TEST(BenchPaxos, ClientsMultiplexedOverFewerConnections) {
  auto j = run_bench("--clients 12 --conns 3 --endpoints leader");
  expect_sane_closed_loop(j, 12);
  EXPECT_EQ(j["conns"], 3);
  // Measured at the leader mid-run: twelve clients really share three connections.
  EXPECT_EQ(j.value("leader_client_connections", -1), 3);
  EXPECT_GT(j["leader_mean_batch"].get<double>(), 3.0);
}

TEST(BenchPaxos, BadUsageExitsWithTwo) {
  const int status = std::system((std::string(LOCKSTEP_BIN) + " bench paxos --conns 0 >/dev/null 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
