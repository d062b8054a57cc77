// Compares the reply digests that replicas submit through the log. Every replica applies the
// same DIGEST events in the same order, so every replica reaches the same verdicts.
//
// Digests are keyed by (connection, offset) for periodic ones and (connection, final) for the
// one taken when the server closed its side; a final digest also compares the offset, so a
// replica whose server sent fewer bytes is caught too. An entry is dropped once every member
// has reported; entries of replicas that never report (down) are evicted oldest first.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "proxy/events.h"

namespace lockstep::proxy {

struct Divergence {
  ConnId conn;
  uint64_t offset_a = 0, offset_b = 0;
  uint32_t replica_a = 0, replica_b = 0;  // a reported first
  uint64_t hash_a = 0, hash_b = 0;
  bool final = false;
};

class DigestBook {
 public:
  DigestBook(size_t members, size_t max_entries) : members_(members), max_entries_(max_entries) {}

  // Records one digest; returns true (and fills `out`) if it disagrees with an earlier one for
  // the same key.
  bool add(const ConnId& conn, uint32_t replica, uint64_t offset, uint64_t hash, bool final, Divergence& out);
  size_t size() const { return entries_.size(); }
  uint64_t compared() const { return compared_; }

 private:
  struct Key {
    ConnId conn;
    uint64_t offset;  // UINT64_MAX for the final digest
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  struct Entry {
    uint32_t first_replica = 0;
    uint64_t offset = 0;
    uint64_t hash = 0;
    uint64_t reported = 0;  // bitmask of replica ids (ids are 1..7)
  };
  size_t members_;
  size_t max_entries_;
  std::map<Key, Entry> entries_;
  std::deque<Key> order_;  // insertion order, for eviction
  uint64_t compared_ = 0;
};

}  // namespace lockstep::proxy
