#include "cluster/dmt_mode.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "cluster/error.h"
#include "cluster/launcher.h"
#include "dmt/launch/launch.h"

namespace lockstep::cluster {
namespace fs = std::filesystem;

std::string dmt_library(const std::string& configured) {
  std::string lib;
  if (!configured.empty()) {
    lib = configured;
  } else {
    try {
      lib = dmt::launch::default_library();
    } catch (const std::exception& e) {
      throw ClusterError(fmt::format("mode dmt_only: {}", e.what()));
    }
  }
  std::error_code ec;
  if (!fs::is_regular_file(lib, ec))
    throw ClusterError(fmt::format("mode dmt_only: runtime library {} not found (build target lockstep_dmt)", lib));
  return fs::absolute(lib).lexically_normal().string();
}

std::vector<std::string> dmt_argv(const std::vector<std::string>& argv, const std::vector<std::string>& app_env,
                                  const DmtLaunch& dmt) {
  if (argv.empty()) throw UsageError("server command is empty");
  std::string preload = dmt.library;
  for (const auto& e : app_env)
    if (e.rfind("LD_PRELOAD=", 0) == 0 && e.size() > 11) preload += ":" + e.substr(11);
  std::vector<std::string> out = {"/usr/bin/env", "LD_PRELOAD=" + preload};
  if (!dmt.report.empty()) out.push_back("LOCKSTEP_DMT_REPORT=" + dmt.report);
  if (!dmt.log.empty()) out.push_back("LOCKSTEP_DMT_LOG=" + dmt.log);
  // A server's maintenance loop (apache's parent: waitpid WNOHANG, sleep 1 s, …) must sleep in
  // real time rather than jump through its logical sleeps at full speed, eating the replica's CPU.
  out.push_back("LOCKSTEP_DMT_IDLE=real");
  // No spinning for the turn: a replica has a CPU quota (and this machine few cores), and a
  // waiter spinning burns the quota the turn holder needs. Measured with apache's static page
  // under a 50% quota: ~2,500 req/s without spinning, ~800 with the runtime's default 1000.
  out.push_back("LOCKSTEP_DMT_SPIN=0");
  // Tuning and diagnosis options given to `lockstep cluster up` itself reach the server (tests
  // set a trace and a short watchdog this way).
  for (const char* name : {"LOCKSTEP_DMT_TRACE", "LOCKSTEP_DMT_WATCHDOG_S", "LOCKSTEP_DMT_STALL_ABORT",
                           "LOCKSTEP_DMT_NS_PER_TURN", "LOCKSTEP_DMT_SPIN", "LOCKSTEP_DMT_CLOCK",
                           "LOCKSTEP_DMT_KEEP_TURN_IN_CS", "LOCKSTEP_DMT_IDLE", "LOCKSTEP_DMT_DISABLE"}) {
    if (const char* v = std::getenv(name); v && *v) out.push_back(fmt::format("{}={}", name, v));
  }
  // env would take a program name containing '=' for one more variable.
  std::string program = resolve_program(argv[0]);
  if (program.find('=') != std::string::npos)
    throw UsageError(fmt::format("server program {} contains '=': cannot run it under the DMT runtime", program));
  out.push_back(program);
  out.insert(out.end(), argv.begin() + 1, argv.end());
  return out;
}

std::string dmt_report_dir(const std::string& replica_dir) {
  std::string dir = replica_dir + "/dmt";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ClusterError(fmt::format("creating {}: {}", dir, ec.message()));
  if (chmod(dir.c_str(), 01777) != 0) throw ClusterError(fmt::format("chmod {}: failed", dir));
  return dir;
}

namespace {

pid_t parent_of(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string line;
  if (!std::getline(in, line)) return -1;
  // pid (comm) state ppid ...: comm may hold spaces and parentheses; it ends at the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 4 >= line.size()) return -1;
  char state = 0;
  int ppid = -1;
  if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) != 2) return -1;
  return ppid;
}

bool maps_library(pid_t pid, const std::string& library) {
  std::ifstream in(fmt::format("/proc/{}/maps", pid));
  std::string line;
  while (std::getline(in, line))
    if (line.size() >= library.size() && line.compare(line.size() - library.size(), library.size(), library) == 0)
      return true;
  return false;
}

}  // namespace

std::vector<pid_t> processes_with_library(pid_t root, const std::string& library) {
  std::multimap<pid_t, pid_t> children;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    const pid_t ppid = parent_of(e.path().string() + "/stat");
    if (ppid > 0) children.emplace(ppid, pid);
  }
  std::vector<pid_t> found, todo = {root};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    if (maps_library(p, library)) found.push_back(p);
    auto [b, e] = children.equal_range(p);
    for (auto it = b; it != e; ++it) todo.push_back(it->second);
  }
  return found;
}

}  // namespace lockstep::cluster
