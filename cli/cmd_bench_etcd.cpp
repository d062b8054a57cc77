// `lockstep bench etcd`: the baseline for `bench paxos`. Starts a three-member etcd cluster
// (Debian's etcd-server, default fsync durability) on loopback and drives closed-loop PUTs
// through etcd's v3 JSON gateway with the shared load generator; same output as `bench paxos`.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "cli/command_registry.h"
#include "cli/load_args.h"
#include "common/log.h"
#include "eval/etcd/etcd_cluster.h"
#include "eval/etcd/etcd_target.h"
#include "eval/loadgen/driver.h"
#include "eval/proc/signal_guard.h"

namespace lockstep::cli {
namespace {

struct BenchEtcdArgs : LoadArgs {
  int members = 3;
  std::string etcd = "/usr/bin/etcd";
  std::string data_parent;
};

// Leader-side counters from etcd's /metrics, read before and after the run to say where the
// time goes: how many WAL fsyncs, how long each took, how many proposals each one covered.
struct LeaderCounters {
  double fsyncs = 0, fsync_s = 0, proposals = 0, commits = 0, commit_s = 0;

  static std::optional<LeaderCounters> read(const eval::EtcdCluster& cluster, std::size_t leader) {
    LeaderCounters c;
    const std::pair<const char*, double*> fields[] = {
        {"etcd_disk_wal_fsync_duration_seconds_count", &c.fsyncs},
        {"etcd_disk_wal_fsync_duration_seconds_sum", &c.fsync_s},
        {"etcd_server_proposals_committed_total", &c.proposals},
        {"etcd_disk_backend_commit_duration_seconds_count", &c.commits},
        {"etcd_disk_backend_commit_duration_seconds_sum", &c.commit_s},
    };
    for (auto [name, out] : fields) {
      auto v = cluster.metric(leader, name);
      if (!v) return std::nullopt;
      *out = *v;
    }
    return c;
  }
};

void add_leader_stats(eval::Result& r, const LeaderCounters& before, const LeaderCounters& after) {
  const double fsyncs = after.fsyncs - before.fsyncs;
  const double commits = after.commits - before.commits;
  if (fsyncs <= 0) return;
  auto round1 = [](double x) { return std::round(x * 10.0) / 10.0; };
  r.extra["etcd_wal_fsyncs"] = fsyncs;
  r.extra["etcd_wal_fsync_mean_us"] = round1(1e6 * (after.fsync_s - before.fsync_s) / fsyncs);
  r.extra["etcd_proposals_per_wal_fsync"] = round1((after.proposals - before.proposals) / fsyncs);
  if (commits > 0) r.extra["etcd_backend_commit_mean_us"] = round1(1e6 * (after.commit_s - before.commit_s) / commits);
}

void run(const BenchEtcdArgs& a) {
  eval::SignalGuard signals;  // before any thread: Ctrl-C becomes an fd, cleanup runs normally
  auto interrupted = [&]() -> CommandError {
    const int sig = signals.take();
    return CommandError(kExitFailure, fmt::format("interrupted by {}; etcd stopped and its data removed",
                                                  sig ? strsignal(sig) : "a signal"));
  };

  eval::EtcdClusterOptions copts;
  copts.members = a.members;
  copts.binary = a.etcd;
  copts.data_parent = a.data_parent;
  copts.stop_fd = signals.fd();
  std::unique_ptr<eval::EtcdCluster> cluster;
  try {
    cluster = std::make_unique<eval::EtcdCluster>(copts);
  } catch (const std::exception& e) {
    if (signals.pending()) throw interrupted();
    throw CommandError(kExitFailure, e.what());
  }

  std::vector<std::uint16_t> ports = cluster->client_ports();
  std::optional<std::size_t> leader;
  try {
    leader = cluster->leader();
  } catch (const std::exception& e) {
    if (a.endpoints == "leader") throw CommandError(kExitFailure, e.what());
    log::warn("{}; running without leader statistics", e.what());
  }
  if (a.endpoints == "leader") ports = {ports[*leader]};
  std::optional<LeaderCounters> before;
  if (leader) before = LeaderCounters::read(*cluster, *leader);
  log::info("driving {} clients x {} B for {} s (+{} s warm-up) against {} endpoint(s)", a.clients,
            a.size, a.seconds, a.warmup, ports.size());

  eval::LoadOptions lo = a.options(signals.fd());

  const double etcd_cpu_before = cluster->cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  eval::Result result;
  try {
    result = eval::run_closed_loop(lo, [&](unsigned) { return std::make_unique<eval::EtcdTarget>(ports); });
  } catch (const eval::LoadError& e) {
    if (signals.pending()) throw interrupted();
    std::string why = e.what();
    try {
      cluster->check_alive();
    } catch (const std::exception& dead) {
      why += fmt::format(" ({})", dead.what());
    }
    throw CommandError(kExitFailure, "etcd benchmark failed: " + why);
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double etcd_cpu = cluster->cpu_seconds() - etcd_cpu_before;
  std::optional<LeaderCounters> after;
  if (before) after = LeaderCounters::read(*cluster, *leader);
  try {
    cluster->check_alive();
  } catch (const std::exception& e) {
    throw CommandError(kExitFailure, e.what());
  }
  cluster.reset();  // stop etcd and remove its data before reporting

  result.target = "etcd";
  result.extra["members"] = a.members;
  result.extra["endpoints"] = a.endpoints;
  result.extra["durability"] = "fsync";
  // Whole run (warm-up included), all members, % of one core.
  result.extra["etcd_cpu_pct"] = elapsed > 0 ? std::round(1000.0 * etcd_cpu / elapsed) / 10.0 : 0.0;
  if (before && after) add_leader_stats(result, *before, *after);
  eval::print_table(stdout, result);
  if (a.json) std::printf("%s\n", eval::to_json_line(result).c_str());
  std::fflush(stdout);
}

const bool registered = add_command([](CLI::App& root) {
  auto& bench = subcommand_of(root, "bench", "Benchmarks: closed-loop load against a cluster");
  auto* cmd = bench.add_subcommand("etcd", "Baseline: closed-loop PUTs against a local three-member etcd cluster");
  auto args = std::make_shared<BenchEtcdArgs>();
  add_load_args(*cmd, *args, "member");
  cmd->add_option("--members", args->members, "etcd members")->capture_default_str()->check(CLI::Range(1, 7));
  cmd->add_option("--etcd", args->etcd, "etcd binary")->capture_default_str();
  cmd->add_option("--data-parent", args->data_parent, "Directory for the members' private data dirs (default $TMPDIR or /tmp)");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace lockstep::cli
