#include "eval/harness/runner.h"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "eval/harness/error.h"
#include "eval/harness/progress.h"
#include "eval/proc/child_process.h"
#include "eval/proc/signal_guard.h"

namespace lockstep::eval::harness {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Takes the cluster down when the mode is over, whichever way it ends.
class DownGuard {
 public:
  explicit DownGuard(ClusterControl& c) : c_(c) {}
  ~DownGuard() { c_.down(); }
  DownGuard(const DownGuard&) = delete;
  DownGuard& operator=(const DownGuard&) = delete;

 private:
  ClusterControl& c_;
};

struct ClientRun {
  bool ok = false;
  std::string error;
  double seconds = 0;
};

// Runs the client to completion (or timeout / signal), its output appended to LOG.
// Calls STILL_RUNNING(seconds so far) every INTERVAL while the client runs, so a long round
// shows it is alive.
ClientRun run_client(std::vector<std::string> argv, const std::filesystem::path& log, std::chrono::seconds timeout,
                     SignalGuard& signals, std::chrono::milliseconds interval,
                     const std::function<void(double)>& still_running) {
  ClientRun out;
  argv.at(0) = resolve_executable(argv.at(0));
  const auto start = Clock::now();
  ChildProcess child(std::move(argv), log);
  const auto deadline = start + timeout;
  auto next_report = start + interval;
  while (true) {
    if (auto how = child.exited()) {
      out.seconds = seconds_since(start);
      out.ok = *how == "exited with status 0";
      if (!out.ok) out.error = "client " + *how + ": " + child.log_tail(3);
      return out;
    }
    if (signals.pending()) throw Interrupted();  // ~ChildProcess stops the client
    if (Clock::now() >= deadline) {
      child.stop();
      out.seconds = seconds_since(start);
      out.error = fmt::format("client did not finish within {} s", timeout.count());
      return out;
    }
    if (interval.count() > 0 && Clock::now() >= next_report) {
      next_report += interval;
      still_running(seconds_since(start));
    }
    // Wakes on a signal at once, else checks the child every 20 ms.
    pollfd p{signals.fd(), POLLIN, 0};
    poll(&p, 1, 20);
  }
}

EvalReport empty_report(const RunOptions& o) {
  EvalReport report;
  report.app = o.app;
  report.label = o.label;
  report.workload = o.workload;
  report.requests = o.requests;
  report.concurrency = o.concurrency;
  report.rounds = o.rounds;
  report.config = o.config;
  report.results_dir = o.results_dir.string();
  return report;
}

}  // namespace

std::string resolve_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw UsageError("client program '" + name + "' not found in PATH");
}

EvalReport run_eval(ClusterControl& cluster, const RunOptions& o, const OutputParser& parser, SignalGuard& signals,
                    std::ostream& progress_out) {
  Progress progress(progress_out, 1, static_cast<int>(o.modes.size()), o.rounds);
  EvalReport report = run_eval(cluster, o, parser, signals, progress);
  progress.say(o.name(), "all", fmt::format("done in {:.1f}s", progress.elapsed()));
  return report;
}

