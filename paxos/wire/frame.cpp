#include "paxos/wire/frame.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <xxhash.h>

#include <array>
#include <stdexcept>

namespace lockstep::wire {
namespace {

constexpr size_t kMagicOffset = 0;
constexpr size_t kVersionOffset = 4;
constexpr size_t kKindOffset = 5;
constexpr size_t kFlagsOffset = 6;
constexpr size_t kLengthOffset = 8;
constexpr size_t kChecksumOffset = 12;

template <typename T>
T load_le(const char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

template <typename T>
void store_le(char* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t checksum(std::string_view payload) { return XXH3_64bits(payload.data(), payload.size()); }

DecodeResult reject(RejectCounters& counters, RejectReason reason, std::string text) {
  counters.add(reason);
  DecodeResult r;
  r.status = DecodeResult::Status::Error;
  r.reason = reason;
  r.error = std::move(text);
  return r;
}

}  // namespace

bool is_known_kind(uint8_t kind) {
  return (kind >= static_cast<uint8_t>(FrameKind::Hello) &&
          kind <= static_cast<uint8_t>(FrameKind::Status)) ||
         (kind >= kProxyKindFirst && kind <= kProxyKindLast);
}

std::string_view to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::BadMagic: return "bad magic";
    case RejectReason::WrongVersion: return "wrong version";
    case RejectReason::Oversized: return "oversized";
    case RejectReason::BadChecksum: return "bad checksum";
    case RejectReason::BadHmac: return "bad hmac";
    case RejectReason::UnknownKind: return "unknown kind";
  }
  return "unknown reason";
}

uint64_t RejectCounters::total() const {
  uint64_t n = 0;
  for (uint64_t c : by_reason) n += c;
  return n;
}

FrameCodec::FrameCodec(std::string_view key, size_t max_payload)
    : mac_(key), max_payload_(max_payload) {
  if (key.empty()) throw std::invalid_argument("frame codec: empty cluster key");
  if (max_payload > kMaxFramePayloadLimit)
    throw std::invalid_argument(
        fmt::format("frame codec: max payload {} above limit {}", max_payload, kMaxFramePayloadLimit));
}

void FrameCodec::encode(FrameKind kind, std::string_view payload, std::string& out, uint16_t flags) const {
  if (payload.size() > max_payload_)
    throw std::length_error(
        fmt::format("frame payload of {} bytes exceeds limit {}", payload.size(), max_payload_));
  size_t start = begin(out);
  out.append(payload);
  finish(kind, start, out, flags);
}

size_t FrameCodec::begin(std::string& out) const {
  size_t start = out.size();
  out.append(kFrameHeaderSize, '\0');
  return start;
}

void FrameCodec::finish(FrameKind kind, size_t start, std::string& out, uint16_t flags) const {
  if (start > out.size() || out.size() - start < kFrameHeaderSize)
    throw std::logic_error("frame codec: finish() without begin()");
  size_t length = out.size() - start - kFrameHeaderSize;
  if (length > max_payload_) {
    out.resize(start);
    throw std::length_error(
        fmt::format("frame payload of {} bytes exceeds limit {}", length, max_payload_));
  }
  char* h = out.data() + start;
  std::string_view payload(h + kFrameHeaderSize, length);
  store_le<uint32_t>(h + kMagicOffset, kFrameMagic);
  h[kVersionOffset] = static_cast<char>(kFrameVersion);
  h[kKindOffset] = static_cast<char>(kind);
  store_le<uint16_t>(h + kFlagsOffset, flags);
  store_le<uint32_t>(h + kLengthOffset, static_cast<uint32_t>(length));
  store_le<uint64_t>(h + kChecksumOffset, checksum(payload));
  std::array<uint8_t, kHmacSha256Size> tag;
  mac_.sign(std::string_view(h, kFrameHeaderSize), payload, tag);
  // `h` and `payload` are dead from here: append may reallocate.
  out.append(reinterpret_cast<const char*>(tag.data()), kFrameTagSize);
}

DecodeResult FrameCodec::decode(std::string_view buf, RejectCounters& counters) const {
  const char* p = buf.data();
  const size_t have = buf.size();

  // The magic is compared byte by byte so that even a short prefix of garbage is rejected.
  char magic[4];
  store_le<uint32_t>(magic, kFrameMagic);
  for (size_t i = 0; i < 4 && i < have; ++i) {
    if (p[kMagicOffset + i] != magic[i])
      return reject(counters, RejectReason::BadMagic, "bad frame magic");
  }
  if (have > kVersionOffset && static_cast<uint8_t>(p[kVersionOffset]) != kFrameVersion)
    return reject(counters, RejectReason::WrongVersion,
                  fmt::format("frame version {} (expected {})",
                              static_cast<uint8_t>(p[kVersionOffset]), kFrameVersion));
  if (have > kKindOffset && !is_known_kind(static_cast<uint8_t>(p[kKindOffset])))
    return reject(counters, RejectReason::UnknownKind,
                  fmt::format("unknown frame kind {}", static_cast<uint8_t>(p[kKindOffset])));
  if (have < kFrameHeaderSize) return DecodeResult{};

  const uint32_t length = load_le<uint32_t>(p + kLengthOffset);
  if (length > max_payload_)
    return reject(counters, RejectReason::Oversized,
                  fmt::format("frame payload of {} bytes exceeds limit {}", length, max_payload_));
  const size_t total = kFrameHeaderSize + size_t{length} + kFrameTagSize;
  if (have < total) {
    DecodeResult r;
    r.need = total;
    return r;
  }

  std::string_view header(p, kFrameHeaderSize);
  std::string_view payload(p + kFrameHeaderSize, length);
  if (checksum(payload) != load_le<uint64_t>(p + kChecksumOffset))
    return reject(counters, RejectReason::BadChecksum, "frame payload checksum mismatch");
  std::array<uint8_t, kHmacSha256Size> tag;
  mac_.sign(header, payload, tag);
  if (CRYPTO_memcmp(tag.data(), p + kFrameHeaderSize + length, kFrameTagSize) != 0)
    return reject(counters, RejectReason::BadHmac, "frame authentication failed (wrong key or forged)");

  DecodeResult r;
  r.status = DecodeResult::Status::Frame;
  r.kind = static_cast<FrameKind>(p[kKindOffset]);
  r.flags = load_le<uint16_t>(p + kFlagsOffset);
  r.payload = payload;
  r.consumed = total;
  return r;
}

}  // namespace lockstep::wire
