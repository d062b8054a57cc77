// What the cluster code needs to know about a cluster: its name, its replicas' addresses and
// ports, the CPU quota and where data lives. Kept apart from the full cluster config
// (common/config.h) so that namespaces, cgroups and launchers depend only on these few fields.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lockstep {
struct ClusterConfig;
}

namespace lockstep::cluster {

struct NodeSpec {
  int id = 0;
  std::string host;  // IPv4 address of the replica on the cluster network
  uint16_t peer_port = 0;
  uint16_t proxy_port = 0;
  uint16_t server_port = 0;
  std::string data_dir;  // private to this replica
};

// Recommended CPU quota per replica (cpu_quota_percent = 50 in the config): half of one CPU.
// Three replicas then use at most 1.5 CPUs of a 2-core machine, which leaves room for the client
// load generator that runs outside the quota.
inline constexpr double kDefaultCpuQuota = 0.5;
inline constexpr uint32_t kCpuPeriodUs = 100000;

struct ClusterSpec {
  std::string name;         // [A-Za-z0-9_.-]{1,32}
  std::string config_path;  // where it was loaded from (passed on to `lockstep node`)
  double cpu_quota = 0;     // CPUs per replica; 0 = no quota
  std::string gateway;      // bridge address in the root namespace
  int prefix_len = 24;     // the cluster subnet: gateway/prefix_len
  std::vector<NodeSpec> nodes;

  const NodeSpec& node(int id) const;  // throws UsageError for an unknown id
};

// Checks names, addresses (one subnet with the gateway, no duplicates), ports and quota;
// throws UsageError with one line naming the field.
void validate(const ClusterSpec& spec);

// The cluster part of the shared config (common/config.h). cpu_quota_percent becomes cpu_quota
// (50 -> 0.5 CPU); node N's data lives in <storage.data_dir>/node-N; the cluster subnet is
// node 1's /24 with the gateway at .254, so clusters in different /24s can run side by side.
ClusterSpec from_config(const ClusterConfig& config);

// load_config() + from_config() + validate(). Errors name the file (and line and field where
// the shared loader knows them) and are thrown as UsageError.
ClusterSpec load_cluster_spec(const std::string& path);

}  // namespace lockstep::cluster
