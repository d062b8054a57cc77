// What one `lockstep eval` run measured, per app and over several apps, and its renderings: the
// table for people, the JSON (last line of --json), results.csv and summary.md. Medians over the
// rounds that succeeded; a failed round, mode or app stays in every rendering with its reason and
// log path.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace lockstep::eval::harness {

struct RoundRecord {
  int round = 0;  // 1-based
  bool ok = false;
  std::string error;  // why it failed
  std::string log;    // the client's raw output
  double seconds = 0;
  std::map<std::string, double> metrics;
};

struct ModeRecord {
  std::string mode;
  bool ok = false;    // the cluster came up and every round succeeded
  std::string error;  // first failure (cluster or round)
  std::string log;    // where to look for it
  std::string target; // the service address the client used
  std::vector<RoundRecord> rounds;
  // Divergences per replica id from the node status; nullopt when no node answered (orig has
  // no nodes: an empty map, total 0).
  std::optional<std::map<int, int64_t>> divergences;
  // The largest per-replica count (each replica counts the divergences it detects).
  std::optional<int64_t> divergence_total() const;
  // Median of METRIC over the successful rounds; nullopt if none has it.
  std::optional<double> median(const std::string& metric) const;
  std::optional<double> min(const std::string& metric) const;
  std::optional<double> max(const std::string& metric) const;
};

struct EvalReport {
  std::string app;
  // Set when one run measures several workloads of the app: "APP-WORKLOAD", the name in the
  // table, CSV (app column), charts and raw file names.
  std::string label;
  std::string workload;
  int requests = 0;
  int concurrency = 0;
  int rounds = 0;
  std::string config;
  std::string results_dir;
  std::vector<ModeRecord> modes;
  std::vector<std::string> metric_order;  // the app's metrics, in its order (CSV and table)
  std::map<std::string, std::string> units;  // metric -> unit from app.cfg
  bool ok() const;
  const std::string& name() const;  // label, else app
  const ModeRecord* mode(const std::string& name) const;
  std::string unit(const std::string& metric) const;  // "" when unknown
};

// A run over one or several apps, all in one results directory.
struct SuiteReport {
  std::vector<EvalReport> apps;
  // Asked for several apps (--all or a list): the JSON is an array even if it holds one app.
  bool several = false;
  std::string results_dir;
  // What the run was and where (machine, load, settings), in order, for summary.md and the doc.
  std::vector<std::pair<std::string, std::string>> settings;
  // Charts next to summary.md (file names), or why there are none.
  std::vector<std::string> charts;
  std::string charts_error;
  bool interrupted = false;  // Ctrl-C/SIGTERM ended the run early
  bool ok() const;
};

// Throughput or latency of M relative to orig of the same app (both medians); nullopt without
// both numbers.
std::optional<double> ratio_to_orig(const EvalReport& r, const ModeRecord& m, const std::string& metric);
// Failed requests: the sum over the successful rounds (one bad round must show), nullopt if the
// app has no "failed" metric or no round succeeded.
std::optional<double> failed_total(const ModeRecord& m);

double median_of(std::vector<double> values);

// One app.
std::string render_table(const EvalReport& report);
// {"app":..., "modes": {MODE: {"throughput", "latency_ms", "p99_ms", "failed", "divergences"}}}
// plus "workload", "requests", "concurrency", "rounds", "results_dir", "units", and per mode
// "ok", "ratio_to_orig", "latency_ratio_to_orig", "medians" (every metric), "per_round",
// "error"/"log" for failures.
nlohmann::json render_json(const EvalReport& report);
std::string render_csv(const EvalReport& report);  // with the header line
// The app's section of summary.md: headline table, every metric, divergences, failures.
std::string render_summary(const EvalReport& report);

// Several apps: one table (app, mode, ...) unless there is only one app.
std::string render_table(const SuiteReport& suite);
// The per-app object when one app was asked for, else an array of them.
nlohmann::json render_json(const SuiteReport& suite);
std::string render_csv(const SuiteReport& suite);
// The whole-run overview: one row per app and mode (failed ones with their reason).
std::string render_overview(const SuiteReport& suite);
std::string render_summary(const SuiteReport& suite);

}  // namespace lockstep::eval::harness
