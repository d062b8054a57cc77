// Micro-benchmarks of the wire format: build/bin/wire_bench. Frame cost is split into the HMAC
// (two SHA-256 passes, dominant for small frames) and the rest (header, xxh3, copy).
#include <benchmark/benchmark.h>

#include <array>

#include "paxos/wire/frame.h"
#include "paxos/wire/message_codec.h"
#include "tests/wire/test_messages.h"

namespace lockstep::wire {
namespace {

constexpr std::string_view kKey = "benchmark cluster key, 32 bytes";

void BM_Hmac(benchmark::State& state) {
  HmacSha256 mac(kKey);
  std::string data(kFrameHeaderSize + static_cast<size_t>(state.range(0)), 'x');
  std::array<uint8_t, kHmacSha256Size> tag;
  for (auto _ : state) {
    mac.sign(data, {}, tag);
    benchmark::DoNotOptimize(tag);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_Hmac)->Arg(64)->Arg(1024)->Arg(64 * 1024);

void BM_FrameEncode(benchmark::State& state) {
  FrameCodec codec(kKey, 1 << 20);
  std::string payload(static_cast<size_t>(state.range(0)), 'p');
  std::string out;
  out.reserve(payload.size() + kFrameOverhead);
  for (auto _ : state) {
    out.clear();
    codec.encode(FrameKind::Paxos, payload, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FrameEncode)->Arg(64)->Arg(1024)->Arg(64 * 1024);

void BM_FrameDecode(benchmark::State& state) {
  FrameCodec codec(kKey, 1 << 20);
  std::string frame;
  codec.encode(FrameKind::Paxos, std::string(static_cast<size_t>(state.range(0)), 'p'), frame);
  RejectCounters counters;
  for (auto _ : state) {
    auto r = codec.decode(frame, counters);
    benchmark::DoNotOptimize(r.payload.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FrameDecode)->Arg(64)->Arg(1024)->Arg(64 * 1024);

// Everything but the MAC: the header checks, the checksum and the copy, measured on a frame
// rejected at the tag compare's doorstep (corrupt checksum), i.e. decode minus HMAC.
void BM_FrameDecodeNoMac(benchmark::State& state) {
  FrameCodec codec(kKey, 1 << 20);
  std::string frame;
  codec.encode(FrameKind::Paxos, std::string(static_cast<size_t>(state.range(0)), 'p'), frame);
  frame[12] ^= 1;
  RejectCounters counters;
  for (auto _ : state) {
    auto r = codec.decode(frame, counters);
    benchmark::DoNotOptimize(r.reason);
  }
}
BENCHMARK(BM_FrameDecodeNoMac)->Arg(64)->Arg(1024);

void BM_HeartbeatEncodeFrame(benchmark::State& state) {
  FrameCodec codec(kKey, 1 << 20);
  auto heartbeat = testing::sample_messages().back();
  std::string out;
  out.reserve(4096);
  for (auto _ : state) {
    out.clear();
    append_frame(codec, heartbeat, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_HeartbeatEncodeFrame);

// An Accept carrying one entry of `range` 64-byte proposals: message encode and decode alone.
paxos::Message accept_with(int proposals) {
  paxos::Message m;
  m.type = paxos::MessageType::Accept;
  auto e = std::make_shared<paxos::Entry>();
  e->index = 1;
  for (int i = 0; i < proposals; ++i)
    e->proposals.push_back(paxos::Proposal{{1, 1, static_cast<uint64_t>(i)}, std::string(64, 'd')});
  m.entries.push_back(e);
  return m;
}

void BM_AcceptEncode(benchmark::State& state) {
  auto m = accept_with(static_cast<int>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    encode_message(m, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_AcceptEncode)->Arg(1)->Arg(64);

void BM_AcceptDecode(benchmark::State& state) {
  std::string bytes;
  encode_message(accept_with(static_cast<int>(state.range(0))), bytes);
  for (auto _ : state) {
    auto m = decode_message(bytes);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_AcceptDecode)->Arg(1)->Arg(64);

void BM_SubmitDecode(benchmark::State& state) {
  std::string bytes;
  encode_submit(Submit{1, std::string(64, 's')}, bytes);
  for (auto _ : state) {
    auto s = decode_submit(bytes);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_SubmitDecode);

}  // namespace
}  // namespace lockstep::wire

BENCHMARK_MAIN();
