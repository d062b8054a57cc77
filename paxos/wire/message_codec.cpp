#include "paxos/wire/message_codec.h"

#include <memory>

#include "common/bytes.h"
#include "paxos/core/entry_codec.h"

namespace lockstep::wire {
namespace {

// Smallest encodings, used to refuse counts that the remaining input cannot possibly hold
// before reserving memory for them.
constexpr size_t kMinEntryBytes = 8 + 8 + 8 + 4;
constexpr size_t kMinProposalBytes = 4 + 8 + 8 + 4;

bool valid_type(uint8_t t) {
  return t >= static_cast<uint8_t>(paxos::MessageType::PreVote) &&
         t <= static_cast<uint8_t>(paxos::MessageType::Forward);
}

bool valid_role(uint8_t r) {
  return r == static_cast<uint8_t>(Role::Peer) || r == static_cast<uint8_t>(Role::Client);
}

bool valid_status(uint8_t s) { return s <= static_cast<uint8_t>(SubmitStatus::Error); }

}  // namespace

void encode_message(const paxos::Message& m, std::string& out) {
  ByteWriter w(out);
  w.u8(static_cast<uint8_t>(m.type));
  w.u32(m.from);
  w.u32(m.to);
  w.u64(m.view);
  w.u64(m.log_index);
  w.u64(m.log_view);
  w.u64(m.commit);
  w.u8(m.ok ? 1 : 0);
  w.u32(static_cast<uint32_t>(m.entries.size()));
  for (const auto& e : m.entries) paxos::encode_entry(*e, w);
  w.u32(static_cast<uint32_t>(m.proposals.size()));
  for (const auto& p : m.proposals) paxos::encode_proposal(p, w);
}

std::optional<paxos::Message> decode_message(std::string_view payload) {
  ByteReader r(payload);
  paxos::Message m;
  uint8_t type = r.u8();
  m.from = r.u32();
  m.to = r.u32();
  m.view = r.u64();
  m.log_index = r.u64();
  m.log_view = r.u64();
  m.commit = r.u64();
  uint8_t ok = r.u8();
  if (!r.ok() || !valid_type(type) || ok > 1) return std::nullopt;
  m.type = static_cast<paxos::MessageType>(type);
  m.ok = ok == 1;

  uint32_t entries = r.u32();
  if (!r.ok() || entries > r.remaining() / kMinEntryBytes) return std::nullopt;
  m.entries.reserve(entries);
  for (uint32_t i = 0; i < entries; ++i) {
    auto e = paxos::decode_entry(r);
    if (!e) return std::nullopt;
    m.entries.push_back(std::make_shared<const paxos::Entry>(std::move(*e)));
  }

  uint32_t proposals = r.u32();
  if (!r.ok() || proposals > r.remaining() / kMinProposalBytes) return std::nullopt;
  m.proposals.reserve(proposals);
  for (uint32_t i = 0; i < proposals; ++i) {
    auto p = paxos::decode_proposal(r);
    if (!p) return std::nullopt;
    m.proposals.push_back(std::move(*p));
  }
  if (!r.at_end()) return std::nullopt;
  return m;
}

void encode_hello(const Hello& h, std::string& out) {
  ByteWriter w(out);
  w.bytes(h.cluster);
  w.u8(static_cast<uint8_t>(h.role));
  w.u32(h.node_id);
}

std::optional<Hello> decode_hello(std::string_view payload) {
  ByteReader r(payload);
  Hello h;
  h.cluster = r.bytes();
  uint8_t role = r.u8();
  h.node_id = r.u32();
  if (!r.ok() || !r.at_end() || !valid_role(role)) return std::nullopt;
  h.role = static_cast<Role>(role);
  return h;
}

void encode_submit(const Submit& s, std::string& out) {
  ByteWriter w(out);
  w.u64(s.request_id);
  w.bytes(s.data);
}

std::optional<Submit> decode_submit(std::string_view payload) {
  ByteReader r(payload);
  Submit s;
  s.request_id = r.u64();
  s.data = r.bytes();
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return s;
}

void encode_submit_result(const SubmitResult& s, std::string& out) {
  ByteWriter w(out);
  w.u64(s.request_id);
  w.u8(static_cast<uint8_t>(s.status));
  w.u64(s.index);
  w.bytes(s.detail);
}

std::optional<SubmitResult> decode_submit_result(std::string_view payload) {
  ByteReader r(payload);
  SubmitResult s;
  s.request_id = r.u64();
  uint8_t status = r.u8();
  s.index = r.u64();
  s.detail = r.bytes();
  if (!r.ok() || !r.at_end() || !valid_status(status)) return std::nullopt;
  s.status = static_cast<SubmitStatus>(status);
  return s;
}

void append_frame(const FrameCodec& codec, const paxos::Message& message, std::string& out) {
  size_t start = codec.begin(out);
  encode_message(message, out);
  codec.finish(FrameKind::Paxos, start, out);
}

void append_frame(const FrameCodec& codec, const Hello& hello, std::string& out) {
  size_t start = codec.begin(out);
  encode_hello(hello, out);
  codec.finish(FrameKind::Hello, start, out);
}

void append_frame(const FrameCodec& codec, const Submit& submit, std::string& out) {
  size_t start = codec.begin(out);
  encode_submit(submit, out);
  codec.finish(FrameKind::Submit, start, out);
}

void append_frame(const FrameCodec& codec, const SubmitResult& result, std::string& out) {
  size_t start = codec.begin(out);
  encode_submit_result(result, out);
  codec.finish(FrameKind::SubmitResult, start, out);
}

}  // namespace lockstep::wire
