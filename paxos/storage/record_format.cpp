#include "paxos/storage/record_format.h"

#include "common/bytes.h"

namespace lockstep::paxos::storage {

// Leading version byte of the hard-state record, so its layout can grow.
static constexpr uint8_t kHardStateVersion = 1;

IndexKey encode_index_key(Index index) {
  IndexKey key;
  for (size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<char>((index >> (8 * (key.size() - 1 - i))) & 0xff);
  return key;
}

std::optional<Index> decode_index_key(std::string_view bytes) {
  if (bytes.size() != sizeof(Index)) return std::nullopt;
  Index index = 0;
  for (char c : bytes) index = (index << 8) | static_cast<uint8_t>(c);
  return index;
}

void encode_hard_state(const HardState& hard, std::string& out) {
  out.clear();
  ByteWriter w(out);
  w.u8(kHardStateVersion);
  w.u64(hard.view);
  w.u32(hard.voted_for);
  w.u64(hard.commit);
  w.u64(hard.incarnation);
}

std::optional<HardState> decode_hard_state(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.u8() != kHardStateVersion) return std::nullopt;
  HardState hard;
  hard.view = r.u64();
  hard.voted_for = r.u32();
  hard.commit = r.u64();
  hard.incarnation = r.u64();
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return hard;
}

}  // namespace lockstep::paxos::storage
