// Little-endian, bounds-checked byte encoding shared by the wire format and the on-disk log.
// Writer appends to a std::string it does not own; Reader never reads past its view and reports
// a short or malformed input through ok() instead of throwing, so decoders of untrusted bytes
// stay simple.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace lockstep {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { put(v); }
  void u64(uint64_t v) { put(v); }
  // Length (u32) followed by the bytes.
  void bytes(std::string_view b) {
    u32(static_cast<uint32_t>(b.size()));
    out_.append(b.data(), b.size());
  }
  std::string& buffer() { return out_; }

 private:
  template <typename T>
  void put(T v) {
    char raw[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) raw[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(raw, sizeof(T));
  }
  std::string& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

  uint8_t u8() { return get<uint8_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  // A length-prefixed byte string; empty and !ok() when the length runs past the input.
  std::string_view bytes() {
    uint32_t n = u32();
    if (!ok_ || n > remaining()) {
      ok_ = false;
      return {};
    }
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  void fail() { ok_ = false; }

 private:
  template <typename T>
  T get() {
    if (!ok_ || remaining() < sizeof(T)) {
      ok_ = false;
      return 0;
    }
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v |= static_cast<T>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += sizeof(T);
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace lockstep
