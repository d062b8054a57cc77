#include "tests/sim/sim_network.h"

#include <algorithm>

namespace lockstep::sim {

int Network::send(paxos::Message message, uint64_t now) {
  if (rng_.chance(faults_.drop)) return 0;
  if (rng_.chance(faults_.duplicate)) {
    push(message, now);
    push(std::move(message), now);
    return 2;
  }
  push(std::move(message), now);
  return 1;
}

void Network::push(paxos::Message message, uint64_t now) {
  int delay = rng_.chance(faults_.long_delay) ? rng_.range(faults_.delay_max, faults_.long_delay_max)
                                              : rng_.range(faults_.delay_min, faults_.delay_max);
  uint64_t due = now + static_cast<uint64_t>(std::max(delay, 0));
  uint64_t order = sent_++;
  if (faults_.reorder) {
    order = rng_.next();
  } else if (message.from <= nodes_ && message.to <= nodes_) {
    uint64_t& last = last_due_[message.from * (nodes_ + 1) + message.to];
    due = std::max(due, last);
    last = due;
  }
  queue_.push_back(InFlight{due, order, std::move(message)});
  std::push_heap(queue_.begin(), queue_.end(), later);
}

bool Network::next_due(uint64_t now, paxos::Message& out) {
  if (queue_.empty() || queue_.front().due > now) return false;
  std::pop_heap(queue_.begin(), queue_.end(), later);
  out = std::move(queue_.back().message);
  queue_.pop_back();
  return true;
}

void Network::heal() {
  std::fill(groups_.begin(), groups_.end(), 0);
  cuts_.clear();
}

bool Network::partitioned() const {
  return !cuts_.empty() ||
         std::any_of(groups_.begin() + 1, groups_.end(), [&](int g) { return g != groups_[1]; });
}

}  // namespace lockstep::sim
