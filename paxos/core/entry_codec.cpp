#include "paxos/core/entry_codec.h"

namespace lockstep::paxos {

// An entry can never hold more proposals than bytes remain, which bounds allocations made
// while decoding hostile input.
static constexpr size_t kMinProposalBytes = 4 + 8 + 8 + 4;

void encode_proposal(const Proposal& p, ByteWriter& out) {
  out.u32(p.id.origin);
  out.u64(p.id.incarnation);
  out.u64(p.id.seq);
  out.bytes(p.data);
}

std::optional<Proposal> decode_proposal(ByteReader& in) {
  Proposal p;
  p.id.origin = in.u32();
  p.id.incarnation = in.u64();
  p.id.seq = in.u64();
  std::string_view data = in.bytes();
  if (!in.ok()) return std::nullopt;
  p.data.assign(data);
  return p;
}

void encode_entry(const Entry& e, ByteWriter& out) {
  out.u64(e.index);
  out.u64(e.view);
  out.u64(e.stamp_ns);
  out.u32(static_cast<uint32_t>(e.proposals.size()));
  for (const auto& p : e.proposals) encode_proposal(p, out);
}

std::optional<Entry> decode_entry(ByteReader& in) {
  Entry e;
  e.index = in.u64();
  e.view = in.u64();
  e.stamp_ns = in.u64();
  uint32_t count = in.u32();
  if (!in.ok() || count > in.remaining() / kMinProposalBytes) {
    in.fail();
    return std::nullopt;
  }
  e.proposals.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    auto p = decode_proposal(in);
    if (!p) return std::nullopt;
    e.proposals.push_back(std::move(*p));
  }
  return e;
}

std::string encode_entry(const Entry& entry) {
  std::string out;
  out.reserve(entry.byte_size());
  ByteWriter w(out);
  encode_entry(entry, w);
  return out;
}

std::optional<Entry> decode_entry(std::string_view bytes) {
  ByteReader r(bytes);
  auto e = decode_entry(r);
  if (!e || !r.at_end()) return std::nullopt;
  return e;
}

}  // namespace lockstep::paxos
