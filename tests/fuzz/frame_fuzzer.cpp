// libFuzzer target: the frame decoder and every payload decoder on hostile bytes. Crashes,
// sanitizer reports and broken invariants (checked with trap) are failures.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "paxos/wire/frame.h"
#include "paxos/wire/message_codec.h"
#include "tests/fuzz/fuzz_setup.h"

namespace lockstep::wire::fuzz {
namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const FrameCodec& codec() {
  static const FrameCodec c(kKey, kMaxPayload);
  return c;
}

// Whatever a decoder accepts must be the one encoding of what it returned.
void payload_decoders(std::string_view body) {
  std::string again;
  if (auto m = decode_message(body)) {
    encode_message(*m, again);
    check(again == body);
  }
  again.clear();
  if (auto h = decode_hello(body)) {
    encode_hello(*h, again);
    check(again == body);
  }
  again.clear();
  if (auto s = decode_submit(body)) {
    encode_submit(*s, again);
    check(again == body);
  }
  again.clear();
  if (auto r = decode_submit_result(body)) {
    encode_submit_result(*r, again);
    check(again == body);
  }
}

void stream(std::string_view in) {
  RejectCounters counters;
  while (true) {
    DecodeResult r = codec().decode(in, counters);
    if (r.need_more()) {
      check(r.need == 0 || r.need > in.size());
      return;
    }
    if (r.failed()) {
      check(counters.total() == 1 && counters[r.reason] == 1 && !r.error.empty());
      return;
    }
    check(r.consumed <= in.size() && r.consumed == r.payload.size() + kFrameOverhead);
    check(r.payload.data() == in.data() + kFrameHeaderSize);
    check(is_known_kind(static_cast<uint8_t>(r.kind)));
    payload_decoders(r.payload);
    in.remove_prefix(r.consumed);
  }
}

void round_trip(std::string_view body) {
  if (body.empty()) return;
  uint8_t kind = static_cast<uint8_t>(body[0]);
  if (!is_known_kind(kind)) return;
  std::string_view payload = body.substr(1);
  std::string frame;
  codec().encode(static_cast<FrameKind>(kind), payload, frame);
  RejectCounters counters;
  for (size_t n = 0; n < frame.size(); ++n) check(codec().decode(std::string_view(frame).substr(0, n), counters).need_more());
  DecodeResult r = codec().decode(frame, counters);
  check(r.frame() && r.payload == payload && r.consumed == frame.size() &&
        static_cast<uint8_t>(r.kind) == kind && counters.total() == 0);
}

void tamper(std::string_view body) {
  if (body.size() < 3) return;
  size_t pos = static_cast<uint8_t>(body[0]) | static_cast<size_t>(static_cast<uint8_t>(body[1])) << 8;
  char mask = body[2];
  std::string frame;
  codec().encode(FrameKind::Paxos, body.substr(3), frame);
  pos %= frame.size();
  if (mask == 0) return;
  frame[pos] ^= mask;
  RejectCounters counters;
  // A changed frame is never accepted: at most it looks incomplete (a larger length field).
  check(!codec().decode(frame, counters).frame());
}

}  // namespace
}  // namespace lockstep::wire::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep::wire::fuzz;
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % kModes) {
    case kStream: stream(body); break;
    case kPayloads: payload_decoders(body); break;
    case kRoundTrip: round_trip(body); break;
    case kTamper: tamper(body); break;
  }
  return 0;
}
