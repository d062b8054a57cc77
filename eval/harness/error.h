// How the eval harness fails before or outside a run: UsageError is bad input (unknown mode, a
// mode that does not exist yet, bad numbers) and maps to exit 2; a failing run is not an
// exception but a failed ModeRecord/RoundRecord, so it stays in the report.
#pragma once

#include <stdexcept>
#include <string>

namespace lockstep::eval::harness {

struct UsageError : std::runtime_error {
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace lockstep::eval::harness
