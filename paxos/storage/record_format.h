// On-disk format of the log's records, apart from the entry value itself (that is
// encode_entry() from paxos/core/entry_codec.h, the same bytes as on the wire).
//
//   log.db   btree   key: index as big-endian u64 (so byte order is log order)
//                    value: encode_entry(entry)
//   meta.db  btree   "format" -> u32 kFormatVersion
//                    "hard"   -> encode_hard_state(hard)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "paxos/core/types.h"

namespace lockstep::paxos::storage {

inline constexpr uint32_t kFormatVersion = 1;
inline constexpr std::string_view kLogFile = "log.db";
inline constexpr std::string_view kMetaFile = "meta.db";
inline constexpr std::string_view kFormatKey = "format";
inline constexpr std::string_view kHardKey = "hard";

using IndexKey = std::array<char, 8>;
IndexKey encode_index_key(Index index);
// nullopt unless exactly 8 bytes.
std::optional<Index> decode_index_key(std::string_view bytes);

void encode_hard_state(const HardState& hard, std::string& out);  // replaces out's contents
std::optional<HardState> decode_hard_state(std::string_view bytes);

}  // namespace lockstep::paxos::storage
