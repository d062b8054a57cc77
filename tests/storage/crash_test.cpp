// kill -9 in the middle of a stream of writes: after reopening, the store holds exactly the
// state after the last write() that returned (or the one in flight, which BDB either committed
// whole or not at all), so every acknowledged write survives and the log stays contiguous.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "paxos/storage/log_store.h"
#include "tests/storage/test_util.h"

namespace lockstep::paxos {
namespace {

using testing::Child;
using testing::make_entry;
using testing::Pipe;
using testing::same_entry;
using testing::TempDir;

// A deterministic sequence of writes, with a model of the state after each one: mostly
// appends, and every seventh write a new view that replaces the last two entries.
class Workload {
 public:
  struct Write {
    HardState hard;
    std::optional<Index> truncate_after;
    std::vector<EntryPtr> append;
  };

  Write next() {
    ++count_;
    Write w;
    if (count_ % 7 == 0 && log_.size() >= 2) {
      ++view_;
      w.truncate_after = log_.size() - 2;
      log_.resize(log_.size() - 2);
    }
    size_t n = 1 + count_ % 5;
    for (size_t i = 0; i < n; ++i) {
      log_.push_back(make_entry(log_.size() + 1, view_, 1 + count_ % 4, 64));
      w.append.push_back(log_.back());
    }
    w.hard = HardState{view_, 1, log_.size(), count_};
    return w;
  }

  uint64_t count() const { return count_; }
  View view() const { return view_; }
  const std::vector<EntryPtr>& log() const { return log_; }

 private:
  uint64_t count_ = 0;
  View view_ = 1;
  std::vector<EntryPtr> log_;
};

bool matches(const RestoredState& restored, const Workload& model) {
  if (!(restored.hard == HardState{model.view(), 1, model.log().size(), model.count()}))
    return false;
  if (restored.log.size() != model.log().size()) return false;
  for (size_t i = 0; i < restored.log.size(); ++i)
    if (!same_entry(*restored.log[i], *model.log()[i])) return false;
  return true;
}

void kill_mid_stream(Durability durability, uint64_t kill_after_acks, bool prefill = false) {
  TempDir dir;
  StorageOptions options;
  options.directory = dir.path() / "store";
  options.durability = durability;
  options.checkpoint_bytes = 64 << 10;  // checkpoints happen during the stream too
  if (prefill) {
    // Small log files, so the stream crosses several switches into zero-filled files.
    options.prefill_log_files = true;
    options.log_buffer_bytes = 64 << 10;
    options.log_file_bytes = 256 << 10;
  }

  Pipe acks;
  Child child([&] {
    acks.close_read();
    auto store = LogStore::open(options);
    Workload workload;
    for (;;) {
      auto w = workload.next();
      store.write(w.hard, w.truncate_after, w.append);
      uint64_t done = workload.count();
      if (::write(acks.write_fd, &done, sizeof done) != sizeof done) return 3;
    }
  });
  acks.close_write();

  uint64_t acked = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (acked < kill_after_acks && std::chrono::steady_clock::now() < deadline) {
    uint64_t done;
    ASSERT_EQ(::read(acks.read_fd, &done, sizeof done), static_cast<ssize_t>(sizeof done))
        << "child stopped early";
    acked = done;
  }
  child.kill_hard();
  EXPECT_EQ(child.wait(), 128 + SIGKILL);
  // Acks already in the pipe were sent after their write() returned: they count too.
  uint64_t done;
  while (::read(acks.read_fd, &done, sizeof done) == static_cast<ssize_t>(sizeof done))
    acked = done;
  ASSERT_GE(acked, kill_after_acks) << "child too slow";

  auto store = LogStore::open(options);
  auto restored = store.load();
  Workload model;
  while (model.count() < acked) model.next();
  if (!matches(restored, model)) {
    model.next();  // the write in flight at the kill may have committed
    EXPECT_TRUE(matches(restored, model))
        << "after " << acked << " acknowledged writes the store holds " << restored.log.size()
        << " entries and hard state from write " << restored.hard.incarnation;
  }
  EXPECT_EQ(store.last_index(), restored.log.size());
  // And the recovered store takes new writes.
  store.write(std::nullopt, std::nullopt, {make_entry(store.last_index() + 1, 99)});
}

TEST(CrashRecovery, SigkillDuringFsyncWrites) {
  for (uint64_t acks : {20u, 150u, 400u}) kill_mid_stream(Durability::fsync, acks);
}

TEST(CrashRecovery, SigkillDuringFsyncWritesIntoPrefilledLogFiles) {
  for (uint64_t acks : {20u, 150u, 600u}) kill_mid_stream(Durability::fsync, acks, true);
}

TEST(CrashRecovery, SigkillDuringUnsyncedWrites) {
  // A process crash loses nothing even without fsync, since the data reached the OS.
  for (uint64_t acks : {100u, 2000u, 5000u}) kill_mid_stream(Durability::write, acks);
}

}  // namespace
}  // namespace lockstep::paxos
