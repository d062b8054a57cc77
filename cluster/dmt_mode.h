// Mode dmt_only: the server of the one replica runs with the DMT runtime (liblockstep_dmt.so)
// preloaded. The runtime's variables are put on the server's own command line through
// /usr/bin/env rather than into the launcher's environment: with LXC, `lxc.environment` also
// reaches the container's init (init.lxc, itself dynamically linked), which must not run under
// the runtime.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace lockstep::cluster {

struct DmtLaunch {
  std::string library;  // absolute path of liblockstep_dmt.so
  std::string report;   // LOCKSTEP_DMT_REPORT (forked processes add .<index>)
  std::string log;      // LOCKSTEP_DMT_LOG: the runtime's messages (the server log)
};

// CONFIGURED if given, else $LOCKSTEP_DMT_LIB, else ../lib/liblockstep_dmt.so beside the lockstep
// binary. ClusterError (one line) if it does not exist.
std::string dmt_library(const std::string& configured);

// ARGV (program resolved to an absolute path) prefixed so that it runs under the runtime:
// /usr/bin/env LD_PRELOAD=LIB[:app's LD_PRELOAD] LOCKSTEP_DMT_REPORT=… LOCKSTEP_DMT_LOG=…
//              LOCKSTEP_DMT_IDLE=real LOCKSTEP_DMT_SPIN=0 [LOCKSTEP_DMT_* set in our own environment] PROGRAM ARGS…
// (env applies the later of two settings of a name, so the caller's own LOCKSTEP_DMT_IDLE wins.)
// APP_ENV is the app's server_env (an LD_PRELOAD there is kept after the runtime).
std::vector<std::string> dmt_argv(const std::vector<std::string>& argv, const std::vector<std::string>& app_env,
                                  const DmtLaunch& dmt);

// The directory for the runtime's reports in a replica directory: created world-writable (with
// the sticky bit), because servers such as apache write from a child that dropped to another user.
std::string dmt_report_dir(const std::string& replica_dir);

// PIDs of ROOT and all its descendants that have LIBRARY mapped (/proc/PID/maps).
std::vector<pid_t> processes_with_library(pid_t root, const std::string& library);

}  // namespace lockstep::cluster
