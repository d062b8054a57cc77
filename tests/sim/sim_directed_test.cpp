// Directed scenarios on the simulated cluster with a perfect network (FIFO, one step of delay,
// nothing lost): each drives the protocol core through one situation by hand and measures it.
#include <gtest/gtest.h>

#include <optional>

#include "tests/sim/sim_cluster.h"

namespace lockstep::sim {
namespace {

using paxos::MessageType;
using paxos::NodeId;
using paxos::Role;

constexpr int kElectionMax = 20;

class Directed : public ::testing::Test {
 protected:
  void make(size_t replicas, uint64_t seed = 1, size_t max_message_bytes = 4 << 20) {
    ClusterOptions o;
    o.replica.max_message_bytes = max_message_bytes;
    o.replicas = replicas;
    o.seed = seed;
    o.replica.election_ticks_min = 10;
    o.replica.election_ticks_max = kElectionMax;
    o.faults = NetworkFaults{.delay_min = 1, .delay_max = 1, .reorder = false};
    cluster.emplace(o, trace);
    cluster->on_send = [this](const paxos::Message& m) {
      if (counting) sent.push_back(m);
    };
  }

  // Runs up to `limit` ticks until one leader is followed by every running replica; returns
  // the ticks it took, or -1.
  int until_stable_leader(int limit) {
    for (int t = 1; t <= limit; ++t) {
      cluster->run_ticks(1);
      if (stable_leader()) return t;
    }
    return -1;
  }

  std::optional<NodeId> stable_leader() const {
    auto l = cluster->leader();
    if (!l) return std::nullopt;
    for (NodeId id = 1; id <= cluster->size(); ++id) {
      if (!cluster->up(id)) continue;
      const paxos::Replica& r = cluster->replica(id);
      if (r.leader() != *l || r.view() != cluster->replica(*l).view()) return std::nullopt;
    }
    return l;
  }

  NodeId some_follower(NodeId leader) const { return leader % cluster->size() + 1; }

  size_t count(MessageType type, NodeId from, NodeId to, bool with_entries) const {
    size_t n = 0;
    for (const paxos::Message& m : sent) {
      if (m.type == type && (from == 0 || m.from == from) && (to == 0 || m.to == to) &&
          (!with_entries || !m.entries.empty() || !m.proposals.empty())) {
        ++n;
      }
    }
    return n;
  }

