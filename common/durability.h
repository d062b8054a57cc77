// How durable a write of the replicated log must be before it is acknowledged. One vocabulary for
// the config file, the storage and the tools.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lockstep {

enum class Durability : uint8_t {
  fsync,  // on disk before acknowledged: the default and the only choice that survives power loss
  write,  // handed to the OS: survives a crash of the process, not of the machine; experiments
  none,   // may stay in the log buffer: a crash loses recent writes; experiments only
};

std::string_view to_string(Durability durability);
// "fsync", "write" or "none"; nullopt for anything else.
std::optional<Durability> parse_durability(std::string_view text);

}  // namespace lockstep
