// The eval loop: for each app, for each mode, bring the cluster up, warm up, run the client workload N times,
// read the divergences, take the cluster down — down always, also when a round fails or the
// user presses Ctrl-C. The cluster is behind ClusterControl so this loop does not depend on the
// cluster library (the CLI supplies it) and a test can drive it with a fake.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "eval/harness/client_output.h"
#include "eval/harness/progress.h"
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
  std::string label;  // "APP-WORKLOAD" when the run has several workloads of APP (EvalReport::label)
  std::string workload;
  std::vector<std::string> modes;
  int rounds = 3;
  int requests = 0;
  int concurrency = 0;
  int warmup_requests = 0;  // 0: no warm-up
  std::chrono::seconds client_timeout{600};
  const std::string& name() const { return label.empty() ? app : label; }
  // A progress line every this long while a client runs (0: none).
  std::chrono::milliseconds progress_interval{60000};
  std::filesystem::path results_dir;  // exists; raw client output goes here
  std::string config;
  // Modes not even tried, with the reason (an app that cannot run under the DMT runtime in a run
  // over several apps): reported failed like the others, no cluster is brought up for them.
  std::map<std::string, std::string> refused_modes;
  // The client command against TARGET with REQUESTS (concurrency fixed per run).
  std::function<std::vector<std::string>(const std::string& target, int requests)> client_argv;
};

// Thrown when a SIGINT/SIGTERM ended the run (after the cluster was taken down).
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted; the cluster was taken down") {}
};

// Runs every mode of one app; progress lines go to PROGRESS. A failed mode or round is recorded
// in the report, never dropped. Throws Interrupted when SIGNALS fires (the cluster is down by
// then).
EvalReport run_eval(ClusterControl& cluster, const RunOptions& options, const OutputParser& parser,
                    SignalGuard& signals, Progress& progress);
// The same with a progress of this one app on PROGRESS_OUT.
EvalReport run_eval(ClusterControl& cluster, const RunOptions& options, const OutputParser& parser,
                    SignalGuard& signals, std::ostream& progress_out);

// One app of a run over several. Without a parser the app could not be prepared (app.cfg does
// not load, a package or the client is missing): every mode is reported failed with ERROR and
// LOG, nothing is started.
struct PlannedApp {
  RunOptions options;
  std::optional<OutputParser> parser;
  std::string error;
  std::string log;
};

// The cluster for one app (the CLI's LocalCluster; a fake in tests).
using ClusterFactory = std::function<std::unique_ptr<ClusterControl>(const RunOptions&)>;

// Every app of PLAN in order, each through run_eval with its own cluster (taken down after each
// mode). On SIGINT/SIGTERM it stops and returns what finished, the interrupted and the remaining
// apps reported failed ("interrupted", "not run"), with SuiteReport::interrupted set.
SuiteReport run_suite(const std::vector<PlannedApp>& plan, const ClusterFactory& make_cluster, SignalGuard& signals,
                      Progress& progress);

// The report of an app that did not run: every mode failed with ERROR.
EvalReport failed_report(const RunOptions& options, const std::string& error, const std::string& log);

// "ab" -> "/usr/bin/ab" through $PATH; a name with a slash is kept. Throws UsageError if absent.
std::string resolve_executable(const std::string& name);

}  // namespace lockstep::eval::harness
