// A replica's node status (role, view, commit, connections, divergences, ...) asked from its
// node process over the peer port, flattened to text fields for tables and summaries.
#pragma once

#include <map>
#include <string>

#include "common/config.h"

namespace lockstep::cli {

// Empty when the node does not answer within half a second; throws std::exception when it
// cannot be reached at all or answers with something that is not JSON.
std::map<std::string, std::string> query_node_status(const ClusterConfig& config, const std::string& host, int id);

}  // namespace lockstep::cli
