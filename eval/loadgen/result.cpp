#include "eval/loadgen/result.h"

#include <fmt/format.h>

#include <algorithm>

namespace lockstep::eval {

void Result::summarize(const Histogram& latency_ns, double window_s) {
  seconds = window_s;
  ops_per_s = window_s > 0 ? static_cast<double>(ops) / window_s : 0.0;
  mean_us = latency_ns.mean() / 1e3;
  p50_us = latency_ns.percentile(0.50) / 1e3;
  p90_us = latency_ns.percentile(0.90) / 1e3;
  p99_us = latency_ns.percentile(0.99) / 1e3;
  p999_us = latency_ns.percentile(0.999) / 1e3;
  max_us = static_cast<double>(latency_ns.max()) / 1e3;
}

void print_table(std::FILE* out, const Result& r) {
  std::size_t w = 16;
  for (const auto& [key, value] : r.extra.items()) w = std::max(w, key.size() + 1);
  std::string s;
  s += fmt::format("{:<{}} {}\n", "target", w, r.target);
  s += fmt::format("{:<{}} {} clients, {} B payload, {} driver thread(s), {:.1f} s warm-up\n",
                   "settings", w, r.clients, r.size, r.threads, r.warmup_s);
  s += fmt::format("{:<{}} {:.2f} s\n", "window", w, r.seconds);
  s += fmt::format("{:<{}} {} ok, {} errors ({} during warm-up)\n", "operations", w, r.ops,
                   r.errors, r.warmup_errors);
  s += fmt::format("{:<{}} {:.0f} ops/s\n", "throughput", w, r.ops_per_s);
  s += fmt::format("{:<{}} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "latency (us)", w, "mean",
                   "p50", "p90", "p99", "p99.9", "max");
  s += fmt::format("{:<{}} {:>10.0f} {:>10.0f} {:>10.0f} {:>10.0f} {:>10.0f} {:>10.0f}\n", "", w,
                   r.mean_us, r.p50_us, r.p90_us, r.p99_us, r.p999_us, r.max_us);
  s += fmt::format("{:<{}} {:.0f}% of one core\n", "loadgen cpu", w, r.loadgen_cpu_pct);
  for (const auto& [key, value] : r.extra.items()) {
    s += fmt::format("{:<{}} {}\n", key, w,
                     value.is_string() ? value.get<std::string>() : value.dump());
  }
  if (!r.last_error.empty()) s += fmt::format("{:<{}} {}\n", "last error", w, r.last_error);
  std::fputs(s.c_str(), out);
}

std::string to_json_line(const Result& r) {
  nlohmann::json j = {
      {"target", r.target},
      {"clients", r.clients},
      {"size", r.size},
      {"threads", r.threads},
      {"warmup_s", r.warmup_s},
      {"seconds", r.seconds},
      {"ops", r.ops},
      {"errors", r.errors},
      {"warmup_errors", r.warmup_errors},
      {"ops_per_s", r.ops_per_s},
      {"mean_us", r.mean_us},
      {"p50_us", r.p50_us},
      {"p90_us", r.p90_us},
      {"p99_us", r.p99_us},
      {"p999_us", r.p999_us},
      {"max_us", r.max_us},
      {"loadgen_cpu_pct", r.loadgen_cpu_pct},
  };
  if (!r.last_error.empty()) j["last_error"] = r.last_error;
  for (const auto& [key, value] : r.extra.items()) j[key] = value;
  return j.dump();
}

}  // namespace lockstep::eval
