// Throughput and commit latency of LogStore::write(), the group commit of the node's loop.
// Not a ctest. Run: build/bin/storage_bench [--benchmark_filter=...]
// Each write() carries N entries of k proposals of 64 bytes. Reported per benchmark:
//   writes_per_s, entries_per_s, proposals_per_s, MB_per_s, and write() latency p50/p99/max in
//   µs (with durability fsync this is the fsync latency plus encoding and btree work).
// The store lives under $TMPDIR (set it to the disk the node will use).
#include <benchmark/benchmark.h>

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

void grid(benchmark::internal::Benchmark* b) {
  b->ArgNames({"dur", "N", "k", "pageKB", "lgbufKB"});
  // Durability modes at the node's likely operating points (page 16 KiB, log buffer 4 MiB).
  for (int dur : {0, 1, 2})
    for (int n : {1, 16})
      for (int k : {1, 64, 512}) b->Args({dur, n, k, 16, 4096});
  // Page size and log buffer, fsync, one entry of 512 proposals (~45 KB) per write.
  for (int page : {4, 8, 32, 64}) b->Args({0, 1, 512, page, 4096});
  for (int lgbuf : {32, 256, 16384}) b->Args({0, 1, 512, 16, lgbuf});
}

BENCHMARK(BM_Write)->Apply(grid)->UseManualTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace lockstep::paxos

BENCHMARK_MAIN();
