// The checker must catch what it claims to catch: each test feeds it a fabricated violation.
#include <gtest/gtest.h>

#include <memory>

#include "tests/sim/sim_checker.h"

namespace lockstep::sim {
namespace {

using paxos::EntryPtr;

class CheckerTest : public ::testing::Test {
 protected:
  CheckerTest() : disks(3), checker(disks) {
    for (paxos::NodeId n = 1; n <= 3; ++n) checker.on_start(n, 1);
    checker.on_submit(1, 1, a, "a");
    checker.on_submit(1, 1, b, "b");
  }
  static EntryPtr entry(paxos::Index index, std::vector<paxos::Proposal> proposals) {
    auto e = std::make_shared<paxos::Entry>();
    e->index = index;
    e->view = 1;
    e->proposals = std::move(proposals);
    return e;
  }
  void put(paxos::NodeId n, EntryPtr e) { disks[n - 1].log.push_back(std::move(e)); }
  static void expect_failure(const std::function<void()>& f, const std::string& kind) {
    try {
      f();
      ADD_FAILURE() << "no " << kind << " failure reported";
    } catch (const SimFailure& e) {
      EXPECT_NE(std::string(e.what()).find(kind), std::string::npos) << e.what();
    }
  }

  paxos::ProposalId a{1, 1, 1};
  paxos::ProposalId b{1, 1, 2};
  std::vector<Disk> disks;
  Checker checker;
};

TEST_F(CheckerTest, AcceptsAConsistentHistory) {
  EntryPtr e = entry(1, {{a, "a"}});
  put(1, e);
  put(2, e);
  checker.on_committed(1, {e});
  checker.on_committed(2, {e});
  checker.on_applied(1, {e}, {{1, 0, &e->proposals[0]}});
  EXPECT_TRUE(checker.committed(a));
  EXPECT_FALSE(checker.committed(b));
  EXPECT_EQ(checker.committed_max(), 1u);
}

TEST_F(CheckerTest, AgreementViolation) {
  EntryPtr e = entry(1, {{a, "a"}});
  EntryPtr f = entry(1, {{b, "b"}});
  put(1, e);
  put(2, e);
  checker.on_committed(1, {e});
  expect_failure([&] { checker.on_committed(3, {f}); }, "agreement");
}

TEST_F(CheckerTest, ValidityViolation) {
  EntryPtr e = entry(1, {{a, "not a"}});
  put(1, e);
  put(2, e);
  expect_failure([&] { checker.on_committed(1, {e}); }, "validity");
  EntryPtr g = entry(1, {{paxos::ProposalId{2, 1, 9}, "x"}});
  disks = std::vector<Disk>(3);
  put(1, g);
  put(2, g);
  expect_failure([&] { checker.on_committed(2, {g}); }, "validity");
}

TEST_F(CheckerTest, CommitWithoutMajorityOnDisk) {
  EntryPtr e = entry(1, {{a, "a"}});
  put(1, e);
  expect_failure([&] { checker.on_committed(1, {e}); }, "durability");
}

TEST_F(CheckerTest, TruncatingACommittedEntry) {
  EntryPtr e = entry(1, {{a, "a"}});
  put(1, e);
  put(2, e);
  checker.on_committed(1, {e});
  disks[1].log.clear();
  paxos::Ready r;
  r.truncate_after = 0;
  expect_failure([&] { checker.on_persisted(2, 1, r); }, "durability");
}

TEST_F(CheckerTest, ApplyingAProposalTwice) {
  EntryPtr e1 = entry(1, {{a, "a"}});
  EntryPtr e2 = entry(2, {{a, "a"}, {b, "b"}});
  for (paxos::NodeId n = 1; n <= 2; ++n) {
    put(n, e1);
    put(n, e2);
  }
  checker.on_committed(1, {e1, e2});
  expect_failure([&] {
    checker.on_applied(1, {e1, e2}, {{1, 0, &e1->proposals[0]}, {2, 0, &e2->proposals[0]},
                                     {2, 0, &e2->proposals[1]}});
  }, "apply");
}

TEST_F(CheckerTest, CommittingOutOfOrder) {
  EntryPtr e2 = entry(2, {{a, "a"}});
  expect_failure([&] { checker.on_committed(1, {e2}); }, "not in order");
}

TEST_F(CheckerTest, TwoLeadersInOneView) {
  checker.on_leader(1, 4);
  checker.on_leader(1, 4);
  checker.on_leader(2, 5);
  expect_failure([&] { checker.on_leader(3, 4); }, "election");
}

TEST_F(CheckerTest, ReusedProposalId) {
  expect_failure([&] { checker.on_submit(1, 1, a, "again"); }, "twice");
  disks[1].hard.incarnation = 1;
  expect_failure([&] { checker.on_start(2, 1); }, "incarnation");
  // Never persisted: the incarnation may come again, and its lost submissions are forgotten.
  checker.on_start(1, 1);
  checker.on_submit(1, 1, a, "a again");
}

}  // namespace
}  // namespace lockstep::sim
