// Functional tests of LogStore: what is written is what load() returns, across reopen.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "paxos/storage/log_store.h"
#include "tests/storage/test_util.h"

namespace lockstep::paxos {
namespace {

using testing::make_entry;
using testing::same_entry;
using testing::TempDir;

StorageOptions options_for(const TempDir& dir, Durability durability = Durability::fsync) {
  StorageOptions o;
  o.directory = dir.path() / "store";
  o.durability = durability;
  return o;
}

void expect_log(const RestoredState& restored, const std::vector<EntryPtr>& expected) {
  ASSERT_EQ(restored.log.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(restored.log[i]->index, i + 1);
    EXPECT_TRUE(same_entry(*restored.log[i], *expected[i])) << "entry " << i + 1;
  }
}

TEST(LogStore, EmptyStoreLoadsDefaults) {
  TempDir dir;
  auto store = LogStore::open(options_for(dir));
  auto restored = store.load();
  EXPECT_EQ(restored.hard, HardState{});
  EXPECT_TRUE(restored.log.empty());
  EXPECT_EQ(store.last_index(), 0u);
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "store"));
}

TEST(LogStore, RoundTrip) {
  TempDir dir;
  auto store = LogStore::open(options_for(dir));
  std::vector<EntryPtr> entries;
  for (Index i = 1; i <= 5; ++i) entries.push_back(make_entry(i, 1, i, 10 * i));
  HardState hard{3, 2, 4, 7};
  store.write(hard, std::nullopt, entries);
  EXPECT_EQ(store.last_index(), 5u);
  auto restored = store.load();
  EXPECT_EQ(restored.hard, hard);
  expect_log(restored, entries);
}

TEST(LogStore, ReopenAfterClose) {
  TempDir dir;
  std::vector<EntryPtr> entries;
  HardState hard{9, 1, 2, 3};
  {
    auto store = LogStore::open(options_for(dir));
    for (Index i = 1; i <= 3; ++i) entries.push_back(make_entry(i, 9));
    store.write(hard, std::nullopt, entries);
  }
  auto store = LogStore::open(options_for(dir));
  EXPECT_EQ(store.last_index(), 3u);
  auto restored = store.load();
  EXPECT_EQ(restored.hard, hard);
  expect_log(restored, entries);
  // And it keeps appending where it left off.
  entries.push_back(make_entry(4, 9));
  store.write(std::nullopt, std::nullopt, {entries.back()});
  expect_log(store.load(), entries);
}

TEST(LogStore, TruncateThenAppend) {
  TempDir dir;
  auto store = LogStore::open(options_for(dir));
  std::vector<EntryPtr> entries;
  for (Index i = 1; i <= 10; ++i) entries.push_back(make_entry(i, 1));
  store.write(std::nullopt, std::nullopt, entries);

  // A new leader overwrites 7..10 with 7..8 from view 2.
  entries.resize(6);
  std::vector<EntryPtr> replacement{make_entry(7, 2), make_entry(8, 2)};
  entries.insert(entries.end(), replacement.begin(), replacement.end());
  store.write(std::nullopt, 6, replacement);
  EXPECT_EQ(store.last_index(), 8u);
  expect_log(store.load(), entries);

  // Truncation alone, and truncation at or past the end (a no-op).
  store.write(std::nullopt, 5, {});
  entries.resize(5);
  expect_log(store.load(), entries);
  store.write(std::nullopt, 9, {});
  expect_log(store.load(), entries);

  // Down to nothing, then a fresh start.
  store.write(std::nullopt, 0, {make_entry(1, 3)});
  expect_log(store.load(), {make_entry(1, 3)});
}

TEST(LogStore, TruncationSurvivesReopen) {
  TempDir dir;
  {
    auto store = LogStore::open(options_for(dir));
    std::vector<EntryPtr> entries;
    for (Index i = 1; i <= 4; ++i) entries.push_back(make_entry(i, 1));
    store.write(std::nullopt, std::nullopt, entries);
    store.write(std::nullopt, 2, {make_entry(3, 2)});
  }
  auto store = LogStore::open(options_for(dir));
  EXPECT_EQ(store.last_index(), 3u);
  expect_log(store.load(), {make_entry(1, 1), make_entry(2, 1), make_entry(3, 2)});
}

