// The eval loop: for each mode, bring the cluster up, warm up, run the client workload N times,
// read the divergences, take the cluster down — down always, also when a round fails or the
// user presses Ctrl-C. The cluster is behind ClusterControl so this loop does not depend on the
// cluster library (the CLI supplies it) and a test can drive it with a fake.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "eval/harness/client_output.h"
#include "eval/harness/report.h"

namespace lockstep::eval {
class SignalGuard;
}

namespace lockstep::eval::harness {

class ClusterControl {
 public:
  virtual ~ClusterControl() = default;
  // Brings the cluster up in MODE and returns the service address (host:port) the client uses.
  // Throws std::exception with one line on failure (having undone what it created).
  virtual std::string up(const std::string& mode) = 0;
  // Divergences per replica id from the nodes; nullopt when no node answered. Orig: empty map.
  virtual std::optional<std::map<int, int64_t>> divergences(const std::string& mode) = 0;
  // Removes everything of the cluster; idempotent, never throws.
  virtual void down() noexcept = 0;
  // Where a failed `up` left its logs (shown with the error).
  virtual std::string log_hint(const std::string& mode) const = 0;
};

struct RunOptions {
  std::string app;
  std::string workload;
  std::vector<std::string> modes;
  int rounds = 3;
  int requests = 0;
  int concurrency = 0;
  int warmup_requests = 0;  // 0: no warm-up
  std::chrono::seconds client_timeout{600};
  std::filesystem::path results_dir;  // exists; raw client output goes here
  std::string config;
  // The client command against TARGET with REQUESTS (concurrency fixed per run).
  std::function<std::vector<std::string>(const std::string& target, int requests)> client_argv;
};

// Thrown when a SIGINT/SIGTERM ended the run (after the cluster was taken down).
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted; the cluster was taken down") {}
};

// Runs every mode; progress lines go to PROGRESS. A failed mode or round is recorded in the
// report, never dropped. Throws Interrupted when SIGNALS fires (the cluster is down by then).
EvalReport run_eval(ClusterControl& cluster, const RunOptions& options, const OutputParser& parser,
                    SignalGuard& signals, std::ostream& progress);

// "ab" -> "/usr/bin/ab" through $PATH; a name with a slash is kept. Throws UsageError if absent.
std::string resolve_executable(const std::string& name);

}  // namespace lockstep::eval::harness
