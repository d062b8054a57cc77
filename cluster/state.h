// What a running cluster consists of, persisted in /run/lockstep/<cluster>/state.json so that
// later commands (status, kill, restart, down) — and `down` after a crash of `up` — know what
// exists. `up` records each object *before* creating it and each process right after starting
// it, and rewrites the file atomically (write + rename) every time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/names.h"
#include "cluster/proc.h"

namespace lockstep::cluster {

struct ReplicaState {
  int id = 0;
  std::string host;
  uint16_t server_port = 0;
  uint16_t proxy_port = 0;
  std::string data_dir;
  ProcessRef server;  // the launcher's process (lxc-execute or the server itself)
  ProcessRef node;    // the node process (proxy_only and later modes)
  std::string server_log;
  std::string node_log;
};

struct ClusterState {
  std::string cluster;
  std::string config_path;
  std::string app;
  std::string apps_dir;
  std::string mode;
  std::string launcher;     // "lxc" or "plain"
  std::string cgroup_path;  // the cluster's cgroup directory ("" without quotas)
  std::string cgroup_version;
  double cpu_quota = 0;
  std::vector<std::string> netns;
  std::vector<std::string> links;
  std::vector<ReplicaState> replicas;
  std::vector<std::string> service;  // addresses clients connect to
  bool ready = false;                // `up` finished

  ReplicaState* replica(int id);
};

std::string state_file(const ClusterNames& names);

// The saved state, or nullopt if the cluster has none. A corrupt file is a ClusterError.
std::optional<ClusterState> load_state(const ClusterNames& names);
void save_state(const ClusterNames& names, const ClusterState& state);
// Removes the run directory; missing is fine.
void remove_state(const ClusterNames& names);

std::string to_json(const ClusterState& state);

}  // namespace lockstep::cluster
