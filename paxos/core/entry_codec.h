// Encoding of log entries, used both inside Accept messages and as the value stored in the
// Berkeley DB log, so an entry read from disk can be sent as it is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "paxos/core/types.h"

namespace lockstep::paxos {

void encode_entry(const Entry& entry, ByteWriter& out);
// Reads one entry; nullopt (and reader.ok() false) on malformed input.
std::optional<Entry> decode_entry(ByteReader& in);

void encode_proposal(const Proposal& proposal, ByteWriter& out);
std::optional<Proposal> decode_proposal(ByteReader& in);

// Whole-buffer helpers for storage.
std::string encode_entry(const Entry& entry);
std::optional<Entry> decode_entry(std::string_view bytes);

}  // namespace lockstep::paxos