  Trace trace;
  std::optional<Cluster> cluster;
  bool counting = false;
  std::vector<paxos::Message> sent;
};

TEST_F(Directed, LeaderElectedInQuietThreeCluster) {
  make(3);
  int ticks = until_stable_leader(3 * kElectionMax);
  ASSERT_GT(ticks, 0) << "no leader after " << 3 * kElectionMax << " ticks";
  EXPECT_LE(ticks, kElectionMax + 2);
  RecordProperty("election_ticks", ticks);
  NodeId leader = *stable_leader();
  paxos::View view = cluster->replica(leader).view();
  // A quiet cluster keeps its leader: heartbeats hold off every election.
  cluster->run_ticks(10 * kElectionMax);
  ASSERT_TRUE(stable_leader());
  EXPECT_EQ(*stable_leader(), leader);
  EXPECT_EQ(cluster->replica(leader).view(), view);
  EXPECT_EQ(cluster->checker().views_with_leader(), 1u);
}

TEST_F(Directed, LeaderElectedInQuietFiveCluster) {
  make(5, 2);
  int ticks = until_stable_leader(3 * kElectionMax);
  ASSERT_GT(ticks, 0);
  EXPECT_LE(ticks, kElectionMax + 2);
}

TEST_F(Directed, SubmitAtFollowerCommitsThroughForwarding) {
  make(3);
  ASSERT_GT(until_stable_leader(3 * kElectionMax), 0);
  NodeId leader = *stable_leader();
  NodeId follower = some_follower(leader);
  counting = true;
  paxos::ProposalId id = cluster->submit(follower, "hello from a follower");
  int ticks = 0;
  while (!cluster->checker().committed(id) && ticks < 5) {
    cluster->run_ticks(1);
    ++ticks;
  }
  ASSERT_TRUE(cluster->checker().committed(id)) << "not committed after 5 ticks";
  EXPECT_GE(count(MessageType::Forward, follower, leader, true), 1u);
  cluster->run_ticks(2);
  paxos::Index commit = cluster->replica(leader).commit_index();
  for (NodeId n = 1; n <= 3; ++n) {
    EXPECT_EQ(cluster->replica(n).commit_index(), commit) << "node " << n;
    EXPECT_EQ(cluster->replica(n).pending_proposals(), 0u) << "node " << n;
  }
}

TEST_F(Directed, LeaderCrashElectsNewLeaderWithinElectionTimeout) {
  make(3);
  ASSERT_GT(until_stable_leader(3 * kElectionMax), 0);
  NodeId old_leader = *stable_leader();
  paxos::View old_view = cluster->replica(old_leader).view();
  cluster->crash(old_leader);
  int ticks = until_stable_leader(3 * kElectionMax);
  ASSERT_GT(ticks, 0) << "no new leader";
  EXPECT_LE(ticks, kElectionMax + 2);
  RecordProperty("failover_ticks", ticks);
  NodeId leader = *stable_leader();
  EXPECT_NE(leader, old_leader);
  EXPECT_GT(cluster->replica(leader).view(), old_view);
  // The new leader serves.
  paxos::ProposalId id = cluster->submit(some_follower(leader) == old_leader
                                             ? some_follower(some_follower(leader))
                                             : some_follower(leader),
                                         "after failover");
  cluster->run_ticks(3);
  EXPECT_TRUE(cluster->checker().committed(id));
}

TEST_F(Directed, RestartedFollowerFarBehindCatchesUpInBulk) {
  make(3);
  ASSERT_GT(until_stable_leader(3 * kElectionMax), 0);
  NodeId leader = *stable_leader();
  NodeId follower = some_follower(leader);
  cluster->crash(follower);
  // One proposal per tick: the leader cuts one entry each time, so the follower misses
  // hundreds of entries, not a few big ones.
  constexpr int kEntries = 400;
  paxos::Index before = cluster->replica(leader).last_index();
  for (int i = 0; i < kEntries; ++i) {
    cluster->submit(leader, "entry " + std::to_string(i));
    cluster->run_ticks(1);
  }
  cluster->run_ticks(3);
  paxos::Index target = cluster->replica(leader).commit_index();
  ASSERT_GE(target - before, static_cast<paxos::Index>(kEntries / 2)) << "batched too much";
  counting = true;
  cluster->restart(follower);
  int ticks = 0;
  while (cluster->replica(follower).commit_index() < target && ticks < 50) {
    cluster->run_ticks(1);
    ++ticks;
  }
  EXPECT_GE(cluster->replica(follower).commit_index(), target) << "did not catch up in 50 ticks";
  size_t bulk = count(MessageType::Accept, leader, follower, true);
  EXPECT_LE(bulk, 6u) << "catch-up of " << target - before << " entries took " << bulk
                      << " Accept messages with entries";
  EXPECT_LE(ticks, 5);
  RecordProperty("catchup_accepts", static_cast<int>(bulk));
  RecordProperty("catchup_ticks", ticks);
}

// submit() never fails, so one proposal can exceed max_message_bytes; it must still be sent
// (alone in its Accept) rather than wait forever for a window that can never hold it.
TEST_F(Directed, ProposalLargerThanMessageLimitCommits) {
  make(3, 1, 1000);
  ASSERT_GT(until_stable_leader(3 * kElectionMax), 0);
  NodeId leader = *stable_leader();
  paxos::ProposalId small = cluster->submit(leader, "small");
  cluster->run_ticks(3);
  ASSERT_TRUE(cluster->checker().committed(small));
  paxos::ProposalId big = cluster->submit(some_follower(leader), std::string(3000, 'x'));
  cluster->run_ticks(10);
  EXPECT_TRUE(cluster->checker().committed(big));
  for (NodeId n = 1; n <= 3; ++n) {
    EXPECT_EQ(cluster->replica(n).commit_index(), cluster->replica(leader).last_index()) << n;
  }
}

TEST_F(Directed, PartitionedMinorityRejoinsWithoutViewChange) {
  make(3);
  ASSERT_GT(until_stable_leader(3 * kElectionMax), 0);
  NodeId leader = *stable_leader();
  NodeId follower = some_follower(leader);
  paxos::View view = cluster->replica(leader).view();
  cluster->network().set_group(follower, 1);
  for (int i = 0; i < 10; ++i) {
    cluster->submit(leader, "while partitioned " + std::to_string(i));
    cluster->run_ticks(kElectionMax / 2);
  }
  // Pre-vote: the cut-off replica never won a pre-vote, so it never raised its view.
  EXPECT_EQ(cluster->replica(follower).view(), view);
  cluster->network().heal();
  cluster->run_ticks(3 * kElectionMax);
  ASSERT_TRUE(stable_leader());
  EXPECT_EQ(*stable_leader(), leader);
  EXPECT_EQ(cluster->replica(leader).view(), view) << "the rejoining replica forced a view change";
  EXPECT_EQ(cluster->checker().views_with_leader(), 1u);
  EXPECT_EQ(cluster->replica(follower).commit_index(), cluster->replica(leader).commit_index());
}

}  // namespace
}  // namespace lockstep::sim
