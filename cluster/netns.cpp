#include "cluster/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "cluster/error.h"
#include "cluster/proc.h"
#include "cluster/subprocess.h"
#include "common/log.h"

namespace lockstep::cluster {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> list_dir(const char* dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string cidr(const std::string& addr, int prefix_len) { return fmt::format("{}/{}", addr, prefix_len); }

// An open file descriptor, closed when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  explicit operator bool() const { return fd_ >= 0; }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Kernel settings of a new namespace, written before its interfaces exist (they copy the
// namespace's `default` settings when created):
// - IPv6 duplicate address detection off (`all` and `default`; the kernel skips DAD only if both
//   are off). With DAD on, eth0's link-local address stays tentative for 1-2 s after it comes up
//   and a server binding it (libupnp binds every address of its interface) fails with
//   EADDRNOTAVAIL. The replica is alone on its bridge with a unique address: nothing to detect.
// - The replica's own ports reserved from the ephemeral range: the node starts (and connects to
//   its peers) before the server binds server_port, and a port like 49152 lies inside Linux's
//   ephemeral range, so an outgoing connection could otherwise take it first.
// /proc/sys/net shows the namespace of the thread that opens it, and setns(CLONE_NEWNET) moves
// only the calling thread: a short-lived thread joins the namespace and writes the settings.
void configure_namespace(const std::string& netns, const std::vector<uint16_t>& reserved_ports) {
  std::error_code ec;
  std::vector<std::pair<std::string, std::string>> settings;
  if (fs::exists("/proc/sys/net/ipv6", ec)) {  // IPv6 disabled: no link-local addresses either
    settings.emplace_back("/proc/sys/net/ipv6/conf/all/accept_dad", "0\n");
    settings.emplace_back("/proc/sys/net/ipv6/conf/default/accept_dad", "0\n");
  }
  if (!reserved_ports.empty()) {
    std::string ports;
    for (uint16_t port : reserved_ports) ports += (ports.empty() ? "" : ",") + std::to_string(port);
    settings.emplace_back("/proc/sys/net/ipv4/ip_local_reserved_ports", ports + "\n");
  }
  std::string error;
  std::thread([&netns, &settings, &error] {
    UniqueFd ns(::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns || ::setns(ns.get(), CLONE_NEWNET) != 0) {
      error = fmt::format("joining {}: {}", netns, std::strerror(errno));
      return;
    }
    for (const auto& [path, value] : settings) {
      UniqueFd f(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
      if (!f || ::write(f.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
        error = fmt::format("{}: {}", path, std::strerror(errno));
        return;
      }
    }
  }).join();
  if (!error.empty()) throw ClusterError(fmt::format("configuring namespace {}: {}", netns, error));
}

}  // namespace

std::vector<std::string> list_netns() { return list_dir("/run/netns"); }
std::vector<std::string> list_links() { return list_dir("/sys/class/net"); }

bool netns_exists(const std::string& name) {
  std::error_code ec;
  return fs::exists("/run/netns/" + name, ec);
}

bool link_exists(const std::string& name) {
  std::error_code ec;
  return fs::exists("/sys/class/net/" + name, ec);
}

std::vector<int> netns_pids(const std::string& name) {
  std::vector<int> pids;
  if (!netns_exists(name)) return pids;
  RunResult r = run_capture({"ip", "netns", "pids", name});
  if (r.exit_code != 0) return pids;
  std::istringstream in(r.output);
  int pid;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

std::string interface_in_subnet(const std::string& address, int prefix_len) {
  auto parse = [](const std::string& text, uint32_t& out) {
    in_addr a{};
    if (inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
  };
  auto mask = [](int len) { return len <= 0 ? 0u : ~uint32_t{0} << (32 - len); };
  uint32_t ours;
  if (!parse(address, ours)) return "";
  RunResult r = run_capture({"ip", "-o", "-4", "addr", "show"});
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    // "7: lkb-x    inet 10.77.0.254/24 brd ... scope global lkb-x\ ..."
    std::istringstream f(line);
    std::string index, dev, family, cidr_text;
    f >> index >> dev >> family >> cidr_text;
    size_t slash = cidr_text.find('/');
    uint32_t theirs;
    if (family != "inet" || slash == std::string::npos || !parse(cidr_text.substr(0, slash), theirs)) continue;
    int len = std::min(prefix_len, std::stoi(cidr_text.substr(slash + 1)));
    if ((ours & mask(len)) == (theirs & mask(len))) return dev;
  }
  return "";
}

void delete_netns(const std::string& name) {
  if (netns_exists(name)) run_checked({"ip", "netns", "delete", name}, "deleting namespace " + name);
}

void delete_link(const std::string& name) {
  if (!link_exists(name)) return;
  RunResult r = run_capture({"ip", "link", "delete", name});
  // A veth also disappears on its own once its namespace is gone: only a link that stays is an error.
  if (r.exit_code != 0 && link_exists(name))
    throw ClusterError(fmt::format("deleting link {}: {}", name, r.output.substr(0, r.output.find('\n'))));
}

Bridge::Bridge(std::string name, const std::string& gateway, int prefix_len) : name_(std::move(name)) {
  if (link_exists(name_))
    throw ClusterError(fmt::format("bridge {} already exists (run `lockstep cluster down` first)", name_));
  if (std::string dev = interface_in_subnet(gateway, prefix_len); !dev.empty())
    throw ClusterError(fmt::format("subnet of {}/{} is already used by interface {} (another cluster?)", gateway,
                                   prefix_len, dev));
  run_checked({"ip", "link", "add", name_, "type", "bridge"}, "creating bridge " + name_);
  try {
    run_checked({"ip", "addr", "add", cidr(gateway, prefix_len), "dev", name_},
                fmt::format("adding {} to bridge {}", gateway, name_));
    run_checked({"ip", "link", "set", name_, "up"}, "bringing up bridge " + name_);
  } catch (...) {
    try {
      delete_link(name_);
    } catch (const std::exception& e) {
      log::warn("{}", e.what());
    }
    throw;
  }
}

Bridge::~Bridge() {
  if (!owned_) return;
  try {
    delete_link(name_);
  } catch (const std::exception& e) {
    log::warn("{}", e.what());
  }
}

ReplicaNamespace::ReplicaNamespace(std::string netns, std::string veth_host, const std::string& bridge,
                                   const std::string& host, int prefix_len, const std::string& gateway,
                                   const std::vector<uint16_t>& reserved_ports)
    : netns_(std::move(netns)), veth_host_(std::move(veth_host)) {
  if (netns_exists(netns_))
    throw ClusterError(fmt::format("namespace {} already exists (run `lockstep cluster down` first)", netns_));
  run_checked({"ip", "netns", "add", netns_}, "creating namespace " + netns_);
  try {
    configure_namespace(netns_, reserved_ports);
    const std::string inner = ClusterNames::veth_inner();
    run_checked({"ip", "link", "add", veth_host_, "type", "veth", "peer", "name", inner, "netns", netns_},
                "creating veth " + veth_host_);
    run_checked({"ip", "link", "set", veth_host_, "master", bridge}, "attaching " + veth_host_ + " to " + bridge);
    run_checked({"ip", "link", "set", veth_host_, "up"}, "bringing up " + veth_host_);
    run_checked({"ip", "-n", netns_, "addr", "add", cidr(host, prefix_len), "dev", inner},
                fmt::format("adding {} in {}", host, netns_));
    run_checked({"ip", "-n", netns_, "link", "set", "lo", "up"}, "bringing up lo in " + netns_);
    run_checked({"ip", "-n", netns_, "link", "set", inner, "up"}, "bringing up eth0 in " + netns_);
    run_checked({"ip", "-n", netns_, "route", "add", "default", "via", gateway},
                "adding default route in " + netns_);
  } catch (...) {
    remove();
    throw;
  }
}

ReplicaNamespace::~ReplicaNamespace() {
  if (owned_) remove();
}

void ReplicaNamespace::remove() noexcept {
  try {
    kill_all(netns_pids(netns_), std::chrono::seconds(5));
    delete_netns(netns_);  // takes eth0 and with it the veth peer
    delete_link(veth_host_);
  } catch (const std::exception& e) {
    log::warn("{}", e.what());
  }
}

std::vector<std::string> remove_cluster_network(const ClusterNames& names) {
  std::vector<std::string> removed;
  for (const auto& ns : list_netns()) {
    if (!names.netns_id(ns)) continue;
    kill_all(netns_pids(ns), std::chrono::seconds(5));
    delete_netns(ns);
    removed.push_back("namespace " + ns);
  }
  for (const auto& link : list_links()) {
    if (!names.veth_id(link)) continue;
    delete_link(link);
    removed.push_back("veth " + link);
  }
  if (link_exists(names.bridge())) {
    delete_link(names.bridge());
    removed.push_back("bridge " + names.bridge());
  }
  return removed;
}

}  // namespace lockstep::cluster
