// CPU quotas: each replica gets a cgroup lockstep/<cluster>/r<id> limited to the configured share
// of a CPU, with two leaves, `node` (the node process) and `server` (the replicated server), so
// both count against the one quota and the server can be told apart from the node.
//
// cgroup v2 with the cpu controller is used when present (cpu.max; the controller is enabled in
// each ancestor's cgroup.subtree_control). On hybrid hosts where the cpu controller is still
// bound to a v1 hierarchy (this Debian 12 machine: /sys/fs/cgroup/cpu), the v1 CFS bandwidth
// files (cpu.cfs_quota_us / cpu.cfs_period_us) are used instead, which limit the same way.
// Without either, creating a quota fails with one line saying so.
#pragma once

#include <string>
#include <vector>

#include "cluster/names.h"

namespace lockstep::cluster {

enum class CgroupVersion { v1, v2 };

struct CpuHierarchy {
  CgroupVersion version = CgroupVersion::v2;
  std::string root;  // mount point of the hierarchy holding the cpu controller
  std::string describe() const;
};

// Finds the cpu controller (v2 preferred). Throws ClusterError explaining what is missing.
CpuHierarchy find_cpu_hierarchy();

class ReplicaCgroup {
 public:
  enum class Leaf { node, server };

  // Creates the replica's cgroup and its leaves and sets the quota (CPUS of one CPU per period).
  ReplicaCgroup(const CpuHierarchy& hierarchy, const ClusterNames& names, int id, double cpus);
  ~ReplicaCgroup();
  ReplicaCgroup(const ReplicaCgroup&) = delete;
  ReplicaCgroup& operator=(const ReplicaCgroup&) = delete;

  const std::string& path() const { return path_; }
  std::string procs_file(Leaf leaf) const;
  void release() { owned_ = false; }

 private:
  std::string path_;
  bool owned_ = true;
};

// Directory of replica ID's cgroup and of the whole cluster's.
std::string replica_cgroup_path(const CpuHierarchy& hierarchy, const ClusterNames& names, int id);
std::string cluster_cgroup_path(const CpuHierarchy& hierarchy, const ClusterNames& names);
std::string leaf_procs_file(const std::string& replica_path, ReplicaCgroup::Leaf leaf);

// The quota written for a replica, read back ("50000 100000" style), or "" if none.
std::string read_cpu_quota(const CpuHierarchy& hierarchy, const std::string& replica_path);

// Every PID in the cgroup subtree at PATH.
std::vector<int> cgroup_subtree_pids(const std::string& path);

// SIGKILLs every process left in PATH's subtree and removes its directories bottom-up; missing
// is not an error. Returns false (and logs) if something could not be removed.
bool remove_cgroup_tree(const std::string& path);

}  // namespace lockstep::cluster
