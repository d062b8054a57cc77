#include "cluster/manager.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cluster/app.h"
#include "cluster/cgroup.h"
#include "cluster/dmt_mode.h"
#include "cluster/error.h"
#include "cluster/launcher.h"
#include "cluster/netns.h"
#include "cluster/readiness.h"
#include "cluster/subprocess.h"
#include "common/log.h"

namespace lockstep::cluster {
namespace fs = std::filesystem;
namespace {

constexpr auto kStopTimeout = std::chrono::seconds(5);
// Marks a replica's data directory as created by `cluster up`, so the next `up` may wipe it (and
// never wipes anything else).
constexpr const char* kDataMarker = ".lockstep-cluster-data";

bool is_mode(const std::string& m) { return m == "orig" || m == "proxy_only" || m == "dmt_only"; }

// One replica at the server port: the baseline, alone or under the DMT runtime.
bool single_server(const std::string& mode) { return mode == "orig" || mode == "dmt_only"; }

void check_mode(const UpOptions& o) {
  if (o.mode == "joint")
    throw UsageError("mode joint is not implemented yet: the proxy does not drive the DMT runtime yet "
                     "(orig, proxy_only, dmt_only)");
  if (!is_mode(o.mode)) throw UsageError(fmt::format("unknown mode '{}' (orig, proxy_only, dmt_only)", o.mode));
  if (o.mode == "proxy_only" && !o.node_available)
    throw ClusterError("mode proxy_only: node process not available yet (`lockstep node` has no proxy: no --app option)");
}

struct Interrupted : ClusterError {
  Interrupted() : ClusterError("interrupted; what this command had started was undone") {}
};

// Holds SIGINT and SIGTERM while `up`/`restart` work, so Ctrl-C becomes a ClusterError at the
// next check (and the RAII owners undo everything) instead of killing us halfway.
class InterruptGuard {
 public:
  InterruptGuard() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, &old_);
  }
  ~InterruptGuard() {
    // A signal that came in is consumed here: it was answered by unwinding.
    sigset_t pending;
    sigpending(&pending);
    for (int sig : {SIGINT, SIGTERM}) {
      if (sigismember(&pending, sig) && !sigismember(&old_, sig)) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        int got;
        sigwait(&one, &got);
      }
    }
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  static void check() {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM))
      throw Interrupted();
  }

 private:
  sigset_t old_;
};

// A process we started, stopped on scope exit unless released.
class OwnedProcess {
 public:
  OwnedProcess() = default;
  explicit OwnedProcess(ProcessRef ref) : ref_(ref) {}
  ~OwnedProcess() {
    if (ref_.pid > 0) stop_process(ref_, kStopTimeout);
  }
  OwnedProcess(OwnedProcess&& o) noexcept : ref_(o.ref_) { o.ref_ = {}; }
  OwnedProcess& operator=(OwnedProcess&&) = delete;
  void release() { ref_ = {}; }

 private:
  ProcessRef ref_;
};

std::string app_data_dir(const NodeSpec& node, const AppDef& app) { return node.data_dir + "/" + app.name; }

Vars server_vars(const NodeSpec& node, const AppDef& app, const std::string& data_dir) {
  return {{"host", node.host},       {"port", std::to_string(node.server_port)},
          {"id", std::to_string(node.id)}, {"data_dir", data_dir},
          {"app_dir", app.dir},      {"bin_dir", bin_dir()}};
}

// A fresh replica directory: `up` starts a new cluster, so the node's log of an earlier run and
// the server's old data go together (a stale log replayed into a fresh server would be wrong).
// Refuses to wipe a non-empty directory that `up` did not create.
void fresh_data_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::exists(dir + "/" + kDataMarker, ec) && !fs::is_empty(dir, ec))
      throw ClusterError(fmt::format("data directory {} exists and was not created by `lockstep cluster up`; "
                                     "remove it or change storage.data_dir", dir));
    fs::remove_all(dir, ec);
    if (ec) throw ClusterError(fmt::format("removing {}: {}", dir, ec.message()));
  }
  for (const char* sub : {"", "/logs"}) {
    fs::create_directories(dir + sub, ec);
    if (ec) throw ClusterError(fmt::format("creating {}{}: {}", dir, sub, ec.message()));
  }
  std::ofstream(dir + "/" + kDataMarker) << "created by `lockstep cluster up`; wiped by the next up\n";
}

