// The writer thread against a real Berkeley DB log: every job completes, in order, through the
// event loop, and what it wrote reads back exactly. Runs under TSan too (the only thread
// hand-off of the node).
#include <gtest/gtest.h>

#include <filesystem>

#include "paxos/node/storage_writer.h"

namespace lockstep::node {
namespace {

paxos::EntryPtr entry(paxos::Index index, paxos::View view, std::string data) {
  auto e = std::make_shared<paxos::Entry>();
  e->index = index;
  e->view = view;
  e->proposals.push_back({{1, 1, index}, std::move(data)});
  return e;
}

TEST(StorageWriter, CompletesInOrderAndPersists) {
  auto dir = std::filesystem::temp_directory_path() / ("writer-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  {
    paxos::StorageOptions options;
    options.directory = dir;
    options.durability = paxos::Durability::none;  // the test is about ordering, not the disk
    paxos::LogStore store = paxos::LogStore::open(options);
    EventBasePtr base(event_base_new());
    uint64_t completed = 0;
    const uint64_t kJobs = 500;
    StorageWriter writer(store, base.get(), [&](uint64_t n) {
      ASSERT_GT(n, 0u) << "write failed";
      completed += n;
      if (completed == kJobs) event_base_loopbreak(base.get());
    });
    for (uint64_t i = 1; i <= kJobs; ++i) {
      WriteJob job;
      if (i % 50 == 0) {
        // Replace the entry the previous job wrote, as a new leader's truncation would.
        job.truncate_after = i - 2;
        job.append.push_back(entry(i - 1, 2, "w" + std::to_string(i - 1)));
        job.append.push_back(entry(i, 2, "w" + std::to_string(i)));
      } else {
        job.append.push_back(entry(i, 1, "v" + std::to_string(i)));
      }
      job.hard = paxos::HardState{.view = i % 50 == 0 ? 2u : 1u, .commit = i - 1};
      writer.submit(std::move(job));
    }
    event_base_dispatch(base.get());
    EXPECT_EQ(completed, kJobs);
    EXPECT_LE(writer.transactions(), kJobs);
  }
  paxos::StorageOptions options;
  options.directory = dir;
  paxos::RestoredState restored = paxos::LogStore::open(options).load();
  ASSERT_EQ(restored.log.size(), 500u);
  for (paxos::Index i = 1; i <= 500; ++i) {
    bool replaced = i % 50 == 0 || (i + 1) % 50 == 0;
    std::string want = (replaced ? "w" : "v") + std::to_string(i);
    EXPECT_EQ(restored.log[i - 1]->proposals.at(0).data, want) << i;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lockstep::node
