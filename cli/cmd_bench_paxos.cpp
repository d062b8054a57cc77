// `lockstep bench paxos`: starts a cluster of real node processes on loopback and drives
// closed-loop submissions through the shared load generator; the output matches `bench etcd`
// so the two can be put side by side.
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command_registry.h"
#include "cli/load_args.h"
#include "common/log.h"
#include "eval/loadgen/driver.h"
#include "eval/paxos/lockstep_target.h"
#include "eval/paxos/local_cluster.h"
#include "eval/proc/signal_guard.h"

namespace lockstep::cli {
namespace {

struct BenchPaxosArgs : LoadArgs {
  int replicas = 3;
  std::string durability = "fsync";
  int batch_delay_us = -1;
  int batch_quiet_us = -1;
  std::uint32_t conns = 0;  // per load generator thread; 0 = one per client
};

void run(const BenchPaxosArgs& a) {
  eval::SignalGuard signals;
  eval::LocalClusterOptions copts;
  copts.replicas = a.replicas;
  copts.durability = a.durability;
  copts.log_level = "warn";
  copts.batch_delay_us = a.batch_delay_us;
  copts.batch_quiet_us = a.batch_quiet_us;
  std::unique_ptr<eval::LocalCluster> cluster;
  try {
    cluster = std::make_unique<eval::LocalCluster>(copts);
  } catch (const std::exception& e) {
    throw CommandError(kExitFailure, fmt::format("cluster did not start: {}", e.what()));
  }
  std::vector<std::uint16_t> ports = cluster->ports();
  uint32_t leader = 0;
  try {
    leader = cluster->wait_leader(std::chrono::seconds(10));
  } catch (const std::exception& e) {
    throw CommandError(kExitFailure, e.what());
  }
  if (a.endpoints == "leader") ports = {cluster->config().node(leader).peer_port};
  log::info("driving {} clients x {} B for {} s (+{} s warm-up) against {} node(s), leader {}", a.clients,
            a.size, a.seconds, a.warmup, ports.size(), leader);

  eval::LoadOptions lo = a.options(signals.fd());

  const ClusterConfig& config = cluster->config();
  const double cpu_before = cluster->cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  eval::Result result;
  // Measured rather than taken from --conns: the client connections open at the leader halfway
  // through the window (the probe's own connection not counted).
  std::optional<int> leader_clients;
  {
    std::mutex mu;
    std::condition_variable_any cv;
    std::jthread probe([&](std::stop_token stop) {
      const auto midpoint = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(a.warmup + a.seconds / 2));
      std::unique_lock lock(mu);
      cv.wait_until(lock, stop, midpoint, [] { return false; });  // until the midpoint or a stop
      if (stop.stop_requested()) return;
      auto st = cluster->status(leader);
      auto j = st ? nlohmann::json::parse(*st, nullptr, false) : nlohmann::json();
      if (j.is_object() && j.contains("clients")) leader_clients = j["clients"].get<int>() - 1;
    });
    try {
      result = eval::run_closed_loop(lo, [&](unsigned) {
        return std::make_unique<eval::LockstepTarget>(ports, config.name, config.key, a.conns);
      });
    } catch (const eval::LoadError& e) {
      throw CommandError(kExitFailure, fmt::format("paxos benchmark failed: {} (leader log: {})", e.what(),
                                                   cluster->log_tail(leader, 3)));
    }
  }  // the probe is stopped and joined here
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cluster->cpu_seconds() - cpu_before;
  auto status = cluster->status(leader);
  // Where a submission's time went, per node: the leader's batching and commit waits, every
  // node's writer-thread queue and BDB transaction (fdatasync included).
  nlohmann::json timing = nlohmann::json::object();
  for (const auto& n : config.nodes) {
    auto st = cluster->status(n.id);
    auto j = st ? nlohmann::json::parse(*st, nullptr, false) : nlohmann::json();
    if (!j.is_object()) continue;
    auto round1 = [](double v) { return std::round(10.0 * v) / 10.0; };
    nlohmann::json t = nlohmann::json::object();
    // Only the leader batches and answers; a follower's batch and commit waits describe the
    // few submissions it answered before the leader was known.
    for (const char* field : {"batch_wait_us_mean", "commit_wait_us_mean", "write_queue_us_mean", "write_us_mean",
                              "jobs_per_write"}) {
      const bool leader_only = std::string_view(field).starts_with("batch_") || std::string_view(field).starts_with("commit_");
      if (leader_only && n.id != leader) continue;
      if (j.contains(field) && j[field].is_number()) t[field] = round1(j[field].get<double>());
    }
    timing[fmt::format("{}{}", n.id == leader ? "leader_" : "node_", n.id)] = t;
  }
  cluster.reset();

  result.target = "lockstep";
  result.extra["replicas"] = a.replicas;
  result.extra["endpoints"] = a.endpoints;
  result.extra["durability"] = a.durability;
  result.extra["conns"] = a.conns == 0 ? a.clients : std::min(a.conns * a.threads, a.clients);
  if (leader_clients) result.extra["leader_client_connections"] = *leader_clients;
  result.extra["nodes_cpu_pct"] = elapsed > 0 ? std::round(1000.0 * cpu / elapsed) / 10.0 : 0.0;
  if (status) {
    auto s = nlohmann::json::parse(*status, nullptr, false);
    if (s.is_object()) {
      double writes = s.value("writes", 0.0), entries = s.value("entries_written", 0.0);
      result.extra["leader_writes"] = writes;
      result.extra["leader_entries"] = entries;
      result.extra["leader_max_batch"] = s.value("max_batch", 0);
      // Proposals per entry the leader cut, over the whole run (warm-up included).
      double cut = s.value("leader_entries", 0.0), proposals = s.value("leader_proposals", 0.0);
      if (cut > 0) result.extra["leader_mean_batch"] = std::round(10.0 * proposals / cut) / 10.0;
      result.extra["log_index"] = s.value("last_index", 0);
    }
  }
  if (!timing.empty()) result.extra["node_timing"] = timing;
  eval::print_table(stdout, result);
  if (a.json) std::printf("%s\n", eval::to_json_line(result).c_str());
  std::fflush(stdout);
}

const bool registered = add_command([](CLI::App& root) {
  auto& bench = subcommand_of(root, "bench", "Benchmarks: closed-loop load against a cluster");
  auto* cmd = bench.add_subcommand("paxos", "Closed-loop submissions against a local lockstep cluster of node processes");
  auto args = std::make_shared<BenchPaxosArgs>();
  cmd->add_option("--replicas", args->replicas, "Replicas (node processes)")->capture_default_str()->check(CLI::IsMember({1, 3, 5, 7}));
  add_load_args(*cmd, *args, "node");
  cmd->add_option("--durability", args->durability, "fsync (default), or write|none (experiments only)")
      ->capture_default_str()->check(CLI::IsMember({"fsync", "write", "none"}));
  cmd->add_option("--conns", args->conns,
                  "TCP connections per load generator thread, clients multiplexed over them by request id "
                  "(default: one per client, as bench etcd's HTTP/1.1 clients need)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--batch-delay-us", args->batch_delay_us,
                  "Longest a submission waits for its batch (default: the config's, 200)")->check(CLI::Range(0, 1000000));
  cmd->add_option("--batch-quiet-us", args->batch_quiet_us,
                  "Cut the batch once no submission came for this long; 0 = wait the whole delay (default: the config's, 30)")
      ->check(CLI::Range(0, 1000000));
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace lockstep::cli
