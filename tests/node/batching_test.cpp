// The leader's batching delay on real node processes: a held batch is cut batch_quiet_us after
// the last submission arrived, not max_batch_delay_us after the first, and with
// batch_quiet_us = 0 it waits the whole delay. The delay here is made long (400 ms) so that the
// difference is far above any scheduling noise.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "eval/paxos/local_cluster.h"
#include "paxos/node/sync_client.h"

namespace lockstep {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kDelayUs = 400'000;

// Median time for one submission to the leader to be answered as committed.
std::chrono::milliseconds commit_time(int quiet_us) {
  eval::LocalClusterOptions options;
  options.lockstep_binary = LOCKSTEP_BIN;
  options.log_level = "warn";
  options.batch_delay_us = kDelayUs;
  options.batch_quiet_us = quiet_us;
  eval::LocalCluster cluster(options);
  const uint32_t leader = cluster.wait_leader(std::chrono::seconds(10));
  const ClusterConfig& config = cluster.config();
  node::SyncClient client("127.0.0.1", config.node(leader).peer_port, config.name, config.key,
                          std::chrono::seconds(5));
  std::vector<std::chrono::milliseconds> times;
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    auto outcome = client.submit("op" + std::to_string(i));
    EXPECT_TRUE(outcome && outcome->status == wire::SubmitStatus::Ok) << "submission " << i;
    times.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

TEST(Batching, QuietSubmissionStreamCutsEarly) {
  auto quiet = commit_time(2000);
  EXPECT_LT(quiet.count(), 150) << "a lone submission should be cut ~2 ms after it arrived";
}

TEST(Batching, ZeroQuietTimeWaitsForTheWholeDelay) {
  auto fixed = commit_time(0);
  EXPECT_GE(fixed.count(), kDelayUs / 1000 - 5) << "the batch must wait max_batch_delay_us";
}

}  // namespace
}  // namespace lockstep
