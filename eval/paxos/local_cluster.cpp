#include "eval/paxos/local_cluster.h"

#include <fmt/format.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eval/proc/ports.h"
#include "paxos/node/sync_client.h"

namespace lockstep::eval {
namespace {
using Clock = std::chrono::steady_clock;

std::string random_key() {
  std::string key = "hex:";
  std::FILE* f = std::fopen("/dev/urandom", "rb");
  unsigned char raw[32] = {};
  if (!f || std::fread(raw, 1, sizeof raw, f) != sizeof raw) throw std::runtime_error("cannot read /dev/urandom");
  std::fclose(f);
  for (unsigned char c : raw) key += fmt::format("{:02x}", c);
  return key;
}
}  // namespace

LocalCluster::LocalCluster(const LocalClusterOptions& options) : options_(options) {
  if (options.replicas < 1 || options.replicas % 2 == 0) throw std::runtime_error("replicas must be 1, 3, 5 or 7");
  dir_ = std::make_unique<TempDir>("lockstep-cluster");
  int n = options.replicas;
  std::vector<uint16_t> ports = free_loopback_ports(options.free_service_ports ? 3 * n : n);
  std::string nodes;
  for (int i = 0; i < n; ++i) {
    uint16_t proxy_port = options.free_service_ports ? ports[n + i] : 20000 + i;
    uint16_t server_port = options.free_service_ports ? ports[2 * n + i] : 21000 + i;
    nodes += fmt::format("{}{{ id = {}; host = \"127.0.0.1\"; peer_port = {}; proxy_port = {}; server_port = {}; }}",
                         i ? ",\n  " : "  ", i + 1, ports[i], proxy_port, server_port);
  }
  std::string batching;
  if (options.batch_delay_us >= 0) batching += fmt::format(" max_batch_delay_us = {};", options.batch_delay_us);
  if (options.batch_quiet_us >= 0) batching += fmt::format(" batch_quiet_us = {};", options.batch_quiet_us);
  config_path_ = dir_->path() / "cluster.cfg";
  std::ofstream(config_path_) << fmt::format(
      "name = \"bench\";\nkey = \"{}\";\nnodes = (\n{}\n);\nstorage = {{ data_dir = \"{}\"; durability = \"{}\"; }};\n{}",
      random_key(), nodes, (dir_->path() / "data").string(), options.durability,
      batching.empty() ? "" : fmt::format("batching = {{{} }};\n", batching));
  config_ = load_config(config_path_.string());
  for (const auto& n : config_.nodes) start(n.id);
  wait_ready(options.ready_timeout);
}

LocalCluster::~LocalCluster() {
  for (auto& [id, node] : nodes_) {
    if (node) node->stop();
  }
}

std::vector<uint16_t> LocalCluster::ports() const {
  std::vector<uint16_t> out;
  for (const auto& n : config_.nodes) out.push_back(n.peer_port);
  return out;
}

void LocalCluster::start(uint32_t id) {
  if (running(id)) return;
  std::vector<std::string> argv{options_.lockstep_binary.string(), "node", "--config", config_path_.string(),
                                "--id", std::to_string(id), "--log-level", options_.log_level};
  argv.insert(argv.end(), options_.node_args.begin(), options_.node_args.end());
  nodes_[id] = std::make_unique<ChildProcess>(std::move(argv), dir_->path() / fmt::format("node{}.log", id));
}

void LocalCluster::kill(uint32_t id) {
  if (!running(id)) return;
  ::kill(nodes_[id]->pid(), SIGKILL);
  nodes_[id]->stop();  // reaps
  nodes_[id].reset();
}

void LocalCluster::stop(uint32_t id) {
  if (!running(id)) return;
  nodes_[id]->stop();
  nodes_[id].reset();
}

std::optional<std::string> LocalCluster::status(uint32_t id) {
  try {
    node::SyncClient client("127.0.0.1", config_.node(id).peer_port, config_.name, config_.key,
                            std::chrono::milliseconds(1000));
    return client.status();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void LocalCluster::wait_ready(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (const auto& n : config_.nodes) {
    if (!running(n.id)) continue;
    for (;;) {
      if (auto why = nodes_[n.id]->exited())
        throw std::runtime_error(fmt::format("node {} {}: {}", n.id, *why, nodes_[n.id]->log_tail(3)));
      try {
        node::SyncClient client("127.0.0.1", n.peer_port, config_.name, config_.key, std::chrono::milliseconds(2000));
        auto outcome = client.submit("ready-probe");
        if (outcome && outcome->status == wire::SubmitStatus::Ok) break;
      } catch (const std::exception&) {
        // not listening yet
      }
      if (Clock::now() > deadline)
        throw std::runtime_error(fmt::format("node {} not ready after {} ms: {}", n.id, timeout.count(), log_tail(n.id, 3)));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

uint32_t LocalCluster::wait_leader(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    uint32_t agreed = 0;
    bool all = true;
    for (const auto& n : config_.nodes) {
      if (!running(n.id)) continue;
      auto s = status(n.id);
      uint32_t leader = s ? nlohmann::json::parse(*s).value("leader", 0u) : 0;
      if (leader == 0 || (agreed && leader != agreed) || !running(leader)) all = false;
      agreed = leader;
    }
    if (all && agreed) return agreed;
    if (Clock::now() > deadline) throw std::runtime_error("no leader agreed on in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string LocalCluster::log_tail(uint32_t id, int lines) const {
  auto it = nodes_.find(id);
  if (it != nodes_.end() && it->second) return it->second->log_tail(lines);
  std::ifstream in(dir_->path() / fmt::format("node{}.log", id));
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0; i < all.size(); ++i) out += all[i] + "\n";
  return out;
}

double LocalCluster::cpu_seconds() const {
  double total = 0;
  for (const auto& [id, node] : nodes_) {
    if (node) total += process_cpu_seconds(node->pid());
  }
  return total;
}

}  // namespace lockstep::eval
