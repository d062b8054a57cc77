// `lockstep bench proxy`: echo round trips through the proxy of a three-node loopback cluster
// versus straight to the same echo server (apps/echo-mt), so the cost of the proxy and the log
// is one ratio. Ping-pong: each connection sends SIZE bytes and reads them back, repeatedly;
// then one bulk stream (upload and download at once) of BULK bytes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/command_registry.h"
#include "common/log.h"
#include "eval/paxos/local_cluster.h"
#include "eval/proc/child_process.h"
#include "eval/proc/signal_guard.h"

namespace lockstep::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchProxyArgs {
  uint32_t connections = 8;
  size_t size = 1024;
  double seconds = 5;
  size_t bulk_mb = 100;
  std::string durability = "fsync";
  bool json = false;
};

int dial(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{10, 0};  // a stalled transfer ends the run instead of hanging it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

bool io_all(int fd, char* p, size_t n, bool write) {
  while (n > 0) {
    ssize_t r = write ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

struct PingPong {
  double ops_per_s = 0, mb_per_s = 0, mean_us = 0, p99_us = 0;
  uint64_t errors = 0;
};

PingPong ping_pong(uint16_t port, const BenchProxyArgs& a) {
  std::vector<std::vector<double>> lat(a.connections);
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  auto started = Clock::now();
  for (uint32_t c = 0; c < a.connections; ++c) {
    threads.emplace_back([&, c] {
      int fd = dial(port);
      if (fd < 0) {
        ++errors;
        return;
      }
      std::string out(a.size, static_cast<char>('a' + c % 26)), in(a.size, '\0');
      while (!stop) {
        auto t0 = Clock::now();
        if (!io_all(fd, out.data(), out.size(), true) || !io_all(fd, in.data(), in.size(), false) || in != out) {
          ++errors;
          break;
        }
        lat[c].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      close(fd);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - started).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  PingPong r;
  r.errors = errors;
  if (all.empty()) return r;
  std::sort(all.begin(), all.end());
  double sum = 0;
  for (double v : all) sum += v;
  r.ops_per_s = all.size() / secs;
  r.mb_per_s = r.ops_per_s * a.size * 2 / 1e6;
  r.mean_us = sum / all.size();
  r.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return r;
}

// One connection: upload BULK bytes while reading them back; MB/s of the round trip, or -1 if
// not every byte came back (stalled for 10 s, or closed).
double bulk(uint16_t port, size_t bytes) {
  int fd = dial(port);
  if (fd < 0) return 0;
  auto started = Clock::now();
  std::thread sender([&] {
    std::string chunk(1 << 20, 'b');
    for (size_t sent = 0; sent < bytes;) {
      size_t n = std::min(chunk.size(), bytes - sent);
      if (!io_all(fd, chunk.data(), n, true)) break;
      sent += n;
    }
    shutdown(fd, SHUT_WR);
  });
  std::vector<char> buf(1 << 20);
  size_t got = 0;
  for (;;) {
    ssize_t r = recv(fd, buf.data(), buf.size(), 0);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  sender.join();
  close(fd);
  double secs = std::chrono::duration<double>(Clock::now() - started).count();
  if (got != bytes) log::warn("bulk stream on port {}: {} of {} bytes came back", port, got, bytes);
  return got == bytes ? bytes / 1e6 / secs : -1;
}

void wait_listening(uint16_t port) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    int fd = dial(port);
    if (fd >= 0) {
      close(fd);
      return;
    }
    if (Clock::now() > deadline) throw CommandError(kExitFailure, fmt::format("echo server on port {} did not start", port));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void run(const BenchProxyArgs& a) {
  eval::SignalGuard signals;
  auto bin_dir = std::filesystem::canonical("/proc/self/exe").parent_path();
  auto echo = bin_dir / "lockstep-echo-mt";
  if (!std::filesystem::exists(echo))
    throw CommandError(kExitFailure, fmt::format("{} not found: build the lockstep-echo-mt target", echo.string()));
  eval::LocalClusterOptions copts;
  copts.durability = a.durability;
  copts.log_level = "warn";
  copts.node_args = {"--proxy"};
  copts.free_service_ports = true;
  std::unique_ptr<eval::LocalCluster> cluster;
  try {
    cluster = std::make_unique<eval::LocalCluster>(copts);
  } catch (const std::exception& e) {
    throw CommandError(kExitFailure, fmt::format("cluster did not start: {}", e.what()));
  }
  std::vector<std::unique_ptr<eval::ChildProcess>> servers;
  for (const auto& n : cluster->config().nodes) {
    servers.push_back(std::make_unique<eval::ChildProcess>(
        std::vector<std::string>{echo.string(), "--listen", fmt::format("127.0.0.1:{}", n.server_port), "--threads",
                                 std::to_string(std::max<uint32_t>(64, a.connections + 4))},
        cluster->dir() / fmt::format("echo{}.log", n.id)));
    wait_listening(n.server_port);
  }
  uint32_t leader = cluster->wait_leader(std::chrono::seconds(10));
  uint32_t follower = leader % 3 + 1;
  struct Row {
    std::string target;
    PingPong pp;
    double bulk_mb_s;
  };
  std::vector<Row> rows;
  size_t bulk_bytes = a.bulk_mb << 20;
  uint16_t direct = cluster->config().node(leader).server_port;
  log::info("ping-pong: {} connections x {} B for {} s; bulk {} MB", a.connections, a.size, a.seconds, a.bulk_mb);
  rows.push_back({"direct (echo-mt)", ping_pong(direct, a), bulk(direct, bulk_bytes)});
  rows.push_back({fmt::format("proxy via leader (node {})", leader), ping_pong(cluster->config().node(leader).proxy_port, a),
                  bulk(cluster->config().node(leader).proxy_port, bulk_bytes)});
  rows.push_back({fmt::format("proxy via follower (node {})", follower),
                  ping_pong(cluster->config().node(follower).proxy_port, a),
                  bulk(cluster->config().node(follower).proxy_port, bulk_bytes)});
  double cpu = cluster->cpu_seconds();
  uint64_t divergences = 0;
  for (const auto& n : cluster->config().nodes) {
    auto s = cluster->status(n.id);
    if (s) divergences += nlohmann::json::parse(*s).value("divergences", uint64_t{0});
  }
  if (a.json) {
    nlohmann::json j;
    j["connections"] = a.connections;
    j["size"] = a.size;
    j["durability"] = a.durability;
    j["node_cpu_seconds"] = cpu;
    j["divergences"] = divergences;
    for (const auto& r : rows)
      j["targets"].push_back({{"target", r.target}, {"ops_per_s", r.pp.ops_per_s}, {"mb_per_s", r.pp.mb_per_s},
                              {"mean_us", r.pp.mean_us}, {"p99_us", r.pp.p99_us}, {"errors", r.pp.errors},
                              {"bulk_mb_per_s", r.bulk_mb_s}});
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%-28s %12s %10s %10s %10s %7s %12s %8s\n", "target", "round trips/s", "MB/s", "mean us", "p99 us",
              "errors", "bulk MB/s", "ratio");
  for (const auto& r : rows)
    std::printf("%-28s %12.0f %10.1f %10.0f %10.0f %7lu %12.1f %7.0f%%\n", r.target.c_str(), r.pp.ops_per_s,
                r.pp.mb_per_s, r.pp.mean_us, r.pp.p99_us, static_cast<unsigned long>(r.pp.errors), r.bulk_mb_s,
                rows[0].pp.ops_per_s > 0 ? 100 * r.pp.ops_per_s / rows[0].pp.ops_per_s : 0.0);
  std::printf("node processes used %.1f CPU s; divergences %lu\n", cpu, static_cast<unsigned long>(divergences));
}

const bool registered = add_command([](CLI::App& root) {
  auto args = std::make_shared<BenchProxyArgs>();
  CLI::App& bench = subcommand_of(root, "bench", "Benchmarks");
  CLI::App* cmd = bench.add_subcommand("proxy", "Echo round trips through the proxy vs straight to the server");
  cmd->add_option("--connections", args->connections, "Concurrent ping-pong connections")->check(CLI::Range(1, 1000));
  cmd->add_option("--size", args->size, "Bytes per request (echoed back)")->check(CLI::Range(1, 16 << 20));
  cmd->add_option("--seconds", args->seconds, "Duration of each ping-pong run")->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--bulk-mb", args->bulk_mb, "MB for the bulk stream (0: skip)")->check(CLI::Range(0, 10000));
  cmd->add_option("--durability", args->durability, "fsync|none")->check(CLI::IsMember({"fsync", "none"}));
  cmd->add_flag("--json", args->json, "One JSON object instead of the table");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace lockstep::cli
