// Payload encodings of every frame kind. Encoders append to `out` (usually right after
// FrameCodec::begin(), so the payload is written once, in place). Decoders take one whole payload
// of untrusted bytes and return nullopt on anything but an exact, well-formed encoding: short
// input, trailing bytes, unknown enum values, counts larger than the input could hold. They never
// allocate more than the input size justifies.
//
// Paxos message payload (all little-endian):
//   u8 type, u32 from, u32 to, u64 view, u64 log_index, u64 log_view, u64 commit, u8 ok (0|1),
//   u32 entry count, entries (paxos::encode_entry), u32 proposal count, proposals
//   (paxos::encode_proposal)
// Hello:        bytes cluster, u8 role, u32 node_id
// Submit:       u64 request_id, bytes data
// SubmitResult: u64 request_id, u8 status, u64 index, bytes detail
// where `bytes` is a u32 length followed by that many bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "paxos/core/message.h"
#include "paxos/wire/client_messages.h"
#include "paxos/wire/frame.h"

namespace lockstep::wire {

void encode_message(const paxos::Message& message, std::string& out);
std::optional<paxos::Message> decode_message(std::string_view payload);

void encode_hello(const Hello& hello, std::string& out);
std::optional<Hello> decode_hello(std::string_view payload);

void encode_submit(const Submit& submit, std::string& out);
std::optional<Submit> decode_submit(std::string_view payload);

void encode_submit_result(const SubmitResult& result, std::string& out);
std::optional<SubmitResult> decode_submit_result(std::string_view payload);

// One whole frame of each kind appended to `out`, payload encoded in place (no extra copy).
// Throw std::length_error like FrameCodec::finish if the payload exceeds the codec's limit.
void append_frame(const FrameCodec& codec, const paxos::Message& message, std::string& out);
void append_frame(const FrameCodec& codec, const Hello& hello, std::string& out);
void append_frame(const FrameCodec& codec, const Submit& submit, std::string& out);
void append_frame(const FrameCodec& codec, const SubmitResult& result, std::string& out);

}  // namespace lockstep::wire
