#include "proxy/events.h"

#include <fmt/format.h>

#include "common/bytes.h"

namespace lockstep::proxy {

std::string to_string(const ConnId& c) { return fmt::format("{}/{}/{}", c.node, c.incarnation, c.counter); }

std::string_view to_string(EventType type) {
  switch (type) {
    case EventType::Connect: return "CONNECT";
    case EventType::Data: return "DATA";
    case EventType::Shutdown: return "SHUTDOWN";
    case EventType::Close: return "CLOSE";
    case EventType::Digest: return "DIGEST";
    case EventType::OriginDown: return "ORIGIN_DOWN";
  }
  return "?";
}

bool is_batch(std::string_view payload) {
  ByteReader r(payload);
  return r.u32() == kBatchMagic && r.ok();
}

namespace {

ConnId read_conn(ByteReader& r) {
  ConnId c;
  c.node = r.u32();
  c.incarnation = r.u64();
  c.counter = r.u64();
  return c;
}

}  // namespace

bool decode_batch(std::string_view payload, DecodedBatch& out, std::string& error) {
  out.events.clear();
  ByteReader r(payload);
  uint32_t magic = r.u32();
  uint8_t version = r.u8();
  out.seq = r.u64();
  uint32_t count = r.u32();
  if (!r.ok() || magic != kBatchMagic) {
    error = "not a proxy batch (short header or bad magic)";
    return false;
  }
  if (version != kBatchVersion) {
    error = fmt::format("unknown batch version {}", version);
    return false;
  }
  // Every event takes at least a type byte and a connection id: a count beyond that is a lie,
  // and must not make us reserve memory for it.
  if (count > r.remaining() / (1 + kConnBytes)) {
    error = fmt::format("event count {} exceeds the {} bytes left", count, r.remaining());
    return false;
  }
  out.events.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Event e;
    uint8_t type = r.u8();
    e.conn = read_conn(r);
    switch (static_cast<EventType>(type)) {
      case EventType::Connect:
      case EventType::Shutdown:
      case EventType::Close:
      case EventType::OriginDown:
        break;
      case EventType::Data:
        e.data = r.bytes();
        break;
      case EventType::Digest:
        e.replica = r.u32();
        e.offset = r.u64();
        e.hash = r.u64();
        {
          uint8_t f = r.u8();
          if (f > 1) r.fail();
          e.final = f == 1;
        }
        if (e.replica == 0) r.fail();
        break;
      default:
        error = fmt::format("event {}: unknown type {}", i, type);
        return false;
    }
    if (!r.ok()) {
      error = fmt::format("event {} ({}): truncated or malformed", i, to_string(static_cast<EventType>(type)));
      return false;
    }
    if (e.conn.node == 0) {
      error = fmt::format("event {}: node id 0", i);
      return false;
    }
    e.type = static_cast<EventType>(type);
    out.events.push_back(e);
  }
  if (!r.at_end()) {
    error = fmt::format("{} trailing bytes after {} events", r.remaining(), count);
    return false;
  }
  return true;
}

void BatchWriter::begin(uint64_t seq) {
  buf_.clear();
  count_ = 0;
  ByteWriter w(buf_);
  w.u32(kBatchMagic);
  w.u8(kBatchVersion);
  w.u64(seq);
  w.u32(0);  // count, patched by finish()
}

void BatchWriter::put_conn(const ConnId& c) {
  ByteWriter w(buf_);
  w.u32(c.node);
  w.u64(c.incarnation);
  w.u64(c.counter);
}

void BatchWriter::add(EventType type, const ConnId& conn) {
  ByteWriter(buf_).u8(static_cast<uint8_t>(type));
  put_conn(conn);
  ++count_;
}

char* BatchWriter::data_slot(const ConnId& conn, uint32_t len) {
  ByteWriter w(buf_);
  w.u8(static_cast<uint8_t>(EventType::Data));
  put_conn(conn);
  w.u32(len);
  size_t at = buf_.size();
  buf_.resize(at + len);
  ++count_;
  return buf_.data() + at;
}

void BatchWriter::add_data(const ConnId& conn, std::string_view bytes) {
  char* slot = data_slot(conn, static_cast<uint32_t>(bytes.size()));
  if (!bytes.empty()) std::memcpy(slot, bytes.data(), bytes.size());
}

void BatchWriter::add_digest(const ConnId& conn, uint32_t replica, uint64_t offset, uint64_t hash, bool final) {
  ByteWriter w(buf_);
  w.u8(static_cast<uint8_t>(EventType::Digest));
  put_conn(conn);
  w.u32(replica);
  w.u64(offset);
  w.u64(hash);
  w.u8(final ? 1 : 0);
  ++count_;
}

std::string BatchWriter::finish() {
  constexpr size_t kCountAt = 4 + 1 + 8;
  for (size_t i = 0; i < 4; ++i) buf_[kCountAt + i] = static_cast<char>((count_ >> (8 * i)) & 0xff);
  count_ = 0;
  return std::move(buf_);
}

}  // namespace lockstep::proxy
