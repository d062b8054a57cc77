// Every kernel object a cluster creates is named from the cluster name, so two clusters (or two
// tests) never collide and `cluster down` can find leftovers of a crashed run by prefix.
// Interface names are limited to 15 bytes, so links use a short tag derived from the name.
#pragma once

#include <optional>
#include <string>

namespace lockstep::cluster {

class ClusterNames {
 public:
  explicit ClusterNames(std::string cluster);

  const std::string& cluster() const { return cluster_; }
  const std::string& tag() const { return tag_; }

  std::string netns(int id) const;      // lkst-<cluster>-<id>
  std::string bridge() const;           // lkb-<tag>
  std::string veth_host(int id) const;  // lkh-<tag>-<id> (root-namespace end)
  static std::string veth_inner() { return "eth0"; }  // the end inside the namespace
  std::string run_dir() const;          // /run/lockstep/<cluster>
  std::string cgroup_rel() const;       // lockstep/<cluster> below the cpu hierarchy root

  // The replica id if NAME is one of this cluster's namespaces / host-side veths.
  std::optional<int> netns_id(const std::string& name) const;
  std::optional<int> veth_id(const std::string& name) const;

 private:
  std::string cluster_;
  std::string tag_;
};

}  // namespace lockstep::cluster
