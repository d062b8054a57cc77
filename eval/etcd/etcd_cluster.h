// A throw-away etcd cluster on loopback for the baseline benchmark: N members (Debian's
// etcd-server) with private data directories and free ports, default (fsync) durability.
// The constructor returns once every member reports healthy; the destructor stops the members
// by PID and removes the data directories, also when the constructor throws half-way.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "eval/proc/child_process.h"
#include "eval/proc/temp_dir.h"

namespace lockstep::eval {

struct EtcdClusterOptions {
  int members = 3;
  std::filesystem::path binary = "/usr/bin/etcd";
  std::filesystem::path data_parent;  // empty: $TMPDIR or /tmp
  std::chrono::milliseconds start_timeout{30000};
  int stop_fd = -1;  // when readable, waiting for health stops with "interrupted"
};

class EtcdCluster {
 public:
  explicit EtcdCluster(const EtcdClusterOptions& options);  // throws std::runtime_error
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  const std::vector<std::uint16_t>& client_ports() const { return client_ports_; }
  // Index (into client_ports) of the current leader, asked from the members' status API.
  std::size_t leader() const;
  // Throws if a member has exited (e.g. crashed under load), naming it and its log's tail.
  void check_alive();
  std::filesystem::path data_dir() const { return dir_->path(); }
  // CPU seconds (user + system) the members have used so far, summed.
  double cpu_seconds() const;
  // The value of an un-labelled Prometheus sample NAME (e.g. a histogram's _sum or _count) from
  // member I's /metrics; nullopt if unreachable or absent.
  std::optional<double> metric(std::size_t i, std::string_view name) const;

 private:
  void wait_healthy(const EtcdClusterOptions& options);

  std::unique_ptr<TempDir> dir_;
  std::vector<std::uint16_t> client_ports_;
  std::vector<std::unique_ptr<ChildProcess>> members_;
};

}  // namespace lockstep::eval
