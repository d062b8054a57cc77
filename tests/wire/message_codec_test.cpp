#include "paxos/wire/message_codec.h"

#include <gtest/gtest.h>

#include <random>

#include "common/bytes.h"
#include "paxos/core/entry_codec.h"
#include "tests/wire/test_messages.h"

namespace lockstep::wire {
namespace {

using testing::same_message;
using testing::sample_messages;

std::string encoded(const paxos::Message& m) {
  std::string out;
  encode_message(m, out);
  return out;
}

TEST(MessageCodec, RoundTripsEveryType) {
  for (const auto& m : sample_messages()) {
    std::string bytes = encoded(m);
    auto back = decode_message(bytes);
    ASSERT_TRUE(back) << static_cast<int>(m.type);
    EXPECT_TRUE(same_message(m, *back)) << static_cast<int>(m.type);
    EXPECT_EQ(encoded(*back), bytes);
  }
}

TEST(MessageCodec, EntriesUseTheStorageEncoding) {
  auto m = sample_messages()[4];
  ASSERT_EQ(m.type, paxos::MessageType::Accept);
  std::string bytes = encoded(m);
  std::string first = paxos::encode_entry(*m.entries[0]);
  // Fixed fields are 50 bytes minus the proposal count; then the entry count, then entries.
  EXPECT_EQ(bytes.substr(1 + 4 + 4 + 8 * 4 + 1 + 4, first.size()), first);
}

TEST(MessageCodec, TruncationAtEveryLengthFails) {
  for (const auto& m : sample_messages()) {
    std::string bytes = encoded(m);
    for (size_t n = 0; n < bytes.size(); ++n)
      EXPECT_FALSE(decode_message(std::string_view(bytes).substr(0, n))) << n;
  }
}

TEST(MessageCodec, TrailingBytesFail) {
  for (const auto& m : sample_messages()) {
    std::string bytes = encoded(m) + '\0';
    EXPECT_FALSE(decode_message(bytes));
  }
}

TEST(MessageCodec, UnknownTypeAndBadBoolFail) {
  std::string bytes = encoded(sample_messages()[0]);
  for (uint8_t t : {0, 8, 255}) {
    std::string bad = bytes;
    bad[0] = static_cast<char>(t);
    EXPECT_FALSE(decode_message(bad)) << int(t);
  }
  std::string bad = bytes;
  bad[1 + 4 + 4 + 8 * 4] = 2;  // `ok`
  EXPECT_FALSE(decode_message(bad));
}

TEST(MessageCodec, HugeCountsInTinyInputFailWithoutAllocating) {
  // Header of a message claiming 2^32-1 entries, then 2^32-1 proposals, with nothing behind.
  paxos::Message m;
  std::string bytes = encoded(m);
  std::string many_entries = bytes.substr(0, 50 - 8) + std::string("\xff\xff\xff\xff", 4) +
                             std::string(4, '\0');
  EXPECT_FALSE(decode_message(many_entries));
  std::string many_proposals = bytes.substr(0, 50 - 4) + std::string("\xff\xff\xff\xff", 4);
  EXPECT_FALSE(decode_message(many_proposals));
  // Also a proposal whose data length runs past the end.
  std::string long_data = bytes.substr(0, 50 - 4);
  ByteWriter w(long_data);
  w.u32(1);
  w.u32(1);
  w.u64(1);
  w.u64(1);
  w.u32(1000);
  long_data += "short";
  EXPECT_FALSE(decode_message(long_data));
}

TEST(MessageCodec, RandomMutationsNeverCrashAndDecodeCanonically) {
  std::mt19937_64 rng(11);
  auto samples = sample_messages();
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = encoded(samples[rng() % samples.size()]);
    switch (rng() % 3) {
      case 0:
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
        break;
      case 1:
        bytes.resize(rng() % bytes.size());
        break;
      default:
        bytes.insert(rng() % bytes.size(), 1, static_cast<char>(rng()));
    }
    auto m = decode_message(bytes);
    if (m) {
      ++decoded;
      // The encoding has one form per message, so whatever decodes re-encodes to the same bytes.
      EXPECT_EQ(encoded(*m), bytes);
    }
  }
  EXPECT_GT(decoded, 0);  // some mutations (in ids, data bytes) keep the input valid
}

TEST(ClientMessages, HelloRoundTripAndRejects) {
  for (const Hello& h : {Hello{"lockstep-local", Role::Peer, 3}, Hello{"", Role::Client, 0}}) {
    std::string bytes;
    encode_hello(h, bytes);
    auto back = decode_hello(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, h);
    for (size_t n = 0; n < bytes.size(); ++n)
      EXPECT_FALSE(decode_hello(std::string_view(bytes).substr(0, n)));
    EXPECT_FALSE(decode_hello(bytes + 'x'));
  }
  std::string bytes;
  encode_hello(Hello{"c", Role::Peer, 1}, bytes);
  for (uint8_t role : {0, 3, 255}) {
    std::string bad = bytes;
    bad[4 + 1] = static_cast<char>(role);
    EXPECT_FALSE(decode_hello(bad)) << int(role);
  }
}

TEST(ClientMessages, SubmitRoundTripAndRejects) {
  std::string data("binary\0data\xff", 12);
  Submit s{0xfedcba9876543210ULL, data};
  std::string bytes;
  encode_submit(s, bytes);
  auto back = decode_submit(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  EXPECT_EQ(back->data.data(), bytes.data() + 12);  // a view, no copy
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(decode_submit(std::string_view(bytes).substr(0, n)));
  EXPECT_FALSE(decode_submit(bytes + 'x'));
}

TEST(ClientMessages, SubmitResultRoundTripAndRejects) {
  for (auto status : {SubmitStatus::Ok, SubmitStatus::NotLeaderUnknown, SubmitStatus::Overloaded,
                      SubmitStatus::Error}) {
    SubmitResult r{77, status, 123456789, status == SubmitStatus::Error ? "disk full" : ""};
    std::string bytes;
    encode_submit_result(r, bytes);
    auto back = decode_submit_result(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);
    for (size_t n = 0; n < bytes.size(); ++n)
      EXPECT_FALSE(decode_submit_result(std::string_view(bytes).substr(0, n)));
    EXPECT_FALSE(decode_submit_result(bytes + 'x'));
  }
  std::string bytes;
  encode_submit_result(SubmitResult{}, bytes);
  bytes[8] = 4;  // status
  EXPECT_FALSE(decode_submit_result(bytes));
}

TEST(AppendFrame, EveryKindThroughTheFrameCodec) {
  FrameCodec codec("k", 1 << 20);
  std::string stream;
  auto messages = sample_messages();
  append_frame(codec, Hello{"cluster", Role::Peer, 2}, stream);
  for (const auto& m : messages) append_frame(codec, m, stream);
  append_frame(codec, Submit{5, "data"}, stream);
  append_frame(codec, SubmitResult{5, SubmitStatus::Ok, 9, ""}, stream);

  RejectCounters counters;
  std::string_view rest = stream;
  auto next = [&] {
    auto r = codec.decode(rest, counters);
    EXPECT_TRUE(r.frame()) << r.error;
    rest.remove_prefix(r.consumed);
    return r;
  };
  auto hello = next();
  EXPECT_EQ(hello.kind, FrameKind::Hello);
  EXPECT_EQ(decode_hello(hello.payload)->cluster, "cluster");
  for (const auto& m : messages) {
    auto f = next();
    EXPECT_EQ(f.kind, FrameKind::Paxos);
    auto back = decode_message(f.payload);
    ASSERT_TRUE(back);
    EXPECT_TRUE(same_message(m, *back));
  }
  auto submit = next();
  EXPECT_EQ(submit.kind, FrameKind::Submit);
  EXPECT_EQ(decode_submit(submit.payload)->data, "data");
  auto result = next();
  EXPECT_EQ(result.kind, FrameKind::SubmitResult);
  EXPECT_EQ(decode_submit_result(result.payload)->index, 9u);
  EXPECT_TRUE(rest.empty());
}

TEST(AppendFrame, OversizedMessageThrowsAndLeavesStreamIntact) {
  FrameCodec codec("k", 64);
  std::string stream = "earlier";
  auto m = sample_messages()[4];
  EXPECT_THROW(append_frame(codec, m, stream), std::length_error);
  EXPECT_EQ(stream, "earlier");
}

}  // namespace
}  // namespace lockstep::wire
