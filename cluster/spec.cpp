#include "cluster/spec.h"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <regex>
#include <set>

#include "cluster/error.h"
#include "common/config.h"

namespace lockstep::cluster {
namespace {

uint32_t parse_ipv4(const std::string& text, const std::string& field) {
  in_addr addr{};
  if (inet_pton(AF_INET, text.c_str(), &addr) != 1)
    throw UsageError(fmt::format("{}: '{}' is not an IPv4 address", field, text));
  return ntohl(addr.s_addr);
}

std::string format_ipv4(uint32_t host_order) {
  in_addr addr{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr, buf, sizeof buf);
  return buf;
}

}  // namespace

const NodeSpec& ClusterSpec::node(int id) const {
  for (const auto& n : nodes)
    if (n.id == id) return n;
  throw UsageError(fmt::format("cluster '{}' has no node {}", name, id));
}

void validate(const ClusterSpec& spec) {
  static const std::regex name_re("[A-Za-z0-9_.-]{1,32}");
  if (!std::regex_match(spec.name, name_re))
    throw UsageError(fmt::format("cluster name '{}' must be 1-32 of [A-Za-z0-9_.-]", spec.name));
  if (spec.nodes.empty()) throw UsageError("cluster has no nodes");
  if (spec.cpu_quota < 0 || spec.cpu_quota > 64)
    throw UsageError(fmt::format("cpu_quota {} must be in [0, 64] CPUs", spec.cpu_quota));
  if (spec.prefix_len < 8 || spec.prefix_len > 30)
    throw UsageError(fmt::format("prefix_len {} must be in [8, 30]", spec.prefix_len));
  uint32_t mask = spec.prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - spec.prefix_len);
  uint32_t gw = parse_ipv4(spec.gateway, "gateway");
  std::set<int> ids;
  std::set<uint32_t> hosts{gw};
  if ((gw >> 24) == 127)
    throw UsageError("loopback addresses cannot be namespace replicas; use a config like configs/local-3.cfg");
  for (const auto& n : spec.nodes) {
    if (n.id < 1 || n.id > 999) throw UsageError(fmt::format("node id {} must be in [1, 999]", n.id));
    if (!ids.insert(n.id).second) throw UsageError(fmt::format("node id {} appears twice", n.id));
    std::string field = fmt::format("node {} host", n.id);
    uint32_t h = parse_ipv4(n.host, field);
    if ((h & mask) != (gw & mask))
      throw UsageError(fmt::format("{} {} is not in the cluster subnet {}/{}", field, n.host,
                                   format_ipv4(gw & mask), spec.prefix_len));
    if (!hosts.insert(h).second)
      throw UsageError(fmt::format("{} {} is used twice (or is the gateway)", field, n.host));
    if (n.server_port == 0) throw UsageError(fmt::format("node {} server_port is missing", n.id));
    if (n.data_dir.empty() || n.data_dir[0] != '/')
      throw UsageError(fmt::format("node {} data_dir must be an absolute path", n.id));
  }
}

ClusterSpec from_config(const ClusterConfig& config) {
  ClusterSpec spec;
  spec.name = config.name;
  spec.config_path = config.source;
  spec.cpu_quota = config.cpu_quota_percent / 100.0;
  for (const auto& n : config.nodes) {
    NodeSpec node;
    node.id = static_cast<int>(n.id);
    node.host = n.host;
    node.peer_port = n.peer_port;
    node.proxy_port = n.proxy_port;
    node.server_port = n.server_port;
    node.data_dir = config.node_data_dir(n.id);
    spec.nodes.push_back(node);
  }
  // The bridge takes .254 of the first node's /24, which is the cluster subnet.
  if (!spec.nodes.empty() && is_ipv4(spec.nodes.front().host)) {
    uint32_t first = parse_ipv4(spec.nodes.front().host, "host");
    spec.gateway = format_ipv4((first & 0xffffff00u) | 254u);
  }
  return spec;
}

ClusterSpec load_cluster_spec(const std::string& path) {
  ClusterSpec spec;
  try {
    spec = from_config(load_config(path));
  } catch (const ConfigError& e) {
    throw UsageError(e.what());
  }
  try {
    validate(spec);
  } catch (const UsageError& e) {
    throw UsageError(fmt::format("{}: {}", path, e.what()));
  }
  return spec;
}

}  // namespace lockstep::cluster