TEST(LogStore, HardStateUpdates) {
  TempDir dir;
  HardState hard;
  {
    auto store = LogStore::open(options_for(dir));
    for (uint64_t v = 1; v <= 20; ++v) {
      hard = {v, static_cast<NodeId>(v % 5), v * 2, v + 100};
      store.write(hard, std::nullopt, {});
      EXPECT_EQ(store.load().hard, hard);
    }
    // A write without a hard state leaves it alone.
    store.write(std::nullopt, std::nullopt, {make_entry(1, 20)});
    EXPECT_EQ(store.load().hard, hard);
  }
  auto store = LogStore::open(options_for(dir));
  EXPECT_EQ(store.load().hard, hard);
}

// 300 batches of 1 to 7 entries of 8 proposals of 1 KiB (about 10 MB), appended to ENTRIES as written.
void write_batches(LogStore& store, std::vector<EntryPtr>& entries) {
  Index next = 1;
  for (int batch = 0; batch < 300; ++batch) {
    std::vector<EntryPtr> append;
    for (int i = 0; i < 1 + batch % 7; ++i) append.push_back(make_entry(next++, 1, 8, 1024));
    entries.insert(entries.end(), append.begin(), append.end());
    store.write(HardState{1, 1, next - 1, 1}, std::nullopt, append);
  }
}

TEST(LogStore, ManyBatchesAcrossCheckpoints) {
  TempDir dir;
  auto options = options_for(dir);
  options.checkpoint_bytes = 256 << 10;  // several checkpoints (and log file removals) below
  options.log_file_bytes = 1 << 20;
  std::vector<EntryPtr> entries;
  {
    auto store = LogStore::open(options);
    write_batches(store, entries);
    EXPECT_EQ(store.last_index(), entries.size());
  }
  auto store = LogStore::open(options);
  auto restored = store.load();
  EXPECT_EQ(restored.hard.commit, entries.size());
  expect_log(restored, entries);
  // About 10 MB of entries went through 1 MB log files, but old ones were removed after
  // checkpoints, the last at close: only the current one or two remain.
  int log_files = 0;
  for (const auto& f : std::filesystem::directory_iterator(options.directory))
    if (f.path().filename().string().starts_with("log.0")) ++log_files;
  EXPECT_GE(log_files, 1);
  EXPECT_LE(log_files, 2);
}

// Blocks allocated to a file, in bytes (a sparse file has fewer than its size).
uint64_t allocated_bytes(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(LogStore, PrefilledLogFilesAreWrittenAheadAndReadBack) {
  TempDir dir;
  auto options = options_for(dir);
  options.prefill_log_files = true;
  options.checkpoint_bytes = 256 << 10;
  options.log_buffer_bytes = 64 << 10;
  options.log_file_bytes = 1 << 20;
  std::vector<EntryPtr> entries;
  {
    auto store = LogStore::open(options);
    // The first log file was written before BDB opened it: no holes.
    EXPECT_GE(allocated_bytes(options.directory / "log.0000000001"), options.log_file_bytes);
    write_batches(store, entries);
    // BDB moved through several log files; the one it writes now (the highest but at most one
    // prefilled ahead of it) is fully allocated too, so BDB used a prefilled file.
    std::vector<std::filesystem::path> logs;
    for (const auto& f : std::filesystem::directory_iterator(options.directory))
      if (f.path().filename().string().starts_with("log.0")) logs.push_back(f.path());
    std::sort(logs.begin(), logs.end());
    ASSERT_FALSE(logs.empty());
    EXPECT_NE(logs.back().filename(), "log.0000000001");
    size_t full = 0;
    for (const auto& f : logs) full += allocated_bytes(f) >= options.log_file_bytes;
    EXPECT_GE(full, logs.size() >= 2 ? 2u : 1u);
  }
  // Closing waits for a file being written: no temporary is left behind.
  for (const auto& f : std::filesystem::directory_iterator(options.directory))
    EXPECT_FALSE(f.path().filename().string().starts_with("prefill.")) << f.path();
  for (int reopen = 0; reopen < 2; ++reopen) {
    auto store = LogStore::open(options);
    auto restored = store.load();
    EXPECT_EQ(restored.hard.commit, entries.size());
    expect_log(restored, entries);
    entries.push_back(make_entry(entries.size() + 1, 1));
    store.write(HardState{1, 1, entries.size(), 1}, std::nullopt, {entries.back()});
  }
}

TEST(LogStore, DurabilityNoneAndWriteWork) {
  for (auto durability : {Durability::none, Durability::write}) {
    TempDir dir;
    std::vector<EntryPtr> entries;
    for (Index i = 1; i <= 50; ++i) entries.push_back(make_entry(i, 1));
    {
      auto store = LogStore::open(options_for(dir, durability));
      store.write(HardState{1, 1, 50, 1}, std::nullopt, entries);
      expect_log(store.load(), entries);
    }
    // A clean close flushes even without per-commit syncs.
    auto store = LogStore::open(options_for(dir, durability));
    expect_log(store.load(), entries);
  }
}

TEST(LogStore, ParseDurability) {
  EXPECT_EQ(parse_durability("fsync"), Durability::fsync);
  EXPECT_EQ(parse_durability("write"), Durability::write);
  EXPECT_EQ(parse_durability("none"), Durability::none);
  EXPECT_EQ(parse_durability("sync"), std::nullopt);
  EXPECT_EQ(to_string(Durability::none), "none");
}

TEST(LogStore, RejectsGapsAndOverwritesWithoutTruncation) {
  TempDir dir;
  auto store = LogStore::open(options_for(dir));
  store.write(std::nullopt, std::nullopt, {make_entry(1, 1), make_entry(2, 1)});
  EXPECT_THROW(store.write(std::nullopt, std::nullopt, {make_entry(4, 1)}), StorageError);
  EXPECT_THROW(store.write(std::nullopt, std::nullopt, {make_entry(2, 2)}), StorageError);
  EXPECT_THROW(store.write(std::nullopt, std::nullopt, {make_entry(3, 1), make_entry(5, 1)}),
               StorageError);
  EXPECT_THROW(store.write(std::nullopt, std::nullopt, {nullptr}), StorageError);
  try {
    store.write(std::nullopt, std::nullopt, {make_entry(4, 1)});
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("entry 4 appended where entry 3 belongs"),
              std::string::npos)
        << e.what();
  }
  // Nothing of a rejected call was applied.
  EXPECT_EQ(store.last_index(), 2u);
  expect_log(store.load(), {make_entry(1, 1), make_entry(2, 1)});
}

