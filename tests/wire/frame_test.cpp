#include "paxos/wire/frame.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace lockstep::wire {
namespace {

constexpr std::string_view kKey = "test cluster key, 32 bytes long!";
constexpr size_t kMax = 4096;

std::string frame_of(FrameKind kind, std::string_view payload, uint16_t flags = 0) {
  FrameCodec codec(kKey, kMax);
  std::string out;
  codec.encode(kind, payload, out, flags);
  return out;
}

TEST(Frame, RoundTripsEveryKind) {
  FrameCodec codec(kKey, kMax);
  RejectCounters counters;
  std::vector<uint8_t> kinds = {1, 2, 3, 4, 5, 6};
  for (uint8_t k = kProxyKindFirst; k <= kProxyKindLast; ++k) kinds.push_back(k);
  for (uint8_t k : kinds) {
    std::string payload = "payload of kind " + std::to_string(k) + std::string("\0\x01\xff", 3);
    std::string out;
    codec.encode(static_cast<FrameKind>(k), payload, out, static_cast<uint16_t>(k * 257));
    ASSERT_EQ(out.size(), payload.size() + kFrameOverhead);
    auto r = codec.decode(out, counters);
    ASSERT_TRUE(r.frame()) << r.error;
    EXPECT_EQ(static_cast<uint8_t>(r.kind), k);
    EXPECT_EQ(r.flags, k * 257);
    EXPECT_EQ(r.payload, payload);
    EXPECT_EQ(r.consumed, out.size());
    // The payload is a view into the buffer, not a copy.
    EXPECT_EQ(r.payload.data(), out.data() + kFrameHeaderSize);
  }
  EXPECT_EQ(counters.total(), 0u);
}

TEST(Frame, LayoutIsLittleEndianAsDocumented) {
  std::string f = frame_of(FrameKind::Submit, "abc", 0x0102);
  EXPECT_EQ(f.substr(0, 4), "LKSP");
  EXPECT_EQ(f[4], static_cast<char>(kFrameVersion));
  EXPECT_EQ(f[5], 3);
  EXPECT_EQ(f[6], 0x02);
  EXPECT_EQ(f[7], 0x01);
  EXPECT_EQ(f.substr(8, 4), std::string("\x03\0\0\0", 4));
  EXPECT_EQ(f.substr(kFrameHeaderSize, 3), "abc");
}

TEST(Frame, EmptyAndMaximalPayloads) {
  FrameCodec codec(kKey, kMax);
  RejectCounters counters;
  for (size_t n : {size_t{0}, kMax}) {
    std::string payload(n, 'x');
    std::string out;
    codec.encode(FrameKind::Paxos, payload, out);
    auto r = codec.decode(out, counters);
    ASSERT_TRUE(r.frame()) << r.error;
    EXPECT_EQ(r.payload.size(), n);
  }
}

TEST(Frame, EncodeRefusesOversizedPayloadAndLeavesOutputAlone) {
  FrameCodec codec(kKey, kMax);
  std::string out = "prefix";
  EXPECT_THROW(codec.encode(FrameKind::Paxos, std::string(kMax + 1, 'x'), out), std::length_error);
  EXPECT_EQ(out, "prefix");
  size_t start = codec.begin(out);
  out.append(kMax + 1, 'y');
  EXPECT_THROW(codec.finish(FrameKind::Paxos, start, out), std::length_error);
  EXPECT_EQ(out, "prefix");
}

TEST(Frame, BeginFinishMatchesEncode) {
  FrameCodec codec(kKey, kMax);
  std::string a = "x";
  std::string b = "x";
  codec.encode(FrameKind::Hello, "hello there", a, 7);
  size_t start = codec.begin(b);
  EXPECT_EQ(start, 1u);
  b += "hello there";
  codec.finish(FrameKind::Hello, start, b, 7);
  EXPECT_EQ(a, b);
}

TEST(Frame, CopiesOfACodecUseTheSameKey) {
  FrameCodec a(kKey, kMax);
  FrameCodec b = a;
  std::string out;
  a.encode(FrameKind::Paxos, "copied", out);
  RejectCounters counters;
  auto r = b.decode(out, counters);
  ASSERT_TRUE(r.frame()) << r.error;
  EXPECT_EQ(r.payload, "copied");
}

TEST(Frame, ConstructorValidates) {
  EXPECT_THROW(FrameCodec("", kMax), std::invalid_argument);
  EXPECT_THROW(FrameCodec(kKey, kMaxFramePayloadLimit + 1), std::invalid_argument);
  EXPECT_NO_THROW(FrameCodec(kKey, kMaxFramePayloadLimit));
}

TEST(Frame, TruncatedAtEveryLengthNeedsMore) {
  FrameCodec codec(kKey, kMax);
  RejectCounters counters;
  std::string f = frame_of(FrameKind::Paxos, std::string(100, 'p'));
  for (size_t n = 0; n < f.size(); ++n) {
    auto r = codec.decode(std::string_view(f).substr(0, n), counters);
    ASSERT_TRUE(r.need_more()) << "prefix " << n << ": " << r.error;
    EXPECT_EQ(r.need, n < kFrameHeaderSize ? 0 : f.size()) << n;
  }
  EXPECT_EQ(counters.total(), 0u);
  EXPECT_TRUE(codec.decode(f, counters).frame());
}

TEST(Frame, ByteAtATimeStreamOfFrames) {
  FrameCodec codec(kKey, kMax);
  std::vector<std::string> payloads;
  std::string stream;
  std::mt19937 rng(1);
  for (int i = 0; i < 50; ++i) {
    std::string p(rng() % 300, '\0');
    for (auto& c : p) c = static_cast<char>(rng());
    codec.encode(i % 2 ? FrameKind::Paxos : FrameKind::Submit, p, stream);
    payloads.push_back(std::move(p));
  }
  RejectCounters counters;
  std::string buffer;
  std::vector<std::string> got;
  for (char c : stream) {
    buffer.push_back(c);
    for (;;) {
      auto r = codec.decode(buffer, counters);
      ASSERT_FALSE(r.failed()) << r.error;
      if (r.need_more()) break;
      got.emplace_back(r.payload);
      buffer.erase(0, r.consumed);
    }
  }
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(got, payloads);
  EXPECT_EQ(counters.total(), 0u);
}

TEST(Frame, SeveralFramesInOneBuffer) {
  FrameCodec codec(kKey, kMax);
  std::string stream;
  codec.encode(FrameKind::Hello, "one", stream);
  codec.encode(FrameKind::Paxos, "two!", stream);
  RejectCounters counters;
  auto a = codec.decode(stream, counters);
  ASSERT_TRUE(a.frame());
  EXPECT_EQ(a.payload, "one");
  auto b = codec.decode(std::string_view(stream).substr(a.consumed), counters);
  ASSERT_TRUE(b.frame());
  EXPECT_EQ(b.payload, "two!");
  EXPECT_EQ(a.consumed + b.consumed, stream.size());
}

DecodeResult decode_once(std::string_view bytes, RejectCounters& counters) {
  return FrameCodec(kKey, kMax).decode(bytes, counters);
}

TEST(FrameReject, BadMagicEvenFromTheFirstByte) {
  RejectCounters counters;
  std::string f = frame_of(FrameKind::Paxos, "x");
  for (size_t i = 0; i < 4; ++i) {
    std::string bad = f;
    bad[i] ^= 0x20;
    auto r = decode_once(bad, counters);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.reason, RejectReason::BadMagic);
    // Only the bytes up to and including the bad one are needed to see it.
    auto early = decode_once(std::string_view(bad).substr(0, i + 1), counters);
    ASSERT_TRUE(early.failed());
    EXPECT_EQ(early.reason, RejectReason::BadMagic);
  }
  EXPECT_TRUE(decode_once("GET / HTTP/1.1\r\n", counters).failed());
  EXPECT_EQ(counters[RejectReason::BadMagic], 9u);
  EXPECT_EQ(counters.total(), 9u);
}

