// merge_jobs must have exactly the effect of applying its jobs one after another.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "paxos/node/storage_writer.h"

namespace lockstep::node {
namespace {

paxos::EntryPtr entry(paxos::Index index, paxos::View view) {
  auto e = std::make_shared<paxos::Entry>();
  e->index = index;
  e->view = view;
  return e;
}

// A log as LogStore::write would leave it.
using Log = std::vector<paxos::EntryPtr>;
void apply_write(Log& log, const WriteJob& job) {
  if (job.truncate_after && log.size() > *job.truncate_after) log.resize(*job.truncate_after);
  for (const auto& e : job.append) {
    ASSERT_EQ(e->index, log.size() + 1) << "append leaves a gap";
    log.push_back(e);
  }
}

TEST(MergeJobs, SameEffectAsSequentialWrites) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 2000; ++round) {
    Log start;
    size_t base = rng() % 8;
    for (size_t i = 1; i <= base; ++i) start.push_back(entry(i, 1));
    // A sequence of jobs as a follower might produce: appends, sometimes a truncation of an
    // uncommitted suffix first (by a leader of a newer view).
    std::deque<WriteJob> jobs;
    size_t last = base;
    paxos::View view = 1;
    for (int j = 0; j < 1 + static_cast<int>(rng() % 5); ++j) {
      WriteJob job;
      if (rng() % 3 == 0 && last > 0) {
        last = rng() % (last + 1);
        job.truncate_after = last;
        ++view;
      }
      for (int k = 0; k < static_cast<int>(rng() % 4); ++k) job.append.push_back(entry(++last, view));
      if (rng() % 2) job.hard = paxos::HardState{.view = view};
      jobs.push_back(job);
    }
    Log sequential = start;
    for (const auto& job : jobs) apply_write(sequential, job);
    std::optional<paxos::HardState> last_hard;
    for (const auto& job : jobs)
      if (job.hard) last_hard = job.hard;

    Log merged_log = start;
    WriteJob merged = merge_jobs(jobs);
    apply_write(merged_log, merged);
    ASSERT_EQ(merged_log, sequential) << "round " << round;
    ASSERT_EQ(merged.hard, last_hard);
  }
}

}  // namespace
}  // namespace lockstep::node
