// The cluster network on one machine: a bridge in the root namespace holding the gateway address,
// and per replica a network namespace joined to the bridge by a veth pair, with the replica's
// address and loopback up. Clients in the root namespace reach every replica by its address.
//
// Objects delete what they created when destroyed, unless release()d: `cluster up` releases
// them once everything is running, and `cluster down` (remove_cluster_network) finds them by name.
#pragma once

#include <string>
#include <vector>

#include "cluster/names.h"

namespace lockstep::cluster {

class Bridge {
 public:
  // Creates bridge NAME with GATEWAY/PREFIX_LEN and sets it up.
  Bridge(std::string name, const std::string& gateway, int prefix_len);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  const std::string& name() const { return name_; }
  void release() { owned_ = false; }

 private:
  std::string name_;
  bool owned_ = true;
};

class ReplicaNamespace {
 public:
  // Creates namespace NETNS, a veth pair VETH_HOST (on BRIDGE) <-> eth0 (inside, HOST/PREFIX_LEN),
  // and brings up loopback, both ends and the default route via GATEWAY. IPv6 duplicate address
  // detection is off in the namespace: eth0's link-local address is usable as soon as it is up.
  // RESERVED_PORTS (the replica's listening ports) are never handed out as ephemeral ports.
  ReplicaNamespace(std::string netns, std::string veth_host, const std::string& bridge,
                   const std::string& host, int prefix_len, const std::string& gateway,
                   const std::vector<uint16_t>& reserved_ports);
  ~ReplicaNamespace();
  ReplicaNamespace(const ReplicaNamespace&) = delete;
  ReplicaNamespace& operator=(const ReplicaNamespace&) = delete;

  const std::string& netns() const { return netns_; }
  void release() { owned_ = false; }

 private:
  void remove() noexcept;
  std::string netns_;
  std::string veth_host_;
  bool owned_ = true;
};

// Names of existing namespaces (/run/netns) and root-namespace links (/sys/class/net).
std::vector<std::string> list_netns();
std::vector<std::string> list_links();
bool netns_exists(const std::string& name);
bool link_exists(const std::string& name);

// PIDs of processes whose network namespace is NAME.
std::vector<int> netns_pids(const std::string& name);

// The root-namespace interface holding an address in ADDRESS/PREFIX_LEN's subnet (or whose
// subnet contains it), or "" if none: two bridges on overlapping subnets would split the routes.
std::string interface_in_subnet(const std::string& address, int prefix_len);

// Deletes a namespace / link if it exists; missing is not an error.
void delete_netns(const std::string& name);
void delete_link(const std::string& name);

// Removes every namespace, veth and bridge of the cluster, found by name (also those of a run
// that crashed before recording them). Processes still inside the namespaces are SIGKILLed.
// Returns one line per object removed.
std::vector<std::string> remove_cluster_network(const ClusterNames& names);

}  // namespace lockstep::cluster