// The last non-empty line of a log, to put the process's own complaint into our one-line error.
std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

void run_prepare(const AppDef& app, const Vars& vars, const std::string& log_path) {
  if (app.prepare.empty()) return;
  std::vector<std::string> argv = expand(app.prepare, vars);
  RunResult r = run_capture(argv);
  std::ofstream(log_path, std::ios::app) << r.output;
  if (r.exit_code != 0) {
    std::string line = last_line(log_path);
    throw ClusterError(fmt::format("app {} prepare failed ({}): {}", app.name, log_path,
                                   line.empty() ? "exit " + std::to_string(r.exit_code) : line));
  }
}

struct ReplicaRuntime {
  std::string netns;
  std::string cgroup_path;  // "" without quotas
};

// Starts the node (proxy_only) and the server of one replica, recording their PIDs in STATE
// (saved right away, so a crash of this process leaves them findable). Returns owners that stop
// them unless released.
std::vector<OwnedProcess> start_replica(const ClusterNames& names, ClusterState& state, const ClusterSpec& spec,
                                        const NodeSpec& node, const AppDef& app, Launcher& launcher,
                                        const UpOptions& options, const ReplicaRuntime& rt) {
  std::vector<OwnedProcess> owned;
  ReplicaState& rs = *state.replica(node.id);
  std::string data_dir = app_data_dir(node, app);
  Vars vars = server_vars(node, app, data_dir);
  if (state.mode == "proxy_only") {
    SpawnOptions opt;
    opt.netns = rt.netns;
    if (!rt.cgroup_path.empty()) opt.cgroup_procs.push_back(leaf_procs_file(rt.cgroup_path, ReplicaCgroup::Leaf::node));
    opt.cwd = node.data_dir;
    opt.log_path = rs.node_log;
    // Absolute: the node runs in the replica's data directory.
    std::string config = fs::absolute(spec.config_path).string();
    pid_t pid = spawn({options.lockstep_exe, "node", "--config", config, "--id", std::to_string(node.id),
                       "--app", app.name},
                      opt);
    rs.node = process_ref(pid);
    owned.emplace_back(rs.node);
    save_state(names, state);
  }
  LaunchRequest req;
  req.name = fmt::format("{}-server", rt.netns);
  req.argv = expand(app.server, vars);
  req.env = expand(app.server_env, vars);
  if (state.mode == "dmt_only") {
    DmtLaunch dmt{dmt_library(options.dmt_library), dmt_report_dir(node.data_dir) + "/report.json", rs.server_log};
    req.argv = dmt_argv(req.argv, req.env, dmt);
    log::info("replica {}: {} runs under the DMT runtime {} (reports {}[.N], runtime messages in {})", node.id,
              app.name, dmt.library, dmt.report, dmt.log);
  }
  req.netns = rt.netns;
  if (!rt.cgroup_path.empty()) req.cgroup_procs = leaf_procs_file(rt.cgroup_path, ReplicaCgroup::Leaf::server);
  req.cwd = data_dir;
  req.run_dir = names.run_dir();
  req.log_path = rs.server_log;
  pid_t pid = launcher.start(req);
  rs.server = process_ref(pid);
  owned.emplace_back(rs.server);
  save_state(names, state);
  log::info("replica {}: {} started ({} launcher, pid {})", node.id, app.name, launcher.kind(), pid);
  return owned;
}

void wait_ready_logged(const std::string& what, const std::string& host, uint16_t port, const ReadyCheck& check,
                       const ProcessRef& process, const std::string& log_path) {
  try {
    wait_ready(what, host, port, check, [process] {
      InterruptGuard::check();
      return process_alive(process);
    });
  } catch (const Interrupted&) {
    throw;
  } catch (const ClusterError& e) {
    std::string said = last_line(log_path);
    if (said.empty()) throw;
    throw ClusterError(fmt::format("{}; its log ends: {}", e.what(), said));
  }
}

