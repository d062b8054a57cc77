// The simulator itself: a seed replays exactly, and the random runs really exercise faults.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "tests/sim/sim_run.h"

namespace lockstep::sim {
namespace {

TEST(Simulation, SameSeedSameEvents) {
  for (uint64_t seed : {3u, 17u, 4242u}) {
    RunResult a = run_simulation(RunConfig{.replicas = 3, .seed = seed});
    RunResult b = run_simulation(RunConfig{.replicas = 3, .seed = seed});
    EXPECT_TRUE(a.ok) << a.failure;
    EXPECT_EQ(a.hash, b.hash) << "seed " << seed;
    EXPECT_EQ(a.committed_entries, b.committed_entries);
  }
  RunResult c = run_simulation(RunConfig{.replicas = 3, .seed = 3});
  RunResult d = run_simulation(RunConfig{.replicas = 3, .seed = 4});
  EXPECT_NE(c.hash, d.hash);
}

TEST(Simulation, VerboseTraceDoesNotChangeTheRun) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::tmpfile(), &std::fclose);
  ASSERT_TRUE(out);
  RunResult quiet = run_simulation(RunConfig{.replicas = 5, .seed = 11});
  RunResult loud = run_simulation(RunConfig{.replicas = 5, .seed = 11, .trace = out.get()});
  EXPECT_EQ(quiet.hash, loud.hash);
  EXPECT_GT(std::ftell(out.get()), 1000);
}

// Guards against a simulator that silently stopped injecting faults or committing anything.
TEST(Simulation, RunsExerciseFaultsAndCommit) {
  uint64_t crashes = 0, entries = 0, multi_view = 0, committed = 0, submitted = 0;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    RunResult r = run_simulation(RunConfig{.replicas = 3, .seed = seed});
    EXPECT_TRUE(r.ok) << "seed " << seed << ": " << r.failure;
    crashes += r.crashes;
    entries += r.committed_entries;
    multi_view += r.leader_views > 1;
    committed += r.committed_proposals;
    submitted += r.submitted;
  }
  EXPECT_GT(crashes, 10u);
  EXPECT_GT(multi_view, 10u);
  EXPECT_GT(entries, 30u * 20);
  EXPECT_GT(committed, submitted / 2);
}

}  // namespace
}  // namespace lockstep::sim
