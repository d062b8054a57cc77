// The outcome of one benchmark run and its two renderings: a table for people and one JSON line
// for scripts (the last line of `lockstep bench ... --json`).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

#include "eval/loadgen/histogram.h"

namespace lockstep::eval {

struct Result {
  std::string target;             // e.g. "etcd", "lockstep"
  std::uint32_t clients = 0;
  std::size_t size = 0;           // payload bytes per operation
  unsigned threads = 0;           // driver threads
  double warmup_s = 0;
  std::uint64_t ops = 0;          // successful operations completed inside the window
  std::uint64_t errors = 0;       // failed operations completed inside the window
  std::uint64_t warmup_errors = 0;
  double seconds = 0;             // length of the measured window
  double ops_per_s = 0;
  double mean_us = 0, p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  double loadgen_cpu_pct = 0;     // CPU of this process during the window, % of one core
  std::string last_error;         // the most recent failure's reason, empty if none
  nlohmann::json extra = nlohmann::json::object();  // target-specific fields (e.g. endpoints)

  // Fills ops_per_s and the latency fields from a histogram of nanosecond latencies.
  void summarize(const Histogram& latency_ns, double window_s);
};

void print_table(std::FILE* out, const Result& result);
// One line, no trailing newline; extra's fields appear at top level.
std::string to_json_line(const Result& result);

}  // namespace lockstep::eval
