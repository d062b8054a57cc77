// The modes `lockstep eval` knows, and which of them can run today. One table, so a mode that
// becomes available (dmt_only, joint) is switched on in one place.
#pragma once

#include <string>
#include <vector>

namespace lockstep::eval::harness {

struct ModeInfo {
  const char* name;
  bool available;
  const char* missing;  // why it cannot run yet (empty when available)
};

const std::vector<ModeInfo>& known_modes();

// Parses "orig,proxy_only": trims, refuses empty lists, duplicates, unknown modes and modes that
// do not exist yet, each with one line (UsageError). Keeps the order given.
std::vector<std::string> parse_modes(const std::string& list);

}  // namespace lockstep::eval::harness