TEST(FrameReject, WrongVersion) {
  RejectCounters counters;
  for (uint8_t v : {0, 2, 255}) {
    std::string f = frame_of(FrameKind::Paxos, "x");
    f[4] = static_cast<char>(v);
    auto r = decode_once(std::string_view(f).substr(0, 5), counters);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.reason, RejectReason::WrongVersion);
    EXPECT_NE(r.error.find("version"), std::string::npos);
  }
  EXPECT_EQ(counters[RejectReason::WrongVersion], 3u);
}

TEST(FrameReject, UnknownKind) {
  RejectCounters counters;
  for (uint8_t k : {0, 7, 15, 32, 255}) {
    std::string f = frame_of(FrameKind::Paxos, "x");
    f[5] = static_cast<char>(k);
    auto r = decode_once(f, counters);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.reason, RejectReason::UnknownKind) << int(k);
  }
  EXPECT_EQ(counters[RejectReason::UnknownKind], 5u);
  EXPECT_EQ(counters.total(), 5u);
}

TEST(FrameReject, OversizedFromTheHeaderAlone) {
  RejectCounters counters;
  std::string f = frame_of(FrameKind::Paxos, "x");
  for (uint32_t len : {uint32_t(kMax + 1), uint32_t(0xffffffff)}) {
    for (int i = 0; i < 4; ++i) f[8 + i] = static_cast<char>((len >> (8 * i)) & 0xff);
    auto r = decode_once(std::string_view(f).substr(0, kFrameHeaderSize), counters);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.reason, RejectReason::Oversized);
  }
  // A codec with a larger limit accepts what a smaller one rejects.
  std::string big;
  FrameCodec(kKey, 2 * kMax).encode(FrameKind::Paxos, std::string(kMax + 1, 'z'), big);
  EXPECT_EQ(decode_once(big, counters).reason, RejectReason::Oversized);
  EXPECT_EQ(counters[RejectReason::Oversized], 3u);
}

