// HMAC-SHA256 with the key schedule done once. Every frame is authenticated, so per-frame work
// must be only the two hash passes: the inner and outer SHA-256 states after absorbing the padded
// key are kept and copied by value for each message. OpenSSL 3's EVP_MAC re-init duplicates its
// digest context on the heap (two allocations and ~2x the time per small frame, measured), which
// is why this uses OpenSSL's SHA-256 block functions directly; tests check it against EVP_MAC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace lockstep::wire {

inline constexpr size_t kHmacSha256Size = 32;

class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();  // wipes the key-derived state
  HmacSha256(const HmacSha256&) = default;
  HmacSha256& operator=(const HmacSha256&) = default;

  // Tag of the concatenation a || b (header and payload need not be copied together).
  void sign(std::string_view a, std::string_view b, std::span<uint8_t, kHmacSha256Size> tag) const;

 private:
  // Opaque storage for two SHA256_CTX, so OpenSSL's deprecated header stays out of this one.
  static constexpr size_t kStateSize = 112;
  alignas(8) unsigned char inner_[kStateSize];
  alignas(8) unsigned char outer_[kStateSize];
};

}  // namespace lockstep::wire
