// Free TCP ports on 127.0.0.1 for processes a benchmark starts, so parallel runs don't collide.
#pragma once

#include <cstdint>
#include <vector>

namespace lockstep::eval {

// COUNT distinct ports the kernel reports free right now (bound together, then released; a
// process could still take one before our child binds it, which the child's start-up reports).
std::vector<std::uint16_t> free_loopback_ports(int count);

}  // namespace lockstep::eval
