// A child process started by a benchmark and always stopped by its PID: SIGTERM, a grace
// period, then SIGKILL, and reaped. The child gets its own process group (so a terminal's
// Ctrl-C reaches only the benchmark, which then stops it in order) and dies with its parent
// (PR_SET_PDEATHSIG) if the benchmark is killed outright.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lockstep::eval {

class ChildProcess {
 public:
  // Starts ARGV (argv[0] a path) with stdout and stderr appended to LOG. Throws on failure.
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log);
  ~ChildProcess();  // stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // If the child has exited: a description like "exited with status 1" / "killed by signal 9".
  std::optional<std::string> exited();
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000)) noexcept;
  // The last LINES lines of the log, for error messages.
  std::string log_tail(int lines = 5) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_;
};

// User + system CPU seconds used so far by the live process PID (from /proc/PID/stat); 0 if gone.
double process_cpu_seconds(pid_t pid);

}  // namespace lockstep::eval
