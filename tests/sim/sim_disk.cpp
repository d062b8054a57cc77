#include "tests/sim/sim_disk.h"

#include <fmt/format.h>

namespace lockstep::sim {

std::optional<std::string> persist(Disk& disk, const paxos::Ready& ready) {
  if (ready.hard_state) disk.hard = *ready.hard_state;
  if (ready.truncate_after && *ready.truncate_after < disk.log.size()) {
    disk.log.resize(*ready.truncate_after);
  }
  for (const paxos::EntryPtr& e : ready.append) {
    if (!e) return "Ready::append holds a null entry";
    if (e->index != disk.log.size() + 1) {
      return fmt::format("Ready::append entry {} does not follow the durable log (last {})",
                         e->index, disk.log.size());
    }
    disk.log.push_back(e);
  }
  return std::nullopt;
}

bool same_value(const paxos::Entry& a, const paxos::Entry& b) {
  if (&a == &b) return true;
  if (a.index != b.index || a.stamp_ns != b.stamp_ns || a.proposals.size() != b.proposals.size()) {
    return false;
  }
  for (size_t i = 0; i < a.proposals.size(); ++i) {
    const paxos::Proposal& p = a.proposals[i];
    const paxos::Proposal& q = b.proposals[i];
    if (!(p.id == q.id) || p.data != q.data) return false;
  }
  return true;
}

}  // namespace lockstep::sim
