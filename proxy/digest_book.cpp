#include "proxy/digest_book.h"

#include <bit>
#include <limits>

namespace lockstep::proxy {

bool DigestBook::add(const ConnId& conn, uint32_t replica, uint64_t offset, uint64_t hash, bool final,
                     Divergence& out) {
  Key key{conn, final ? std::numeric_limits<uint64_t>::max() : offset};
  uint64_t bit = replica < 64 ? (1ULL << replica) : 0;
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    while (entries_.size() >= max_entries_ && !order_.empty()) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    entries_.emplace(key, Entry{replica, offset, hash, bit});
    order_.push_back(key);
    // order_ keeps keys of completed entries until they reach the front; bound it as well.
    while (!order_.empty() && (!entries_.count(order_.front()) || order_.size() > 2 * max_entries_)) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    return false;
  }
  Entry& e = it->second;
  ++compared_;
  bool diverged = e.offset != offset || e.hash != hash;
  if (diverged) {
    out = Divergence{.conn = conn, .offset_a = e.offset, .offset_b = offset, .replica_a = e.first_replica,
                     .replica_b = replica, .hash_a = e.hash, .hash_b = hash, .final = final};
  }
  e.reported |= bit;
  if (static_cast<size_t>(std::popcount(e.reported)) >= members_) entries_.erase(it);
  return diverged;
}

}  // namespace lockstep::proxy