void wait_replica_ready(const ReplicaState& rs, const AppDef& app, const std::string& mode,
                        const UpOptions& options) {
  wait_ready_logged(fmt::format("replica {} server ({}, log {})", rs.id, app.name, rs.server_log), rs.host,
                    rs.server_port, app.ready, rs.server, rs.server_log);
  if (mode == "dmt_only") {
    // The runtime must really be inside the server, not only in the launcher's command line.
    const std::string lib = dmt_library(options.dmt_library);
    const std::vector<pid_t> under = processes_with_library(rs.server.pid, lib);
    if (under.empty())
      throw ClusterError(fmt::format("replica {}: {} serves but no process of it has {} loaded (log {})", rs.id,
                                     app.name, lib, rs.server_log));
    std::string pids;
    for (pid_t p : under) pids += (pids.empty() ? "" : " ") + std::to_string(p);
    log::info("replica {}: DMT runtime loaded in pid(s) {}", rs.id, pids);
  }
  if (mode == "proxy_only") {
    wait_ready_logged(fmt::format("replica {} node (log {})", rs.id, rs.node_log), rs.host, rs.proxy_port,
                      ReadyCheck{"", app.ready.timeout_ms}, rs.node, rs.node_log);
  }
}

std::string service_address(const ReplicaState& rs, const std::string& mode) {
  return fmt::format("{}:{}", rs.host, single_server(mode) ? rs.server_port : rs.proxy_port);
}

bool leftovers_exist(const ClusterNames& names) {
  for (const auto& ns : list_netns())
    if (names.netns_id(ns)) return true;
  return link_exists(names.bridge());
}

