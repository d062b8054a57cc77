// The two ways cluster code fails. The CLI maps them to exit codes: ClusterError is a runtime
// failure (exit 1), UsageError a bad config, app definition or argument (exit 2). Both carry one
// line meant for the operator.
#pragma once

#include <stdexcept>
#include <string>

namespace lockstep::cluster {

struct ClusterError : std::runtime_error {
  explicit ClusterError(const std::string& message) : std::runtime_error(message) {}
};

struct UsageError : std::runtime_error {
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace lockstep::cluster