TEST(FrameReject, CorruptPayloadIsBadChecksum) {
  RejectCounters counters;
  std::string f = frame_of(FrameKind::Paxos, "some payload");
  for (size_t i = kFrameHeaderSize; i < f.size() - kFrameTagSize; ++i) {
    std::string bad = f;
    bad[i] ^= 1;
    auto r = decode_once(bad, counters);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.reason, RejectReason::BadChecksum);
  }
  std::string bad = f;
  bad[12] ^= 1;  // the checksum field itself
  EXPECT_EQ(decode_once(bad, counters).reason, RejectReason::BadChecksum);
  EXPECT_EQ(counters[RejectReason::BadChecksum], 13u);
}

TEST(FrameReject, ForgeriesAreBadHmac) {
  RejectCounters counters;
  std::string f = frame_of(FrameKind::Paxos, "payload");
  // Tampered tag.
  for (size_t i = f.size() - kFrameTagSize; i < f.size(); ++i) {
    std::string bad = f;
    bad[i] ^= 0x80;
    EXPECT_EQ(decode_once(bad, counters).reason, RejectReason::BadHmac);
  }
  // Tampered flags: checksum still matches, so only the tag can catch it.
  std::string bad = f;
  bad[6] ^= 1;
  EXPECT_EQ(decode_once(bad, counters).reason, RejectReason::BadHmac);
  // Kind changed to another valid kind.
  bad = f;
  bad[5] = static_cast<char>(FrameKind::Submit);
  EXPECT_EQ(decode_once(bad, counters).reason, RejectReason::BadHmac);
  // A well-formed frame made with another key.
  std::string other;
  FrameCodec("another key", kMax).encode(FrameKind::Paxos, "payload", other);
  auto r = decode_once(other, counters);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.reason, RejectReason::BadHmac);
  EXPECT_NE(r.error.find("authentication"), std::string::npos);
  EXPECT_EQ(counters[RejectReason::BadHmac], kFrameTagSize + 3);
  EXPECT_EQ(counters.total(), kFrameTagSize + 3);
}

TEST(FrameReject, ReasonsHaveNames) {
  for (size_t i = 0; i < kRejectReasonCount; ++i) {
    auto name = to_string(static_cast<RejectReason>(i));
    EXPECT_FALSE(name.empty());
    EXPECT_NE(name, "unknown reason");
  }
}

TEST(FrameReject, RandomGarbageNeverDecodes) {
  FrameCodec codec(kKey, kMax);
  RejectCounters counters;
  std::mt19937_64 rng(7);
  std::string f = frame_of(FrameKind::Paxos, std::string(64, 'q'));
  for (int i = 0; i < 20000; ++i) {
    std::string bad = f;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int j = 0; j < flips; ++j) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    auto r = codec.decode(bad, counters);
    if (bad == f) continue;
    // Any change either leaves the frame incomplete (a larger length) or is rejected.
    EXPECT_FALSE(r.frame()) << i;
  }
}

}  // namespace
}  // namespace lockstep::wire
