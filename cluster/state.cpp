#include "cluster/state.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cluster/error.h"

namespace lockstep::cluster {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

json ref_json(const ProcessRef& r) { return json{{"pid", r.pid}, {"start", r.start_time}}; }
ProcessRef ref_from(const json& j) {
  return ProcessRef{j.value("pid", 0), j.value("start", uint64_t{0})};
}

json state_json(const ClusterState& s) {
  json replicas = json::array();
  for (const auto& r : s.replicas) {
    replicas.push_back(json{{"id", r.id}, {"host", r.host}, {"server_port", r.server_port},
                            {"proxy_port", r.proxy_port}, {"data_dir", r.data_dir},
                            {"server", ref_json(r.server)}, {"node", ref_json(r.node)},
                            {"server_log", r.server_log}, {"node_log", r.node_log}});
  }
  return json{{"cluster", s.cluster}, {"config", s.config_path}, {"app", s.app},
              {"apps_dir", s.apps_dir}, {"mode", s.mode}, {"launcher", s.launcher},
              {"cgroup", s.cgroup_path}, {"cgroup_version", s.cgroup_version},
              {"cpu_quota", s.cpu_quota}, {"netns", s.netns}, {"links", s.links},
              {"replicas", replicas}, {"service", s.service}, {"ready", s.ready}};
}

}  // namespace

ReplicaState* ClusterState::replica(int id) {
  for (auto& r : replicas)
    if (r.id == id) return &r;
  return nullptr;
}

std::string state_file(const ClusterNames& names) { return names.run_dir() + "/state.json"; }

std::string to_json(const ClusterState& state) { return state_json(state).dump(); }

std::optional<ClusterState> load_state(const ClusterNames& names) {
  std::ifstream in(state_file(names));
  if (!in) return std::nullopt;
  try {
    json j = json::parse(in);
    ClusterState s;
    s.cluster = j.at("cluster");
    s.config_path = j.value("config", "");
    s.app = j.value("app", "");
    s.apps_dir = j.value("apps_dir", "");
    s.mode = j.value("mode", "");
    s.launcher = j.value("launcher", "");
    s.cgroup_path = j.value("cgroup", "");
    s.cgroup_version = j.value("cgroup_version", "");
    s.cpu_quota = j.value("cpu_quota", 0.0);
    s.netns = j.value("netns", std::vector<std::string>{});
    s.links = j.value("links", std::vector<std::string>{});
    s.service = j.value("service", std::vector<std::string>{});
    s.ready = j.value("ready", false);
    for (const auto& r : j.value("replicas", json::array())) {
      ReplicaState rs;
      rs.id = r.at("id");
      rs.host = r.value("host", "");
      rs.server_port = r.value("server_port", uint16_t{0});
      rs.proxy_port = r.value("proxy_port", uint16_t{0});
      rs.data_dir = r.value("data_dir", "");
      rs.server = ref_from(r.value("server", json::object()));
      rs.node = ref_from(r.value("node", json::object()));
      rs.server_log = r.value("server_log", "");
      rs.node_log = r.value("node_log", "");
      s.replicas.push_back(rs);
    }
    return s;
  } catch (const json::exception& e) {
    throw ClusterError(fmt::format("{}: corrupt state file ({}); remove it after checking `ip netns list`",
                                   state_file(names), e.what()));
  }
}

void save_state(const ClusterNames& names, const ClusterState& state) {
  std::error_code ec;
  fs::create_directories(names.run_dir(), ec);
  if (ec) throw ClusterError(fmt::format("creating {}: {}", names.run_dir(), ec.message()));
  std::string path = state_file(names);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << state_json(state).dump(2) << '\n';
    out.flush();
    if (!out) throw ClusterError(fmt::format("writing {}: {}", tmp, std::strerror(errno)));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0)
    throw ClusterError(fmt::format("renaming {}: {}", tmp, std::strerror(errno)));
}

void remove_state(const ClusterNames& names) {
  std::error_code ec;
  fs::remove_all(names.run_dir(), ec);
}

}  // namespace lockstep::cluster