std::optional<CpuHierarchy> try_cpu_hierarchy() {
  try {
    return find_cpu_hierarchy();
  } catch (const ClusterError&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<std::string> cluster_up(const ClusterSpec& spec, const UpOptions& options) {
  validate(spec);
  check_mode(options);
  ClusterNames names(spec.name);
  AppDef app = load_app(options.apps_dir, options.app);
  check_dmt_supported(app, options.mode);
  if (options.mode == "dmt_only") dmt_library(options.dmt_library);  // fails before anything is created
  ensure_packages(app);
  if (load_state(names) || leftovers_exist(names))
    throw ClusterError(fmt::format("cluster {} is already up or left over from a crash: run `lockstep cluster down "
                                   "--config {}` first", spec.name, spec.config_path));

  InterruptGuard interrupts;
  std::vector<NodeSpec> nodes = spec.nodes;
  if (single_server(options.mode)) nodes.resize(1);  // one server at replica 1's address

  std::optional<CpuHierarchy> cpu;
  if (spec.cpu_quota > 0) {
    cpu = find_cpu_hierarchy();
    log::info("CPU quota {} CPU per replica via {}", spec.cpu_quota, cpu->describe());
  } else {
    log::warn("cpu_quota_percent = 0 in {}: replicas run without a CPU quota", spec.config_path);
  }
  std::unique_ptr<Launcher> launcher = make_launcher(options.launcher);

  ClusterState state;
  state.cluster = spec.name;
  state.config_path = fs::absolute(spec.config_path).string();
  state.app = app.name;
  state.apps_dir = fs::absolute(options.apps_dir).string();
  state.mode = options.mode;
  state.launcher = launcher->kind();
  state.cpu_quota = spec.cpu_quota;
  if (cpu) {
    state.cgroup_path = cluster_cgroup_path(*cpu, names);
    state.cgroup_version = cpu->version == CgroupVersion::v2 ? "v2" : "v1";
  }
  for (const auto& n : nodes) {
    ReplicaState rs;
    rs.id = n.id;
    rs.host = n.host;
    rs.server_port = n.server_port;
    rs.proxy_port = n.proxy_port;
    rs.data_dir = app_data_dir(n, app);
    // Logs live beside the replica's data, not in the run directory, so they survive a failed up.
    rs.server_log = fmt::format("{}/logs/{}-server.log", n.data_dir, app.name);
    rs.node_log = fmt::format("{}/logs/node.log", n.data_dir);
    fresh_data_dir(n.data_dir);
    state.replicas.push_back(rs);
  }

  // Every object is recorded before it is created, so `down` finds it even if we die halfway.
  // Until the end, the RAII owners below undo everything if anything fails; this one is declared
  // first so it runs last: once the replica cgroups are gone, the empty cluster cgroup (and the
  // shared parent, if unused) and the state go too.
  struct UndoOnFailure {
    const ClusterNames& names;
    std::string cgroup_path;
    bool armed = true;
    ~UndoOnFailure() {
      if (!armed) return;
      if (!cgroup_path.empty()) {
        rmdir(cgroup_path.c_str());
        rmdir(fs::path(cgroup_path).parent_path().c_str());
      }
      remove_state(names);
    }
  } state_guard{names, state.cgroup_path};
  state.links.push_back(names.bridge());
  save_state(names, state);
  Bridge bridge(names.bridge(), spec.gateway, spec.prefix_len);

  std::vector<std::unique_ptr<ReplicaNamespace>> namespaces;
  std::vector<std::unique_ptr<ReplicaCgroup>> cgroups;
  std::vector<ReplicaRuntime> runtimes;
  for (const auto& n : nodes) {
    InterruptGuard::check();
    ReplicaRuntime rt{names.netns(n.id), ""};
    state.netns.push_back(rt.netns);
    state.links.push_back(names.veth_host(n.id));
    save_state(names, state);
    namespaces.push_back(std::make_unique<ReplicaNamespace>(rt.netns, names.veth_host(n.id), names.bridge(), n.host,
                                                            spec.prefix_len, spec.gateway,
                                                            std::vector<uint16_t>{n.peer_port, n.proxy_port, n.server_port}));
    if (cpu) {
      cgroups.push_back(std::make_unique<ReplicaCgroup>(*cpu, names, n.id, spec.cpu_quota));
      rt.cgroup_path = cgroups.back()->path();
    }
    runtimes.push_back(rt);
  }

  std::vector<OwnedProcess> processes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    InterruptGuard::check();
    const NodeSpec& n = nodes[i];
    std::string data_dir = app_data_dir(n, app);
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec) throw ClusterError(fmt::format("creating {}: {}", data_dir, ec.message()));
    run_prepare(app, server_vars(n, app, data_dir), fmt::format("{}/logs/{}-prepare.log", n.data_dir, app.name));
    for (auto& p : start_replica(names, state, spec, n, app, *launcher, options, runtimes[i]))
      processes.push_back(std::move(p));
  }
  for (const auto& rs : state.replicas) wait_replica_ready(rs, app, state.mode, options);

  for (const auto& rs : state.replicas) state.service.push_back(service_address(rs, state.mode));
  state.ready = true;
  save_state(names, state);
  for (auto& p : processes) p.release();
  for (auto& c : cgroups) c->release();
  for (auto& ns : namespaces) ns->release();
  bridge.release();
  state_guard.armed = false;
  return state.service;
}

