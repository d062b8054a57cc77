#include "common/durability.h"

namespace lockstep {

std::string_view to_string(Durability durability) {
  switch (durability) {
    case Durability::fsync: return "fsync";
    case Durability::write: return "write";
    case Durability::none: return "none";
  }
  return "?";
}

std::optional<Durability> parse_durability(std::string_view text) {
  if (text == "fsync") return Durability::fsync;
  if (text == "write") return Durability::write;
  if (text == "none") return Durability::none;
  return std::nullopt;
}

}  // namespace lockstep
