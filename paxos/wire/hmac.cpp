// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but EVP cannot copy a
// prepared state without allocating; see hmac.h.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "paxos/wire/hmac.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace lockstep::wire {
namespace {
constexpr size_t kBlock = SHA256_CBLOCK;
static_assert(sizeof(SHA256_CTX) <= 112, "HmacSha256::kStateSize too small");
static_assert(alignof(SHA256_CTX) <= 8);

SHA256_CTX& state(unsigned char* raw) { return *reinterpret_cast<SHA256_CTX*>(raw); }
}  // namespace

HmacSha256::HmacSha256(std::string_view key) {
  // RFC 2104: keys longer than a block are hashed first, shorter ones zero-padded.
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k);
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
  SHA256_Init(&state(inner_));
  SHA256_Update(&state(inner_), pad, kBlock);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
  SHA256_Init(&state(outer_));
  SHA256_Update(&state(outer_), pad, kBlock);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
}

HmacSha256::~HmacSha256() {
  OPENSSL_cleanse(inner_, sizeof inner_);
  OPENSSL_cleanse(outer_, sizeof outer_);
}

void HmacSha256::sign(std::string_view a, std::string_view b,
                      std::span<uint8_t, kHmacSha256Size> tag) const {
  SHA256_CTX ctx;
  std::memcpy(&ctx, inner_, sizeof ctx);
  SHA256_Update(&ctx, a.data(), a.size());
  SHA256_Update(&ctx, b.data(), b.size());
  unsigned char inner_digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(inner_digest, &ctx);
  std::memcpy(&ctx, outer_, sizeof ctx);
  SHA256_Update(&ctx, inner_digest, sizeof inner_digest);
  SHA256_Final(tag.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
}

}  // namespace lockstep::wire
