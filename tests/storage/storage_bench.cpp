// Throughput and commit latency of LogStore::write(), the group commit of the node's loop.
// Not a ctest. Run: build/bin/storage_bench [--benchmark_filter=...]
// BM_RawFdatasync is the disk's own floor (4 KiB overwrite + fdatasync), for comparison.
// Each BM_Write write() carries N entries of k proposals of 64 bytes. Reported per benchmark:
//   writes_per_s, entries_per_s, proposals_per_s, MB_per_s, and write() latency p50/p99/max in
//   µs (with durability fsync this is the fsync latency plus encoding and btree work).
// The store lives under $TMPDIR (set it to the disk the node will use).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "paxos/storage/log_store.h"
#include "tests/storage/test_util.h"

namespace lockstep::paxos {
namespace {

using testing::make_entry;
using testing::TempDir;

constexpr size_t kProposalBytes = 64;

// Args: durability (0 fsync, 1 write, 2 none), entries per write, proposals per entry,
//       page size KiB, log buffer KiB.
void BM_Write(benchmark::State& state) {
  auto durability = static_cast<Durability>(state.range(0));
  auto entries_per_write = static_cast<size_t>(state.range(1));
  auto proposals = static_cast<size_t>(state.range(2));
  TempDir dir("lockstep-storage-bench");
  StorageOptions options;
  options.directory = dir.path() / "store";
  options.durability = durability;
  options.page_size = static_cast<uint32_t>(state.range(3)) << 10;
  options.log_buffer_bytes = static_cast<uint32_t>(state.range(4)) << 10;
  auto store = LogStore::open(options);

  std::vector<double> latencies_us;
  latencies_us.reserve(1 << 16);
  std::vector<EntryPtr> append;
  Index next = 1;
  size_t bytes = 0;
  for (auto _ : state) {
    append.clear();
    for (size_t i = 0; i < entries_per_write; ++i)
      append.push_back(make_entry(next++, 1, proposals, kProposalBytes));
    HardState hard{1, 1, next - 1, 1};
    auto start = std::chrono::steady_clock::now();
    store.write(hard, std::nullopt, append);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(took.count());
    latencies_us.push_back(took.count() * 1e6);
    for (const auto& e : append) bytes += e->byte_size();
  }

  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) {
    return latencies_us.empty() ? 0.0
                                : latencies_us[std::min(latencies_us.size() - 1,
                                                        static_cast<size_t>(p * latencies_us.size()))];
  };
  auto iterations = static_cast<double>(state.iterations());
  using benchmark::Counter;
  state.counters["writes_per_s"] = Counter(iterations, Counter::kIsRate);
  state.counters["entries_per_s"] = Counter(iterations * entries_per_write, Counter::kIsRate);
  state.counters["proposals_per_s"] =
      Counter(iterations * entries_per_write * proposals, Counter::kIsRate);
  state.counters["MB_per_s"] = Counter(bytes / 1e6, Counter::kIsRate);
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = latencies_us.empty() ? 0.0 : latencies_us.back();
}

// The device's floor, for comparison: overwrite one 4 KiB block of a preallocated file and
// fdatasync() it, as a BDB commit does to its log (minus everything else a commit does).
void BM_RawFdatasync(benchmark::State& state) {
  TempDir dir("lockstep-storage-bench");
  auto path = dir.path() / "raw";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    state.SkipWithError("cannot create file");
    return;
  }
  std::string block(4096, 'x');
  constexpr int kBlocks = 1024;
  for (int i = 0; i < kBlocks; ++i) (void)!::pwrite(fd, block.data(), block.size(), i * 4096L);
  ::fsync(fd);
  std::vector<double> latencies_us;
  int i = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    (void)!::pwrite(fd, block.data(), block.size(), (i++ % kBlocks) * 4096L);
    ::fdatasync(fd);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(took.count());
    latencies_us.push_back(took.count() * 1e6);
  }
  ::close(fd);
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) {
    return latencies_us[std::min(latencies_us.size() - 1, static_cast<size_t>(p * latencies_us.size()))];
  };
  state.counters["fsyncs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = latencies_us.back();
}
BENCHMARK(BM_RawFdatasync)->UseManualTime()->MinTime(3.0)->Unit(benchmark::kMicrosecond);

// Restart cost: load() of a log of `entries` entries of 8 proposals of 64 bytes.
void BM_Load(benchmark::State& state) {
  TempDir dir("lockstep-storage-bench");
  StorageOptions options;
  options.directory = dir.path() / "store";
  options.durability = Durability::none;
  auto entries = static_cast<Index>(state.range(0));
  {
    auto store = LogStore::open(options);
    std::vector<EntryPtr> batch;
    for (Index i = 1; i <= entries; ++i) {
      batch.push_back(make_entry(i, 1, 8, kProposalBytes));
      if (batch.size() == 1000 || i == entries) {
        store.write(std::nullopt, std::nullopt, batch);
        batch.clear();
      }
    }
  }
  auto store = LogStore::open(options);
  for (auto _ : state) benchmark::DoNotOptimize(store.load());
  state.counters["entries_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * entries), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Load)->Arg(100000)->Unit(benchmark::kMillisecond);

void grid(benchmark::internal::Benchmark* b) {
  b->ArgNames({"dur", "N", "k", "pageKB", "lgbufKB"});
  // Durability modes at the node's likely operating points (page 16 KiB, log buffer 4 MiB).
  for (int dur : {0, 1, 2})
    for (int n : {1, 16})
      for (int k : {1, 64, 256, 512}) b->Args({dur, n, k, 16, 4096});
  // Page size and log buffer, fsync, one entry of 512 proposals (~45 KB) per write.
  for (int page : {4, 8, 32, 64}) b->Args({0, 1, 512, page, 4096});
  for (int lgbuf : {32, 256, 16384}) b->Args({0, 1, 512, 16, lgbuf});
}

BENCHMARK(BM_Write)->Apply(grid)->UseManualTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace lockstep::paxos

BENCHMARK_MAIN();
