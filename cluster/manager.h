// The local cluster: `cluster up/status/kill/restart/down` on top of namespaces, cgroups,
// launchers and app definitions.
//
// Mode orig: one replica (the config's first node): its namespace, cgroup and the server,
// reached at host:server_port. Mode proxy_only: every node gets a namespace and cgroup, and in
// each the node process (`lockstep node --config C --id N --app APP`, in the `node` leaf of the
// replica cgroup) beside the server; clients use host:proxy_port. Mode dmt_only: like orig, but
// the server runs with the DMT runtime preloaded (cluster/dmt_mode.h); an app whose app.cfg says
// dmt_unsupported is refused. Mode joint is refused (not implemented). The node subcommand is written
// separately: until it is registered, proxy_only stops with one line before creating anything.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/spec.h"
#include "cluster/state.h"

namespace lockstep::cluster {

struct UpOptions {
  std::string app;
  std::string mode;           // orig | proxy_only | dmt_only
  std::string apps_dir;
  std::string dmt_library;    // dmt_only: liblockstep_dmt.so (empty: beside the lockstep binary)
  std::string launcher = "auto";
  bool node_available = false;  // `lockstep node` is registered in this binary
  std::string lockstep_exe;     // path of the lockstep binary (for `lockstep node`)
};

struct ReplicaStatus {
  int id = 0;
  std::string host;
  std::string service;        // address clients use
  bool server_running = false;
  bool node_running = false;
  bool serving = false;       // a TCP connect to the service address succeeds now
  int server_pid = 0;
  int node_pid = 0;
  std::string cpu_quota;      // as written to the cgroup, e.g. "50000 100000"
  // From the node process (role, view, commit, clients, divergences, ...), when it answers.
  std::map<std::string, std::string> node;
};

// Asks replica ID's node for its status fields; empty map if it does not answer. Supplied by
// the caller, so this library does not depend on the node's client code.
using NodeStatusFn = std::function<std::map<std::string, std::string>(const std::string& host, int id)>;

struct ClusterStatus {
  std::string cluster;
  std::string app;
  std::string mode;
  std::string launcher;
  bool up = false;            // a state file exists
  bool ready = false;         // `up` completed
  std::vector<ReplicaStatus> replicas;
  // True when the mode runs lockstep nodes (not orig or dmt_only): only then are there a leader
  // and digests.
  bool has_nodes() const;
  std::string to_json() const;
  std::string to_table() const;
};

// Brings the cluster up; on failure removes everything it created and rethrows. Returns the
// service addresses.
std::vector<std::string> cluster_up(const ClusterSpec& spec, const UpOptions& options);

// Stops every process and removes every namespace, link, cgroup and state file of the cluster,
// recorded or found by name. Idempotent. Returns one line per thing removed.
std::vector<std::string> cluster_down(const std::string& cluster);

ClusterStatus cluster_status(const std::string& cluster, const NodeStatusFn& node_status = {});

// The service address of the replica whose node says it leads (role "leader" in its status);
// nullopt when none does. Crane's clients talk to the primary: a client of a follower pays a
// Forward to the leader and a commit notice back on every request, and which replica wins the
// first election is random, so `eval` aims its client here to measure one thing every time.
std::optional<std::string> leader_service(const ClusterStatus& status);

// Polls cluster_status until a node reports itself leader (a new cluster elects one within a few
// election timeouts) or TIMEOUT passes; nullopt then, and at once in modes without nodes.
std::optional<std::string> wait_leader_service(const std::string& cluster, const NodeStatusFn& node_status,
                                               std::chrono::milliseconds timeout);

// SIGKILLs replica ID's server and node (a crash); its namespace, cgroup and data stay.
void cluster_kill(const std::string& cluster, int id);

// Starts replica ID's node and server again (after kill or a crash) and waits until it serves.
void cluster_restart(const ClusterSpec& spec, int id, const UpOptions& options);

}  // namespace lockstep::cluster
