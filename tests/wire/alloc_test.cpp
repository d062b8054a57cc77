// Per-frame work must not touch the heap: neither our code (operator new) nor OpenSSL (its
// allocator hook, which can only be installed before OpenSSL's first allocation, hence the
// static initializer).
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "paxos/wire/frame.h"
#include "paxos/wire/message_codec.h"

namespace {
std::atomic<long> g_allocs{0};

void* counting_malloc(size_t n, const char*, int) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void* counting_realloc(void* p, size_t n, const char*, int) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void plain_free(void* p, const char*, int) { std::free(p); }

const bool g_hooked = CRYPTO_set_mem_functions(counting_malloc, counting_realloc, plain_free) == 1;
}  // namespace

// The replacement pair below is malloc/free underneath; GCC cannot see that once it inlines them.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace lockstep::wire {
namespace {

TEST(WireAllocations, EncodeAndDecodeOfAFrameDoNotAllocate) {
  ASSERT_TRUE(g_hooked) << "OpenSSL allocated before the test could hook its allocator";
  FrameCodec codec("cluster key for the allocation test", 1 << 16);
  std::string out;
  out.reserve(4096);
  RejectCounters counters;
  std::string payload(64, 'x');
  // Warm up anything lazily initialised.
  codec.encode(FrameKind::Paxos, payload, out);
  ASSERT_TRUE(codec.decode(out, counters).frame());

  long before = g_allocs.load();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    codec.encode(FrameKind::Paxos, payload, out);
    append_frame(codec, Submit{static_cast<uint64_t>(i), payload}, out);
    auto r = codec.decode(out, counters);
    ASSERT_TRUE(r.frame());
    auto s = codec.decode(std::string_view(out).substr(r.consumed), counters);
    ASSERT_TRUE(s.frame());
    ASSERT_TRUE(decode_submit(s.payload));
  }
  EXPECT_EQ(g_allocs.load() - before, 0);
}

}  // namespace
}  // namespace lockstep::wire
