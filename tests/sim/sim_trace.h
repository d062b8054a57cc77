// The event record of one simulated run: a running hash of every event (to prove that a seed
// replays exactly) and, with --verbose, a readable line per event.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "paxos/core/message.h"

namespace lockstep::sim {

class Trace {
 public:
  // `out` null: hash only, no text is formatted.
  explicit Trace(std::FILE* out = nullptr) : out_(out) {}

  bool verbose() const { return out_ != nullptr; }
  uint64_t hash() const { return hash_; }

  void mix(uint64_t v) {
    // FNV-1a over the 8 bytes of v.
    for (int i = 0; i < 8; ++i) {
      hash_ ^= (v >> (i * 8)) & 0xff;
      hash_ *= 0x100000001b3ULL;
    }
  }
  void mix(std::string_view s) {
    for (unsigned char c : s) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
    mix(s.size());
  }
  void mix_message(const paxos::Message& m);

  void set_time(uint64_t step) { step_ = step; }

  template <typename... Args>
  void line(fmt::format_string<Args...> f, Args&&... args) {
    if (!out_) return;
    std::string text = fmt::format(f, std::forward<Args>(args)...);
    std::fprintf(out_, "[%6llu] %s\n", static_cast<unsigned long long>(step_), text.c_str());
  }

 private:
  std::FILE* out_;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t step_ = 0;
};

std::string describe(const paxos::Message& m);

}  // namespace lockstep::sim
