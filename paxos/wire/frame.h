// Framing of every byte stream between nodes and between clients and nodes.
//
//   offset size  field
//        0    4  magic "LKSP"
//        4    1  version (kFrameVersion)
//        5    1  kind (FrameKind)
//        6    2  flags (kind-specific; 0 today, carried through untouched)
//        8    4  payload length (<= the codec's max payload)
//       12    8  xxh3-64 of the payload
//       20    n  payload
//     20+n   16  HMAC-SHA256(cluster key, header || payload), truncated to 16 bytes
//
// All integers little-endian. The checksum tells corruption from forgery: a frame whose payload
// matches its checksum but whose tag is wrong was made without the key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "paxos/wire/hmac.h"

namespace lockstep::wire {

enum class FrameKind : uint8_t {
  Hello = 1,         // first frame on every connection; payload: Hello
  Paxos = 2,         // payload: one paxos::Message
  Submit = 3,        // client -> node; payload: Submit
  SubmitResult = 4,  // node -> client; payload: SubmitResult
  StatusRequest = 5, // client -> node; empty payload
  Status = 6,        // node -> client; payload: one JSON object (role, view, commit, counters)
  // 16..31 are reserved for proxy events; see is_known_kind.
};
inline constexpr uint8_t kProxyKindFirst = 16;
inline constexpr uint8_t kProxyKindLast = 31;
bool is_known_kind(uint8_t kind);

inline constexpr uint32_t kFrameMagic = 0x50534b4c;  // bytes "LKSP" on the wire
inline constexpr uint8_t kFrameVersion = 1;
inline constexpr size_t kFrameHeaderSize = 20;
inline constexpr size_t kFrameTagSize = 16;
inline constexpr size_t kFrameOverhead = kFrameHeaderSize + kFrameTagSize;
// Largest max_payload a codec accepts; keeps header + payload + tag within a u32 and sane.
inline constexpr size_t kMaxFramePayloadLimit = size_t{1} << 30;

enum class RejectReason : uint8_t {
  BadMagic = 0,
  WrongVersion,
  Oversized,
  BadChecksum,
  BadHmac,  // checksum fine, tag wrong: forged, or a peer with another key
  UnknownKind,
};
inline constexpr size_t kRejectReasonCount = 6;
std::string_view to_string(RejectReason reason);

// Owned by whoever wants to count (a connection, a node); FrameCodec::decode bumps it.
struct RejectCounters {
  uint64_t by_reason[kRejectReasonCount] = {};
  uint64_t operator[](RejectReason r) const { return by_reason[static_cast<size_t>(r)]; }
  void add(RejectReason r) { ++by_reason[static_cast<size_t>(r)]; }
  uint64_t total() const;
};

struct DecodeResult {
  enum class Status : uint8_t { NeedMore, Frame, Error };
  Status status = Status::NeedMore;
  // Frame: the frame; `payload` points into the buffer given to decode().
  FrameKind kind = FrameKind::Hello;
  uint16_t flags = 0;
  std::string_view payload;
  size_t consumed = 0;  // Frame: bytes to drop from the front of the buffer
  // NeedMore: total bytes the buffer must hold before the next frame can complete, once the
  // header is in (0 before), so a receiver can size its reads.
  size_t need = 0;
  // Error: why; `error` is one line for the log.
  RejectReason reason = RejectReason::BadMagic;
  std::string error;

  bool need_more() const { return status == Status::NeedMore; }
  bool frame() const { return status == Status::Frame; }
  bool failed() const { return status == Status::Error; }
};

// Encodes and decodes frames under one cluster key. Immutable after construction (the prepared
// MAC state is copied per frame), so one codec may be shared by threads. No heap allocation per
// frame beyond growing `out`.
class FrameCodec {
 public:
  // Throws std::invalid_argument on an empty key or max_payload above kMaxFramePayloadLimit.
  FrameCodec(std::string_view key, size_t max_payload);

  size_t max_payload() const { return max_payload_; }

  // Appends one frame. Throws std::length_error (leaving `out` unchanged) if the payload is
  // larger than max_payload(): the sender must bound its batches, the receiver would reject it.
  void encode(FrameKind kind, std::string_view payload, std::string& out, uint16_t flags = 0) const;

  // Writing the payload straight into `out` avoids a copy: begin() appends a placeholder header
  // and returns the frame's offset; append the payload to `out`; finish() fills in the header and
  // appends the tag (same length rule as encode()).
  size_t begin(std::string& out) const;
  void finish(FrameKind kind, size_t frame_start, std::string& out, uint16_t flags = 0) const;

  // Decodes the first frame of `buffer`. Header fields are checked as soon as their bytes are
  // present, so garbage is rejected without waiting for a full frame. An Error counts once in
  // `counters` per call; after an Error the stream is unusable and the connection must be closed.
  DecodeResult decode(std::string_view buffer, RejectCounters& counters) const;

 private:
  HmacSha256 mac_;
  size_t max_payload_;
};

}  // namespace lockstep::wire
