// Starting other programs without a shell: argv vectors go straight to execve, so addresses,
// paths and names from configs are never re-parsed by /bin/sh.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace lockstep::cluster {

struct RunResult {
  int exit_code = -1;   // -1 when killed by a signal
  std::string output;   // stdout and stderr, interleaved
};

// Runs ARGV to completion and captures its output. Throws ClusterError only if it cannot start.
RunResult run_capture(const std::vector<std::string>& argv);

// Runs ARGV and throws ClusterError("<what>: <first line of output>") unless it exits 0.
void run_checked(const std::vector<std::string>& argv, const std::string& what);

// How a long-running child is placed before exec.
struct SpawnOptions {
  std::string netns;                     // join /run/netns/<netns> (empty: stay)
  std::vector<std::string> cgroup_procs; // cgroup.procs files the child writes its pid into
  std::vector<std::string> env;          // "KEY=VALUE" added to (or replacing in) the environment
  std::string cwd;                       // empty: inherit
  std::string log_path;                  // stdout+stderr appended here; empty: /dev/null
};

// Forks and execs ARGV in its own session (so it outlives the caller and can be signalled as a
// group). Any failure before exec (netns, cgroup, chdir, exec itself) comes back as a
// ClusterError naming the step; on success the child is running ARGV[0].
pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

// Joins argv into one printable line (for logs and error messages only).
std::string argv_to_string(const std::vector<std::string>& argv);

}  // namespace lockstep::cluster
