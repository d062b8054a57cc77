#include "cli/node_status.h"

#include <nlohmann/json.hpp>

#include "paxos/node/sync_client.h"

namespace lockstep::cli {

std::map<std::string, std::string> query_node_status(const ClusterConfig& config, const std::string& host, int id) {
  std::map<std::string, std::string> fields;
  const NodeConfig& n = config.node(static_cast<uint32_t>(id));
  node::SyncClient client(host, n.peer_port, config.name, config.key, std::chrono::milliseconds(500));
  std::optional<std::string> text = client.status();
  if (!text) return fields;
  const nlohmann::json j = nlohmann::json::parse(*text);  // items() refers into it
  for (const auto& [key, value] : j.items())
    if (value.is_primitive()) fields[key] = value.is_string() ? value.get<std::string>() : value.dump();
  return fields;
}

}  // namespace lockstep::cli