TEST(LogStore, SecondOpenOfSameDirectoryFails) {
  TempDir dir;
  auto store = LogStore::open(options_for(dir));
  try {
    auto again = LogStore::open(options_for(dir));
    FAIL() << "second open succeeded";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("already in use"), std::string::npos) << e.what();
  }
  // The first handle is unaffected.
  store.write(std::nullopt, std::nullopt, {make_entry(1, 1)});
  EXPECT_EQ(store.load().log.size(), 1u);
}

TEST(LogStore, MovedStoreKeepsWorking) {
  TempDir dir;
  auto store = LogStore::open(options_for(dir));
  store.write(std::nullopt, std::nullopt, {make_entry(1, 1)});
  LogStore moved = std::move(store);
  moved.write(std::nullopt, std::nullopt, {make_entry(2, 1)});
  EXPECT_EQ(moved.load().log.size(), 2u);
}

TEST(LogStore, UnusableDirectoryIsAClearError) {
  TempDir dir;
  std::filesystem::path file = dir.path() / "plain-file";
  { std::ofstream(file) << "x"; }
  StorageOptions o;
  o.directory = file / "store";
  try {
    LogStore::open(o);
    FAIL() << "open under a regular file succeeded";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find(o.directory.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(LogStore::open(StorageOptions{}), StorageError);
}

}  // namespace
}  // namespace lockstep::paxos

namespace lockstep::paxos {
namespace {

TEST(LogStore, HugeBatchAndHugeTruncation) {
  // A follower catching up may persist tens of MB in one write(), and a view change may cut a
  // long unacknowledged tail: one transaction each, touching thousands of pages.
  TempDir dir;
  auto store = LogStore::open(options_for(dir));
  std::vector<EntryPtr> entries;
  for (Index i = 1; i <= 30000; ++i) entries.push_back(make_entry(i, 1, 4, 256));
  store.write(HardState{1, 1, 0, 1}, std::nullopt, entries);
  EXPECT_EQ(store.last_index(), 30000u);
  store.write(std::nullopt, 10, {make_entry(11, 2)});
  entries.resize(10);
  entries.push_back(make_entry(11, 2));
  expect_log(store.load(), entries);
}

}  // namespace
}  // namespace lockstep::paxos
