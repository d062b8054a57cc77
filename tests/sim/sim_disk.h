// A simulated replica's durable state: what Berkeley DB would hold. It changes only through
// persist(), which applies a Ready the way storage does: hard state, then truncate, then append,
// all as one transaction. Everything else of a replica is lost in a crash.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "paxos/core/replica.h"

namespace lockstep::sim {

struct Disk {
  paxos::HardState hard;
  std::vector<paxos::EntryPtr> log;  // log[i] holds index i + 1
};

// Applies `ready` to `disk`. Returns a description of a contract violation (an append that
// leaves a gap or names a wrong index), or nothing.
std::optional<std::string> persist(Disk& disk, const paxos::Ready& ready);

// Same value as the application sees it: index, stamp and proposals (ids and bytes). The view
// is left out: a protocol may re-propose a chosen value in a later view.
bool same_value(const paxos::Entry& a, const paxos::Entry& b);

}  // namespace lockstep::sim
