// Finding and stopping processes by PID across invocations of `lockstep`: `cluster up` starts a
// server and exits; `cluster down` (another process, maybe after a crash) stops it. A PID alone
// may have been reused by then, so every recorded PID carries its kernel start time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace lockstep::cluster {

struct ProcessRef {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat field 22 (clock ticks since boot)
};

// The start time of PID, or 0 if it does not exist (or is a zombie).
uint64_t process_start_time(pid_t pid);

// Records PID as it is now.
ProcessRef process_ref(pid_t pid);

// True if the process still exists, is not a zombie and is the same process (same start time).
bool process_alive(const ProcessRef& ref);

// SIGTERM to the process (and its process group when it leads one), then SIGKILL once TIMEOUT
// has passed. Reaps it when it is our child. Returns true if it had to be killed.
bool stop_process(const ProcessRef& ref, std::chrono::milliseconds timeout);

// Direct children of PID (/proc/PID/task/*/children).
std::vector<pid_t> child_pids(pid_t pid);

// LAUNCHER is an lxc-execute process: SIGTERM goes to the processes its container's init runs
// (the server, not init: LXC's init answers SIGTERM by SIGKILLing everything one second later,
// too soon for a server to shut down cleanly — under the DMT runtime, to write its reports).
// Waits up to TIMEOUT for the launcher to exit on its own; true if it did.
bool stop_container_payload(const ProcessRef& launcher, std::chrono::milliseconds timeout);

// PIDs listed in a cgroup.procs file (empty if it does not exist).
std::vector<pid_t> read_pids(const std::string& procs_file);

// SIGKILLs every listed PID and waits (up to TIMEOUT) until none of them is alive.
void kill_all(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout);

}  // namespace lockstep::cluster
