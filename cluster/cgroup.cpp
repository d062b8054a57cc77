#include "cluster/cgroup.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cluster/error.h"
#include "cluster/proc.h"
#include "cluster/spec.h"
#include "common/log.h"

namespace lockstep::cluster {
namespace fs = std::filesystem;
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  if (!out) throw ClusterError(fmt::format("writing '{}' to {} failed: {}", value, path, std::strerror(errno)));
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w)
    if (w == word) return true;
  return false;
}

struct Mount {
  std::string point, fstype, super_options;
};

std::vector<Mount> cgroup_mounts() {
  std::vector<Mount> mounts;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "... mountpoint options [optional fields] - fstype source superoptions"
    std::istringstream ls(line);
    std::string id, parent, devno, root, point, opts;
    ls >> id >> parent >> devno >> root >> point >> opts;
    std::string field;
    while (ls >> field && field != "-") {
    }
    Mount m;
    std::string source;
    ls >> m.fstype >> source >> m.super_options;
    if (m.fstype != "cgroup" && m.fstype != "cgroup2") continue;
    m.point = point;
    mounts.push_back(m);
  }
  return mounts;
}

bool has_option(const std::string& options, const std::string& opt) {
  std::istringstream in(options);
  std::string o;
  while (std::getline(in, o, ','))
    if (o == opt) return true;
  return false;
}

void enable_cpu_controller(const std::string& dir) {
  std::string control = dir + "/cgroup.subtree_control";
  if (has_word(read_file(control), "cpu")) return;
  write_file(control, "+cpu");
}

}  // namespace

std::string CpuHierarchy::describe() const {
  return fmt::format("cgroup {} at {}", version == CgroupVersion::v2 ? "v2" : "v1 (cpu controller)", root);
}

CpuHierarchy find_cpu_hierarchy() {
  std::vector<Mount> mounts = cgroup_mounts();
  std::string v2_without_cpu;
  for (const auto& m : mounts) {
    if (m.fstype != "cgroup2") continue;
    if (has_word(read_file(m.point + "/cgroup.controllers"), "cpu")) return {CgroupVersion::v2, m.point};
    v2_without_cpu = m.point;
  }
  for (const auto& m : mounts) {
    if (m.fstype == "cgroup" && has_option(m.super_options, "cpu")) {
      std::error_code ec;
      if (fs::exists(m.point + "/cpu.cfs_quota_us", ec)) return {CgroupVersion::v1, m.point};
    }
  }
  if (!v2_without_cpu.empty())
    throw ClusterError(fmt::format(
        "no CPU quota possible: cgroup v2 at {} lacks the cpu controller and no v1 cpu hierarchy "
        "is mounted (set cpu_quota = 0 in the config to run without quotas)",
        v2_without_cpu));
  throw ClusterError(
      "no CPU quota possible: no cgroup v2 or v1 cpu hierarchy is mounted (set cpu_quota = 0 in "
      "the config to run without quotas)");
}

std::string cluster_cgroup_path(const CpuHierarchy& h, const ClusterNames& names) {
  return h.root + "/" + names.cgroup_rel();
}

std::string replica_cgroup_path(const CpuHierarchy& h, const ClusterNames& names, int id) {
  return fmt::format("{}/r{}", cluster_cgroup_path(h, names), id);
}

std::string leaf_procs_file(const std::string& replica_path, ReplicaCgroup::Leaf leaf) {
  return replica_path + (leaf == ReplicaCgroup::Leaf::node ? "/node" : "/server") + "/cgroup.procs";
}

ReplicaCgroup::ReplicaCgroup(const CpuHierarchy& h, const ClusterNames& names, int id, double cpus)
    : path_(replica_cgroup_path(h, names, id)) {
  std::error_code ec;
  if (fs::exists(path_, ec))
    throw ClusterError(fmt::format("cgroup {} already exists (run `lockstep cluster down` first)", path_));
  try {
    fs::create_directories(path_, ec);
    if (ec) throw ClusterError(fmt::format("creating cgroup {}: {}", path_, ec.message()));
    auto quota_us = static_cast<long>(std::lround(cpus * kCpuPeriodUs));
    if (h.version == CgroupVersion::v2) {
      // The controller must be enabled in every ancestor for cpu.max to exist here.
      fs::path rel = fs::path(path_).lexically_relative(h.root);
      std::vector<fs::path> parts(rel.begin(), rel.end());
      fs::path p = h.root;
      enable_cpu_controller(p.string());
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        p /= parts[i];
        enable_cpu_controller(p.string());
      }
      write_file(path_ + "/cpu.max", fmt::format("{} {}", quota_us, kCpuPeriodUs));
    } else {
      write_file(path_ + "/cpu.cfs_period_us", std::to_string(kCpuPeriodUs));
      write_file(path_ + "/cpu.cfs_quota_us", std::to_string(quota_us));
    }
    for (const char* leaf : {"node", "server"}) {
      fs::create_directory(path_ + "/" + leaf, ec);
      if (ec) throw ClusterError(fmt::format("creating cgroup {}/{}: {}", path_, leaf, ec.message()));
    }
  } catch (...) {
    remove_cgroup_tree(path_);
    throw;
  }
}

ReplicaCgroup::~ReplicaCgroup() {
  if (owned_) remove_cgroup_tree(path_);
}

std::string ReplicaCgroup::procs_file(Leaf leaf) const { return leaf_procs_file(path_, leaf); }

std::string read_cpu_quota(const CpuHierarchy& h, const std::string& replica_path) {
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  if (h.version == CgroupVersion::v2) return trim(read_file(replica_path + "/cpu.max"));
  std::string quota = trim(read_file(replica_path + "/cpu.cfs_quota_us"));
  std::string period = trim(read_file(replica_path + "/cpu.cfs_period_us"));
  if (quota.empty()) return "";
  return quota + " " + period;
}

std::vector<int> cgroup_subtree_pids(const std::string& path) {
  std::vector<int> pids;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return pids;
  auto add = [&](const fs::path& dir) {
    for (int pid : read_pids((dir / "cgroup.procs").string())) pids.push_back(pid);
  };
  add(path);
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec)) add(it->path());
  }
  return pids;
}

bool remove_cgroup_tree(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return true;
  kill_all(cgroup_subtree_pids(path), std::chrono::seconds(5));
  std::vector<fs::path> dirs;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec)) dirs.push_back(it->path());
  }
  // Deepest first: a cgroup directory can only be removed once it has no children.
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return a.string().size() > b.string().size();
  });
  dirs.push_back(path);
  bool ok = true;
  for (const auto& d : dirs) {
    // A task killed a moment ago can keep its cgroup busy until the kernel has finished its exit
    // (seen under load: EBUSY right after cgroup.procs became empty), so EBUSY is retried briefly.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    int rc;
    while ((rc = rmdir(d.c_str())) != 0 && errno == EBUSY && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (rc != 0 && errno != ENOENT) {
      log::warn("removing cgroup {}: {}", d.string(), std::strerror(errno));
      ok = false;
    }
  }
  return ok;
}

}  // namespace lockstep::cluster