std::vector<std::string> cluster_down(const std::string& cluster) {
  ClusterNames names(cluster);
  std::vector<std::string> removed;
  std::optional<ClusterState> state;
  try {
    state = load_state(names);
  } catch (const ClusterError& e) {
    log::warn("{}; removing by name", e.what());
  }
  if (state) {
    for (const auto& rs : state->replicas) {
      // The node first, so it does not see its server vanish while it still serves clients.
      for (const ProcessRef* ref : {&rs.node, &rs.server}) {
        if (!process_alive(*ref)) continue;
        // dmt_only: the server must end by itself to write the runtime's reports.
        if (ref == &rs.server && state->mode == "dmt_only" && state->launcher == "lxc" &&
            stop_container_payload(*ref, kStopTimeout)) {
          removed.push_back(fmt::format("process {} (replica {})", ref->pid, rs.id));
          continue;
        }
        bool killed = stop_process(*ref, kStopTimeout);
        removed.push_back(fmt::format("process {} (replica {}){}", ref->pid, rs.id, killed ? " (SIGKILL)" : ""));
      }
    }
  }
  // Processes may remain that were never recorded (a crash between fork and save, or children
  // of the server): the cgroups and the namespaces find them.
  std::vector<std::string> cgroup_dirs;
  if (state && !state->cgroup_path.empty()) cgroup_dirs.push_back(state->cgroup_path);
  if (auto cpu = try_cpu_hierarchy()) {
    std::string p = cluster_cgroup_path(*cpu, names);
    if (cgroup_dirs.empty() || cgroup_dirs.front() != p) cgroup_dirs.push_back(p);
  }
  for (const auto& dir : cgroup_dirs) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) continue;
    if (!remove_cgroup_tree(dir)) throw ClusterError(fmt::format("could not remove cgroup {} (see warnings)", dir));
    removed.push_back("cgroup " + dir);
    // The shared parent goes too once no cluster uses it.
    rmdir(fs::path(dir).parent_path().c_str());
  }
  for (auto& line : remove_cluster_network(names)) removed.push_back(std::move(line));
  std::error_code ec;
  if (fs::exists(names.run_dir(), ec)) {
    remove_state(names);
    removed.push_back("state " + names.run_dir());
  }
  return removed;
}

ClusterStatus cluster_status(const std::string& cluster, const NodeStatusFn& node_status) {
  ClusterNames names(cluster);
  ClusterStatus st;
  st.cluster = cluster;
  std::optional<ClusterState> state = load_state(names);
  if (!state) return st;
  st.up = true;
  st.ready = state->ready;
  st.app = state->app;
  st.mode = state->mode;
  st.launcher = state->launcher;
  std::optional<CpuHierarchy> cpu = state->cgroup_path.empty() ? std::nullopt : try_cpu_hierarchy();
  for (const auto& rs : state->replicas) {
    ReplicaStatus r;
    r.id = rs.id;
    r.host = rs.host;
    r.service = service_address(rs, state->mode);
    r.server_running = process_alive(rs.server);
    r.node_running = process_alive(rs.node);
    if (r.node_running && node_status) r.node = node_status(rs.host, rs.id);
    r.server_pid = rs.server.pid;
    r.node_pid = rs.node.pid;
    uint16_t port = single_server(state->mode) ? rs.server_port : rs.proxy_port;
    r.serving = probe_once(rs.host, port, ReadyCheck{}).empty();
    if (cpu) r.cpu_quota = read_cpu_quota(*cpu, replica_cgroup_path(*cpu, names, rs.id));
    st.replicas.push_back(r);
  }
  return st;
}

std::optional<std::string> leader_service(const ClusterStatus& status) {
  for (const auto& r : status.replicas) {
    auto role = r.node.find("role");
    if (r.node_running && role != r.node.end() && role->second == "leader") return r.service;
  }
  return std::nullopt;
}

std::optional<std::string> wait_leader_service(const std::string& cluster, const NodeStatusFn& node_status,
                                               std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    ClusterStatus st = cluster_status(cluster, node_status);
    if (!st.has_nodes()) return std::nullopt;
    if (auto s = leader_service(st)) return s;
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // an election takes 300-600 ms
  }
}

bool ClusterStatus::has_nodes() const {
  return std::any_of(replicas.begin(), replicas.end(), [](const ReplicaStatus& r) { return r.node_pid > 0; });
}

std::string ClusterStatus::to_json() const {
  nlohmann::json replicas_json = nlohmann::json::array();
  for (const auto& r : replicas) {
    // role/view/commit/connections/divergences come from the node process (not part of orig).
    replicas_json.push_back({{"id", r.id},
                             {"host", r.host},
                             {"service", r.service},
                             {"server_running", r.server_running},
                             {"server_pid", r.server_pid},
                             {"node_running", r.node_running},
                             {"node_pid", r.node_pid},
                             {"serving", r.serving},
                             {"cpu_quota", r.cpu_quota},
                             {"node", r.node}});
  }
  return nlohmann::json{{"cluster", cluster}, {"up", up},           {"ready", ready},
                        {"app", app},         {"mode", mode},       {"launcher", launcher},
                        {"replicas", replicas_json}}
      .dump();
}

