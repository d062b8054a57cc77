#include "paxos/wire/hmac.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <random>
#include <string>

namespace lockstep::wire {
namespace {

std::string hex(std::span<const uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

std::string tag_hex(std::string_view key, std::string_view a, std::string_view b = {}) {
  std::array<uint8_t, kHmacSha256Size> tag;
  HmacSha256(key).sign(a, b, tag);
  return hex(tag);
}

// The reference: OpenSSL's own HMAC through EVP_MAC.
std::string evp_hmac_hex(std::string_view key, std::string_view data) {
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                       EVP_MAC_free);
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac.get()),
                                                               EVP_MAC_CTX_free);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  EXPECT_EQ(EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()),
                         key.size(), params),
            1);
  EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::array<uint8_t, 32> out;
  size_t len = 0;
  EVP_MAC_final(ctx.get(), out.data(), &len, out.size());
  EXPECT_EQ(len, 32u);
  return hex(out);
}

// RFC 4231 test cases 1, 2 and 6 (6: key longer than a block, hashed first).
TEST(HmacSha256, Rfc4231Vectors) {
  EXPECT_EQ(tag_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(tag_hex("Jefe", "what do ya want ", "for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(tag_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, MatchesEvpMacForManyKeysAndSplits) {
  std::mt19937 rng(3);
  for (size_t key_len : {1, 16, 32, 63, 64, 65, 200}) {
    std::string key(key_len, '\0');
    for (auto& c : key) c = static_cast<char>(rng());
    HmacSha256 mac(key);
    for (size_t len : {0, 1, 55, 56, 64, 100, 1000}) {
      std::string data(len, '\0');
      for (auto& c : data) c = static_cast<char>(rng());
      std::string want = evp_hmac_hex(key, data);
      for (size_t split : {size_t{0}, len / 3, len}) {
        std::array<uint8_t, kHmacSha256Size> tag;
        mac.sign(std::string_view(data).substr(0, split), std::string_view(data).substr(split), tag);
        EXPECT_EQ(hex(tag), want) << key_len << "/" << len << "/" << split;
      }
    }
  }
}

TEST(HmacSha256, SigningIsRepeatable) {
  HmacSha256 mac("k");
  std::array<uint8_t, kHmacSha256Size> a, b;
  mac.sign("abc", "", a);
  mac.sign("", "abc", b);
  EXPECT_EQ(a, b);
  mac.sign("abd", "", b);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace lockstep::wire
