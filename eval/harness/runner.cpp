#include "eval/harness/runner.h"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "eval/harness/error.h"
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
ClientRun run_client(std::vector<std::string> argv, const std::filesystem::path& log, std::chrono::seconds timeout,
                     SignalGuard& signals) {
  ClientRun out;
  argv.at(0) = resolve_executable(argv.at(0));
  const auto start = Clock::now();
  ChildProcess child(std::move(argv), log);
  const auto deadline = start + timeout;
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
    // Wakes on a signal at once, else checks the child every 20 ms.
    pollfd p{signals.fd(), POLLIN, 0};
    poll(&p, 1, 20);
  }
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
                    std::ostream& progress) {
  EvalReport report;
  report.app = o.app;
  report.workload = o.workload;
  report.requests = o.requests;
  report.concurrency = o.concurrency;
  report.rounds = o.rounds;
  report.config = o.config;
  report.results_dir = o.results_dir.string();
  for (const auto& rule : parser.rules()) report.metric_order.push_back(rule.name);

  const auto started = Clock::now();
  // For the estimate of what is left: client time per round so far, rounds still to run.
  double round_seconds = 0;
  int rounds_done = 0;
  int rounds_left = static_cast<int>(o.modes.size()) * o.rounds;
  auto left = [&]() -> std::string {
    if (rounds_done == 0) return "";
    return fmt::format(", ~{:.0f}s of rounds left", round_seconds / rounds_done * rounds_left);
  };
  auto say = [&](const std::string& mode, const std::string& what) {
    progress << fmt::format("[eval {:7.1f}s] {} {}: {}", seconds_since(started), o.app, mode, what) << std::endl;
  };

  for (const auto& mode : o.modes) {
    ModeRecord rec;
    rec.mode = mode;
    {
      DownGuard down(cluster);
      try {
        say(mode, "cluster up");
        rec.target = cluster.up(mode);
      } catch (const std::exception& e) {
        rec.error = std::string("cluster up failed: ") + e.what();
        rec.log = cluster.log_hint(mode);
        say(mode, "FAILED: " + rec.error);
        if (signals.pending()) throw Interrupted();
        rounds_left -= o.rounds;
        report.modes.push_back(std::move(rec));
        continue;
      }
      if (signals.pending()) throw Interrupted();

      bool ok = true;
      if (o.warmup_requests > 0) {
        const auto log = o.results_dir / fmt::format("{}-{}-warmup.txt", o.app, mode);
        say(mode, fmt::format("warm-up ({} requests against {})", o.warmup_requests, rec.target));
        ClientRun w = run_client(o.client_argv(rec.target, o.warmup_requests), log, o.client_timeout, signals);
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
        const auto log = o.results_dir / fmt::format("{}-{}-round{}.txt", o.app, mode, round);
        rr.log = log.string();
        say(mode, fmt::format("round {}/{} ({} requests, concurrency {}, against {}{})", round, o.rounds, o.requests,
                              o.concurrency, rec.target, left()));
        ClientRun run = run_client(o.client_argv(rec.target, o.requests), log, o.client_timeout, signals);
        rr.seconds = run.seconds;
        round_seconds += run.seconds;
        ++rounds_done;
        --rounds_left;
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
          say(mode, fmt::format("round {}/{} done in {:.1f}s: {:.1f} req/s, {} failed", round, o.rounds, rr.seconds,
                                rr.metrics.count("throughput") ? rr.metrics.at("throughput") : 0.0,
                                numbers.failed));
        } else {
          ok = false;
          rec.error = fmt::format("round {} failed: {}", round, rr.error);
          rec.log = rr.log;
          say(mode, "FAILED: " + rec.error + " (log: " + rr.log + ")");
        }
        rec.rounds.push_back(std::move(rr));
        if (!ok) rounds_left -= o.rounds - round;
      }
      if (!ok && rec.rounds.empty()) rounds_left -= o.rounds;  // the warm-up failed
      rec.divergences = cluster.divergences(mode);
      rec.ok = ok;
      say(mode, "cluster down");
    }
    report.modes.push_back(std::move(rec));
  }
  say("all", fmt::format("done in {:.1f}s", seconds_since(started)));
  return report;
}

}  // namespace lockstep::eval::harness