std::string ClusterStatus::to_table() const {
  if (!up) return fmt::format("cluster {}: down\n", cluster);
  std::string out = fmt::format("cluster {}: app {}, mode {}, launcher {}{}\n", cluster, app, mode, launcher,
                                ready ? "" : " (up did not finish)");
  out += fmt::format("{:>3}  {:<21} {:<14} {:<14} {:<8} {:<9} {:>5} {:>9} {:>6} {:>5}  {}\n", "id", "service", "server",
                     "node", "serving", "role", "view", "commit", "conns", "div", "cpu quota (us/period)");
  for (const auto& r : replicas) {
    auto proc = [](bool running, int pid) {
      if (pid == 0) return std::string("-");
      return running ? fmt::format("up ({})", pid) : std::string("dead");
    };
    auto field = [&r](const char* key) {
      auto it = r.node.find(key);
      return it == r.node.end() ? std::string("-") : it->second;
    };
    out += fmt::format("{:>3}  {:<21} {:<14} {:<14} {:<8} {:<9} {:>5} {:>9} {:>6} {:>5}  {}\n", r.id, r.service,
                       proc(r.server_running, r.server_pid), proc(r.node_running, r.node_pid),
                       r.serving ? "yes" : "no", field("role"), field("view"), field("commit"),
                       field("connections"), field("divergences"), r.cpu_quota.empty() ? "none" : r.cpu_quota);
  }
  return out;
}

void cluster_kill(const std::string& cluster, int id) {
  ClusterNames names(cluster);
  std::optional<ClusterState> state = load_state(names);
  if (!state) throw ClusterError(fmt::format("cluster {} is not up", cluster));
  ReplicaState* rs = state->replica(id);
  if (!rs) throw UsageError(fmt::format("cluster {} has no running replica {}", cluster, id));
  std::vector<int> pids;
  for (const ProcessRef* ref : {&rs->server, &rs->node})
    if (process_alive(*ref)) pids.push_back(ref->pid);
  if (!state->cgroup_path.empty())
    for (int pid : cgroup_subtree_pids(fmt::format("{}/r{}", state->cgroup_path, id))) pids.push_back(pid);
  for (int pid : netns_pids(names.netns(id))) pids.push_back(pid);
  kill_all(pids, kStopTimeout);
  // The references stay, so status shows the processes as dead rather than never started.
}

void cluster_restart(const ClusterSpec& spec, int id, const UpOptions& options) {
  ClusterNames names(spec.name);
  std::optional<ClusterState> state = load_state(names);
  if (!state) throw ClusterError(fmt::format("cluster {} is not up", spec.name));
  if (!state->replica(id)) throw UsageError(fmt::format("cluster {} has no replica {}", spec.name, id));
  InterruptGuard interrupts;
  UpOptions opt = options;
  opt.app = state->app;
  opt.mode = state->mode;
  opt.apps_dir = state->apps_dir;
  check_mode(opt);
  cluster_kill(spec.name, id);  // whatever is left of the old incarnation
  state = load_state(names);
  AppDef app = load_app(state->apps_dir, state->app);
  std::unique_ptr<Launcher> launcher = make_launcher(state->launcher);
  ReplicaRuntime rt{names.netns(id), state->cgroup_path.empty() ? "" : fmt::format("{}/r{}", state->cgroup_path, id)};
  // The data directory is kept: a restarted replica resumes from its own state.
  std::vector<OwnedProcess> processes = start_replica(names, *state, spec, spec.node(id), app, *launcher, opt, rt);
  wait_replica_ready(*state->replica(id), app, state->mode, opt);
  for (auto& p : processes) p.release();
}

}  // namespace lockstep::cluster
