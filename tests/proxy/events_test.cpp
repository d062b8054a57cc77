// The proxy's batch codec and digest book: round trips, and garbage that must be rejected
// (never crash, never read out of bounds: this test also runs under ASan/UBSan).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "proxy/digest_book.h"
#include "proxy/events.h"

namespace lockstep::proxy {
namespace {

const ConnId kA{1, 7, 42};
const ConnId kB{3, 1, 1};

std::string sample_batch(uint64_t seq, const std::string& payload) {
  BatchWriter w;
  w.begin(seq);
  w.add(EventType::Connect, kA);
  w.add_data(kA, payload);
  char* slot = w.data_slot(kB, 3);
  std::memcpy(slot, "xyz", 3);
  w.add(EventType::Shutdown, kA);
  w.add_digest(kB, 2, 4u << 20, 0x0123456789abcdefULL, true);
  w.add(EventType::Close, kA);
  w.add(EventType::OriginDown, ConnId{2, 5, UINT64_MAX});
  w.add_data(kB, "");
  return w.finish();
}

TEST(ProxyEvents, RoundTrip) {
  std::string payload(100000, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31 + 7);
  std::string batch = sample_batch(99, payload);
  ASSERT_TRUE(is_batch(batch));
  DecodedBatch d;
  std::string error;
  ASSERT_TRUE(decode_batch(batch, d, error)) << error;
  EXPECT_EQ(d.seq, 99u);
  ASSERT_EQ(d.events.size(), 8u);
  EXPECT_EQ(d.events[0].type, EventType::Connect);
  EXPECT_EQ(d.events[0].conn, kA);
  EXPECT_EQ(d.events[1].type, EventType::Data);
  EXPECT_EQ(d.events[1].data, payload);
  EXPECT_EQ(d.events[2].data, "xyz");
  EXPECT_EQ(d.events[2].conn, kB);
  EXPECT_EQ(d.events[3].type, EventType::Shutdown);
  EXPECT_EQ(d.events[4].type, EventType::Digest);
  EXPECT_EQ(d.events[4].replica, 2u);
  EXPECT_EQ(d.events[4].offset, 4u << 20);
  EXPECT_EQ(d.events[4].hash, 0x0123456789abcdefULL);
  EXPECT_TRUE(d.events[4].final);
  EXPECT_EQ(d.events[5].type, EventType::Close);
  EXPECT_EQ(d.events[6].type, EventType::OriginDown);
  EXPECT_EQ(d.events[6].conn, (ConnId{2, 5, UINT64_MAX}));
  EXPECT_EQ(d.events[7].type, EventType::Data);
  EXPECT_TRUE(d.events[7].data.empty());
}

TEST(ProxyEvents, EmptyBatchAndWriterReuse) {
  BatchWriter w;
  w.begin(1);
  EXPECT_TRUE(w.empty());
  std::string first = w.finish();
  w.begin(2);
  w.add(EventType::Connect, kB);
  std::string second = w.finish();
  DecodedBatch d;
  std::string error;
  ASSERT_TRUE(decode_batch(first, d, error)) << error;
  EXPECT_TRUE(d.events.empty());
  ASSERT_TRUE(decode_batch(second, d, error)) << error;
  EXPECT_EQ(d.seq, 2u);
  ASSERT_EQ(d.events.size(), 1u);
}

TEST(ProxyEvents, ForeignPayloadsAreNotBatches) {
  EXPECT_FALSE(is_batch(""));
  EXPECT_FALSE(is_batch("LSP"));
  EXPECT_FALSE(is_batch("ready-probe"));
}

TEST(ProxyEvents, EveryTruncationIsRejected) {
  std::string batch = sample_batch(5, std::string(300, 'q'));
  DecodedBatch d;
  std::string error;
  for (size_t n = 0; n < batch.size(); ++n) {
    EXPECT_FALSE(decode_batch(std::string_view(batch).substr(0, n), d, error)) << "prefix " << n;
    EXPECT_FALSE(error.empty());
  }
}

TEST(ProxyEvents, MalformedFieldsAreRejected) {
  DecodedBatch d;
  std::string error;
  std::string good = sample_batch(5, "abc");
  {
    std::string bad = good + "X";  // trailing byte
    EXPECT_FALSE(decode_batch(bad, d, error));
    EXPECT_NE(error.find("trailing"), std::string::npos) << error;
  }
  {
    std::string bad = good;
    bad[4] = 9;  // version
    EXPECT_FALSE(decode_batch(bad, d, error));
  }
  {
    std::string bad = good;
    bad[kBatchHeaderBytes] = 77;  // first event's type
    EXPECT_FALSE(decode_batch(bad, d, error));
    EXPECT_NE(error.find("unknown type"), std::string::npos) << error;
  }
  {
    std::string bad = good;
    for (int i = 0; i < 4; ++i) bad[13 + i] = '\xff';  // count far beyond the bytes present
    EXPECT_FALSE(decode_batch(bad, d, error));
  }
  {
    BatchWriter w;
    w.begin(1);
    w.add(EventType::Connect, ConnId{0, 1, 1});  // node 0 does not exist
    EXPECT_FALSE(decode_batch(w.finish(), d, error));
  }
  {
    BatchWriter w;
    w.begin(1);
    w.add_digest(kA, 0, 0, 0, false);  // replica 0
    EXPECT_FALSE(decode_batch(w.finish(), d, error));
  }
  {
    BatchWriter w;
    w.begin(1);
    w.add_data(kA, "abcd");
    std::string bad = w.finish();
    bad[kBatchHeaderBytes + 1 + kConnBytes] = 100;  // DATA length past the end
    EXPECT_FALSE(decode_batch(bad, d, error));
  }
}

// Random mutations of valid batches and random bytes after a valid header: the decoder either
// accepts (every view inside the input) or rejects; it never crashes or reads out of bounds.
TEST(ProxyEvents, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(12345);
  std::string good = sample_batch(5, std::string(200, 'z'));
  DecodedBatch d;
  std::string error;
  size_t accepted = 0, rejected = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bad = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] = static_cast<char>(rng());
    if (round % 3 == 0) bad.resize(rng() % (bad.size() + 1));
    if (decode_batch(bad, d, error)) {
      ++accepted;
      for (const Event& e : d.events) {
        if (e.type != EventType::Data) continue;
        ASSERT_GE(e.data.data(), bad.data());
        ASSERT_LE(e.data.data() + e.data.size(), bad.data() + bad.size());
      }
    } else {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0u);
  for (int round = 0; round < 5000; ++round) {
    BatchWriter w;
    w.begin(1);
    std::string bad = w.finish();
    size_t n = rng() % 200;
    for (size_t i = 0; i < n; ++i) bad.push_back(static_cast<char>(rng()));
    uint32_t count = static_cast<uint32_t>(rng() % 8);
    std::memcpy(&bad[13], &count, 4);
    (void)decode_batch(bad, d, error);
  }
  SUCCEED() << accepted << " accepted, " << rejected << " rejected";
}

TEST(DigestBook, AgreementIsSilentAndCompleteEntriesAreDropped) {
  DigestBook book(3, 100);
  Divergence d;
  EXPECT_FALSE(book.add(kA, 1, 100, 0xaa, true, d));
  EXPECT_FALSE(book.add(kA, 2, 100, 0xaa, true, d));
  EXPECT_EQ(book.size(), 1u);
  EXPECT_FALSE(book.add(kA, 3, 100, 0xaa, true, d));
  EXPECT_EQ(book.size(), 0u);
  EXPECT_EQ(book.compared(), 2u);
}

TEST(DigestBook, HashOrLengthMismatchIsADivergence) {
  DigestBook book(3, 100);
  Divergence d;
  EXPECT_FALSE(book.add(kA, 1, 4096, 0xaa, false, d));
  ASSERT_TRUE(book.add(kA, 3, 4096, 0xbb, false, d));
  EXPECT_EQ(d.conn, kA);
  EXPECT_EQ(d.replica_a, 1u);
  EXPECT_EQ(d.replica_b, 3u);
  EXPECT_EQ(d.hash_a, 0xaau);
  EXPECT_EQ(d.hash_b, 0xbbu);
  // Final digests also compare how many bytes the server sent.
  EXPECT_FALSE(book.add(kB, 2, 10, 0x11, true, d));
  ASSERT_TRUE(book.add(kB, 1, 12, 0x11, true, d));
  EXPECT_TRUE(d.final);
  EXPECT_EQ(d.offset_a, 10u);
  EXPECT_EQ(d.offset_b, 12u);
  // Periodic and final digests of one connection are separate keys.
  EXPECT_FALSE(book.add(kB, 2, 10, 0x99, false, d));
}

TEST(DigestBook, MemoryStaysBoundedWhenAReplicaNeverReports) {
  DigestBook book(3, 50);
  Divergence d;
  for (uint64_t i = 0; i < 10000; ++i) {
    ConnId c{1, 1, i};
    EXPECT_FALSE(book.add(c, 1, 0, i, true, d));
    EXPECT_FALSE(book.add(c, 2, 0, i, true, d));  // replica 3 is down
  }
  EXPECT_LE(book.size(), 50u);
}

}  // namespace
}  // namespace lockstep::proxy
