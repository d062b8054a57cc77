// What one `lockstep eval` run measured, and its renderings: the table for people, the JSON
// object (last line of --json), results.csv and summary.md. Medians over the rounds that
// succeeded; a failed round or mode stays in every rendering with its reason and log path.
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
  std::string workload;
  int requests = 0;
  int concurrency = 0;
  int rounds = 0;
  std::string config;
  std::string results_dir;
  std::vector<ModeRecord> modes;
  std::vector<std::string> metric_order;  // the app's metrics, in its order (CSV and table)
  bool ok() const;
};

double median_of(std::vector<double> values);

std::string render_table(const EvalReport& report);
// {"app":..., "modes": {MODE: {"throughput", "latency_ms", "p99_ms", "failed", "divergences"}}}
// plus "workload", "requests", "concurrency", "rounds", "results_dir", and per mode "ok",
// "ratio_to_orig", "rounds" (per-round values), "error"/"log" for failures.
nlohmann::json render_json(const EvalReport& report);
std::string render_csv(const EvalReport& report);
std::string render_summary(const EvalReport& report);

}  // namespace lockstep::eval::harness
