// Shared by the fuzz target and its seed generator: the key and limit the target decodes with,
// and the layout of an input (first byte picks the mode, the rest is the body).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lockstep::wire::fuzz {

inline constexpr std::string_view kKey = "lockstep fuzz cluster key";
inline constexpr size_t kMaxPayload = 64 * 1024;

enum Mode : uint8_t {
  kStream = 0,     // body: bytes received on a connection; decode frames and their payloads
  kPayloads = 1,   // body: one payload, given to every payload decoder
  kRoundTrip = 2,  // body[0]: kind, rest: payload; frame it, decode it at every prefix
  kTamper = 3,     // body[0..1]: position, body[2]: xor mask, rest: payload; frame, flip, decode
};
inline constexpr uint8_t kModes = 4;

}  // namespace lockstep::wire::fuzz
