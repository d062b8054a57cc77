// Starting a server inside a replica: in its network namespace, its cgroup, with its private data
// directory as working directory.
//   lxc    `lxc-execute` application container (own mount/pid/uts/ipc namespaces, no rootfs,
//          `lxc.net.0.type = none` so it keeps the replica's network namespace that the launcher
//          joins before exec). The generated config lives in <run_dir>/lxc/<name>.conf.
//   plain  fork/exec without a container: the fallback when LXC is not installed.
// Both return the PID of the process they started; stopping it (SIGTERM, later SIGKILL) stops
// the server (lxc-execute forwards the signal to the container).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace lockstep::cluster {

struct LaunchRequest {
  std::string name;                // unique per cluster, e.g. lkst-<cluster>-<id>-server
  std::vector<std::string> argv;   // the server command, placeholders already expanded
  std::vector<std::string> env;    // KEY=VALUE
  std::string netns;               // replica namespace (empty: root namespace)
  std::string cgroup_procs;        // cgroup.procs to join (empty: none)
  std::string cwd;                 // the replica's data directory
  std::string run_dir;             // where the launcher may write its own files
  std::string log_path;            // stdout+stderr of the server
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  virtual std::string kind() const = 0;
  virtual pid_t start(const LaunchRequest& request) = 0;
};

std::unique_ptr<Launcher> make_plain_launcher();
std::unique_ptr<Launcher> make_lxc_launcher();

// CHOICE is "lxc", "plain" or "auto" (lxc when lxc-execute is installed, else plain with a
// warning saying so). "lxc" without LXC installed is a ClusterError.
std::unique_ptr<Launcher> make_launcher(const std::string& choice);

bool lxc_available();

// EXE if it holds a '/', else its absolute path from $PATH (or the default PATH); ClusterError if
// not found. LXC clears the environment, so commands run in containers need absolute paths.
std::string resolve_program(const std::string& exe);

}  // namespace lockstep::cluster
