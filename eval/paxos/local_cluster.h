// A cluster of real `lockstep node` processes on loopback, for benchmarks and multi-process
// tests: a generated config with free ports, a private data directory, readiness by submitting
// a probe through every node (no fixed sleeps), and kill/restart of single nodes. Everything it
// started is stopped by PID and the directory removed when it goes away.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "eval/proc/child_process.h"
#include "eval/proc/temp_dir.h"

namespace lockstep::eval {

struct LocalClusterOptions {
  int replicas = 3;
  std::string durability = "fsync";  // fsync | none
  std::filesystem::path lockstep_binary = "/proc/self/exe";
  std::chrono::milliseconds ready_timeout{30000};
  std::string log_level = "info";
  std::vector<std::string> node_args;  // extra `lockstep node` flags, e.g. {"--proxy"}
  bool free_service_ports = false;     // free proxy/server ports instead of 20000+i / 21000+i
  int batch_quiet_us = -1;             // batch_quiet_us for the nodes; -1 = the config default
  int batch_delay_us = -1;             // max_batch_delay_us for the nodes; -1 = the config default
};

class LocalCluster {
 public:
  explicit LocalCluster(const LocalClusterOptions& options);  // throws std::runtime_error
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  const ClusterConfig& config() const { return config_; }
  const std::filesystem::path& config_path() const { return config_path_; }
  const std::filesystem::path& dir() const { return dir_->path(); }
  std::vector<uint16_t> ports() const;

  void kill(uint32_t id);     // SIGKILL, reaped
  void stop(uint32_t id);     // SIGTERM (clean shutdown), reaped
  void start(uint32_t id);    // (re)starts a node that is down
  bool running(uint32_t id) const { return nodes_.count(id) && nodes_.at(id); }
  // Waits until every running node commits a probe submitted through it.
  void wait_ready(std::chrono::milliseconds timeout);
  // The id of the node that every running node agrees leads (polls until they do).
  uint32_t wait_leader(std::chrono::milliseconds timeout);
  std::optional<std::string> status(uint32_t id);
  std::string log_tail(uint32_t id, int lines = 10) const;
  double cpu_seconds() const;

 private:
  LocalClusterOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::filesystem::path config_path_;
  ClusterConfig config_;
  std::map<uint32_t, std::unique_ptr<ChildProcess>> nodes_;
};

}  // namespace lockstep::eval
