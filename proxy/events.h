// The proxy's log payload: a batch of connection events, encoded compactly (little-endian,
// length-prefixed) and decoded with bounds checks, so a malformed batch in a committed entry is
// rejected as a whole and never half-applied.
//
//   batch  = magic u32 "LSPX" | version u8 | seq u64 | count u32 | event*
//   event  = type u8 | body
//     CONNECT, SHUTDOWN, CLOSE : conn
//     DATA                     : conn | len u32 | bytes
//     DIGEST                   : conn | replica u32 | offset u64 | hash u64 | final u8
//     ORIGIN_DOWN              : conn  (closes every connection of conn.node up to (incarnation, counter))
//   conn   = node u32 | incarnation u64 | counter u64
//
// `seq` numbers the batches of one origin (node, incarnation) from 1, so every replica applies
// them in the order the origin cut them even if the log commits them out of order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::proxy {

// Cluster-unique id of one client connection: the node that accepted it, that node's
// incarnation (bumped at every start), and a counter within the incarnation.
struct ConnId {
  uint32_t node = 0;
  uint64_t incarnation = 0;
  uint64_t counter = 0;
  friend bool operator==(const ConnId&, const ConnId&) = default;
  friend auto operator<=>(const ConnId&, const ConnId&) = default;
};

struct ConnIdHash {
  size_t operator()(const ConnId& c) const {
    uint64_t h = c.counter * 0x9e3779b97f4a7c15ULL;
    h ^= (c.incarnation + (static_cast<uint64_t>(c.node) << 48)) * 0xc2b2ae3d27d4eb4fULL;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

std::string to_string(const ConnId& c);  // "node/incarnation/counter"

enum class EventType : uint8_t { Connect = 1, Data = 2, Shutdown = 3, Close = 4, Digest = 5, OriginDown = 6 };
std::string_view to_string(EventType type);

struct Event {
  EventType type = EventType::Connect;
  ConnId conn;
  std::string_view data;  // DATA: points into the decoded batch
  uint32_t replica = 0;   // DIGEST: who computed it
  uint64_t offset = 0;    // DIGEST: reply bytes covered
  uint64_t hash = 0;      // DIGEST: xxh3 of those bytes
  bool final = false;     // DIGEST: taken when the server closed its side (offset = all bytes)
};

inline constexpr uint32_t kBatchMagic = 0x5850534c;  // "LSPX" little-endian
inline constexpr uint8_t kBatchVersion = 1;
inline constexpr size_t kBatchHeaderBytes = 4 + 1 + 8 + 4;
inline constexpr size_t kConnBytes = 4 + 8 + 8;

// True if `payload` claims to be a proxy batch (other submitters share the log, e.g. probes).
bool is_batch(std::string_view payload);

struct DecodedBatch {
  uint64_t seq = 0;
  std::vector<Event> events;  // reused between decodes
};

// Decodes all of `payload` into `out` (whose DATA views point into payload). Returns false and
// sets `error` on any malformation: bad magic/version, unknown type, truncation, trailing bytes,
// zero node ids.
bool decode_batch(std::string_view payload, DecodedBatch& out, std::string& error);

// Appends events to one batch. DATA bodies are filled in place by the caller (data_slot), so
// client bytes are copied once, from the socket buffer into the batch.
class BatchWriter {
 public:
  void begin(uint64_t seq);
  bool empty() const { return count_ == 0; }
  size_t size() const { return buf_.size(); }
  void add(EventType type, const ConnId& conn);  // CONNECT, SHUTDOWN, CLOSE, ORIGIN_DOWN
  // Reserves `len` bytes of a DATA event and returns where to write them.
  char* data_slot(const ConnId& conn, uint32_t len);
  void add_data(const ConnId& conn, std::string_view bytes);
  void add_digest(const ConnId& conn, uint32_t replica, uint64_t offset, uint64_t hash, bool final);
  // The finished batch; the writer is empty afterwards (begin() again before adding).
  std::string finish();

 private:
  void put_conn(const ConnId& c);
  std::string buf_;
  uint32_t count_ = 0;
};

}  // namespace lockstep::proxy
