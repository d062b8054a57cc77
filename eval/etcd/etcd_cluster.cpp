#include "eval/etcd/etcd_cluster.h"

#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

#include "common/log.h"
#include "eval/etcd/simple_http.h"
#include "eval/proc/ports.h"

namespace lockstep::eval {

EtcdCluster::EtcdCluster(const EtcdClusterOptions& options) {
  if (options.members < 1) throw std::invalid_argument("etcd cluster needs at least one member");
  if (access(options.binary.c_str(), X_OK) != 0) {
    throw std::runtime_error(fmt::format("{} not found or not executable (install etcd-server)",
                                         options.binary.string()));
  }
  dir_ = std::make_unique<TempDir>("lockstep-etcd", options.data_parent);
  const auto ports = free_loopback_ports(2 * options.members);
  std::string initial;
  for (int i = 0; i < options.members; ++i) {
    client_ports_.push_back(ports[2 * i]);
    if (!initial.empty()) initial += ',';
    initial += fmt::format("m{}=http://127.0.0.1:{}", i, ports[2 * i + 1]);
  }
  const std::string token = fmt::format("lockstep-bench-{}", getpid());
  for (int i = 0; i < options.members; ++i) {
    const auto client = fmt::format("http://127.0.0.1:{}", ports[2 * i]);
    const auto peer = fmt::format("http://127.0.0.1:{}", ports[2 * i + 1]);
    std::vector<std::string> argv = {
        options.binary.string(),
        "--name=" + fmt::format("m{}", i),
        "--data-dir=" + (dir_->path() / fmt::format("m{}", i)).string(),
        "--listen-client-urls=" + client,
        "--advertise-client-urls=" + client,
        "--listen-peer-urls=" + peer,
        "--initial-advertise-peer-urls=" + peer,
        "--initial-cluster=" + initial,
        "--initial-cluster-token=" + token,
        "--initial-cluster-state=new",
        "--logger=zap",
        "--log-level=warn",
    };
    members_.push_back(std::make_unique<ChildProcess>(argv, dir_->path() / fmt::format("m{}.log", i)));
  }
  log::info("started {} etcd members in {}", options.members, dir_->path().string());
  wait_healthy(options);
}

EtcdCluster::~EtcdCluster() {
  // Members first (they hold files in the directory), then the directory.
  for (auto& m : members_) m->stop();
  members_.clear();
  dir_.reset();
}

void EtcdCluster::check_alive() {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (auto how = members_[i]->exited()) {
      throw std::runtime_error(
          fmt::format("etcd member m{} {}; its log ends: {}", i, *how, members_[i]->log_tail(2)));
    }
  }
}

void EtcdCluster::wait_healthy(const EtcdClusterOptions& options) {
  const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  std::string last;
  for (;;) {
    check_alive();
    std::size_t healthy = 0;
    for (auto port : client_ports_) {
      auto reply = http_call(port, "GET", "/health", "", std::chrono::milliseconds(1000), &last);
      if (!reply) continue;
      // etcd answers {"health":"true"} once the member has a leader and can serve.
      if (reply->status == 200 && reply->body.find("\"health\":\"true\"") != std::string::npos) {
        ++healthy;
      } else {
        last = fmt::format("127.0.0.1:{}/health: HTTP {} {}", port, reply->status, reply->body);
      }
    }
    if (healthy == client_ports_.size()) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error(fmt::format("etcd cluster not healthy after {} ms; last: {}",
                                           options.start_timeout.count(), last));
    }
    // Poll again shortly; wake early only for an interrupt.
    pollfd p{options.stop_fd, POLLIN, 0};
    if (poll(&p, options.stop_fd >= 0 ? 1 : 0, 50) > 0) throw std::runtime_error("interrupted");
  }
}

double EtcdCluster::cpu_seconds() const {
  double total = 0;
  for (const auto& m : members_) total += process_cpu_seconds(m->pid());
  return total;
}

std::optional<double> EtcdCluster::metric(std::size_t i, std::string_view name) const {
  auto reply = http_call(client_ports_.at(i), "GET", "/metrics", "", std::chrono::milliseconds(2000));
  if (!reply || reply->status != 200) return std::nullopt;
  const std::string& text = reply->body;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto end = std::min(text.find('\n', pos), text.size());
    std::string_view line(text.data() + pos, end - pos);
    if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ' ') {
      try {
        return std::stod(std::string(line.substr(name.size() + 1)));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::size_t EtcdCluster::leader() const {
  std::string why;
  for (auto port : client_ports_) {
    auto reply = http_call(port, "POST", "/v3/maintenance/status", "{}", std::chrono::milliseconds(2000), &why);
    if (!reply || reply->status != 200) continue;
    const auto j = nlohmann::json::parse(reply->body, nullptr, false);
    if (j.is_discarded() || !j.contains("leader")) continue;
    const auto leader_id = j["leader"].get<std::string>();
    // Ask each member for its own id and find the one that matches.
    for (std::size_t i = 0; i < client_ports_.size(); ++i) {
      auto r = http_call(client_ports_[i], "POST", "/v3/maintenance/status", "{}",
                         std::chrono::milliseconds(2000), &why);
      if (!r || r->status != 200) continue;
      const auto k = nlohmann::json::parse(r->body, nullptr, false);
      if (!k.is_discarded() && k.contains("header") && k["header"].value("member_id", "") == leader_id) {
        return i;
      }
    }
  }
  throw std::runtime_error("cannot determine the etcd leader" + (why.empty() ? "" : ": " + why));
}

}  // namespace lockstep::eval