EvalReport run_eval(ClusterControl& cluster, const RunOptions& o, const OutputParser& parser, SignalGuard& signals,
                    Progress& progress) {
  EvalReport report = empty_report(o);
  for (const auto& rule : parser.rules()) {
    report.metric_order.push_back(rule.name);
    report.units[rule.name] = rule.unit;
  }
  const std::string throughput_unit = report.units.count("throughput") ? report.units.at("throughput") : "";
  progress.app_started(o.name());
  auto say = [&](const std::string& mode, const std::string& what) { progress.say(o.name(), mode, what); };

  for (const auto& mode : o.modes) {
    ModeRecord rec;
    rec.mode = mode;
    progress.mode_started(mode);
    if (auto refused = o.refused_modes.find(mode); refused != o.refused_modes.end()) {
      rec.error = refused->second;
      say(mode, "FAILED, not run: " + rec.error);
      progress.mode_done(false);
      report.modes.push_back(std::move(rec));
      continue;
    }
    {
      DownGuard down(cluster);
      try {
        say(mode, "cluster up (" + progress.position() + ")");
        rec.target = cluster.up(mode);
      } catch (const std::exception& e) {
        rec.error = std::string("cluster up failed: ") + e.what();
        rec.log = cluster.log_hint(mode);
        say(mode, "FAILED: " + rec.error);
        if (signals.pending()) throw Interrupted();
        progress.mode_done(false);
        report.modes.push_back(std::move(rec));
        continue;
      }
      if (signals.pending()) throw Interrupted();

      bool ok = true;
      if (o.warmup_requests > 0) {
        const auto log = o.results_dir / fmt::format("{}-{}-warmup.txt", o.name(), mode);
        say(mode, fmt::format("warm-up ({} requests against {})", o.warmup_requests, rec.target));
        ClientRun w = run_client(o.client_argv(rec.target, o.warmup_requests), log, o.client_timeout, signals,
                                 o.progress_interval, [&](double s) {
                                   say(mode, fmt::format("warm-up running for {}", format_duration(s)));
                                 });
        if (!w.ok) {
          ok = false;
          rec.error = "warm-up failed: " + w.error;
          rec.log = log.string();
          say(mode, "FAILED: " + rec.error);
        }
      }
      for (int round = 1; ok && round <= o.rounds; ++round) {
        RoundRecord rr;
        rr.round = round;
        const auto log = o.results_dir / fmt::format("{}-{}-round{}.txt", o.name(), mode, round);
        rr.log = log.string();
        say(mode, fmt::format("round {}/{} ({} requests, concurrency {}, against {}; {})", round, o.rounds,
                              o.requests, o.concurrency, rec.target, progress.position()));
        ClientRun run = run_client(o.client_argv(rec.target, o.requests), log, o.client_timeout, signals,
                                   o.progress_interval, [&](double s) {
                                     say(mode, fmt::format("round {}/{} running for {}", round, o.rounds,
                                                           format_duration(s)));
                                   });
        rr.seconds = run.seconds;
        progress.round_done(run.seconds);
        ClientNumbers numbers = parser.parse(read_file(log));
        rr.metrics = numbers.values;
        if (!run.ok) {
          rr.error = run.error;
        } else if (!numbers.missing.empty()) {
          std::string names;
          for (const auto& n : numbers.missing) names += (names.empty() ? "" : ", ") + n;
          rr.error = "client output lacks " + names;
        } else {
          rr.ok = true;
        }
        if (rr.ok) {
          say(mode, fmt::format("round {}/{} done in {:.1f}s: {:.1f} {}, {} failed", round, o.rounds, rr.seconds,
                                rr.metrics.count("throughput") ? rr.metrics.at("throughput") : 0.0, throughput_unit,
                                numbers.failed));
        } else {
          ok = false;
          rec.error = fmt::format("round {} failed: {}", round, rr.error);
          rec.log = rr.log;
          say(mode, "FAILED: " + rec.error + " (log: " + rr.log + ")");
        }
        rec.rounds.push_back(std::move(rr));
      }
      rec.divergences = cluster.divergences(mode);
      rec.ok = ok;
      say(mode, "cluster down");
    }
    progress.mode_done(rec.ok);
    report.modes.push_back(std::move(rec));
  }
  return report;
}

EvalReport failed_report(const RunOptions& o, const std::string& error, const std::string& log) {
  EvalReport report = empty_report(o);
  for (const auto& mode : o.modes) {
    ModeRecord rec;
    rec.mode = mode;
    rec.error = error;
    rec.log = log;
    report.modes.push_back(std::move(rec));
  }
  return report;
}

SuiteReport run_suite(const std::vector<PlannedApp>& plan, const ClusterFactory& make_cluster, SignalGuard& signals,
                      Progress& progress) {
  SuiteReport suite;
  for (const auto& app : plan) {
    if (suite.interrupted) {
      suite.apps.push_back(failed_report(app.options, "not run: the run was interrupted", ""));
      continue;
    }
    if (!app.parser) {
      progress.app_skipped(app.options.name());
      progress.say(app.options.name(), "all", "FAILED, not run: " + app.error);
      suite.apps.push_back(failed_report(app.options, app.error, app.log));
      continue;
    }
    std::unique_ptr<ClusterControl> cluster = make_cluster(app.options);
    try {
      suite.apps.push_back(run_eval(*cluster, app.options, *app.parser, signals, progress));
    } catch (const Interrupted&) {
      // The cluster is down; what finished before stays in the report, the rest says why not.
      suite.interrupted = true;
      suite.apps.push_back(failed_report(app.options, "interrupted (its raw outputs so far are in the results dir)", ""));
    }
  }
  progress.say("all", "apps", fmt::format("{} {}", suite.interrupted ? "interrupted after" : "done in",
                                          format_duration(progress.elapsed())));
  return suite;
}

}  // namespace lockstep::eval::harness
