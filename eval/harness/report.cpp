#include "eval/harness/report.h"

#include <fmt/format.h>

#include <algorithm>

namespace lockstep::eval::harness {
namespace {

// The headline metrics every ab-like app has; others are kept in the CSV and per-round JSON.
constexpr const char* kHeadline[] = {"throughput", "latency_ms", "p99_ms"};

std::string num(std::optional<double> v, int decimals = 1) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : "-";
}

const ModeRecord* find_mode(const EvalReport& r, const std::string& name) {
  for (const auto& m : r.modes)
    if (m.mode == name) return &m;
  return nullptr;
}

// Throughput of MODE relative to orig (both medians); nullopt without both numbers.
std::optional<double> ratio_to_orig(const EvalReport& r, const ModeRecord& m, const std::string& metric) {
  const ModeRecord* orig = find_mode(r, "orig");
  if (!orig) return std::nullopt;
  auto base = orig->median(metric);
  auto mine = m.median(metric);
  if (!base || !mine || *base == 0) return std::nullopt;
  return *mine / *base;
}

// Failed requests: the sum over the successful rounds, not a median — one bad round must show.
std::optional<double> failed_total(const ModeRecord& m) {
  std::optional<double> total;
  for (const auto& r : m.rounds) {
    if (!r.ok) continue;
    auto it = r.metrics.find("failed");
    if (it != r.metrics.end()) total = total.value_or(0) + it->second;
  }
  return total;
}

nlohmann::json opt_json(std::optional<double> v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

std::string divergence_text(const ModeRecord& m) {
  auto total = m.divergence_total();
  return total ? std::to_string(*total) : "?";
}

}  // namespace

std::optional<int64_t> ModeRecord::divergence_total() const {
  if (!divergences) return std::nullopt;
  // Every replica compares digests with the others, so one divergent connection is counted by
  // each replica that saw it: the replica that counted most is the headline, not the sum.
  int64_t most = 0;
  for (const auto& [id, n] : *divergences) most = std::max(most, n);
  return most;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

namespace {
std::vector<double> values_of(const ModeRecord& m, const std::string& metric) {
  std::vector<double> out;
  for (const auto& r : m.rounds) {
    if (!r.ok) continue;
    if (auto it = r.metrics.find(metric); it != r.metrics.end()) out.push_back(it->second);
  }
  return out;
}
}  // namespace

std::optional<double> ModeRecord::median(const std::string& metric) const {
  auto v = values_of(*this, metric);
  if (v.empty()) return std::nullopt;
  return median_of(std::move(v));
}

std::optional<double> ModeRecord::min(const std::string& metric) const {
  auto v = values_of(*this, metric);
  if (v.empty()) return std::nullopt;
  return *std::min_element(v.begin(), v.end());
}

std::optional<double> ModeRecord::max(const std::string& metric) const {
  auto v = values_of(*this, metric);
  if (v.empty()) return std::nullopt;
  return *std::max_element(v.begin(), v.end());
}

bool EvalReport::ok() const {
  return !modes.empty() && std::all_of(modes.begin(), modes.end(), [](const ModeRecord& m) { return m.ok; });
}

std::string render_table(const EvalReport& r) {
  std::string out = fmt::format("{} / {}: {} requests, concurrency {}, {} round(s), medians\n", r.app, r.workload,
                                r.requests, r.concurrency, r.rounds);
  out += fmt::format("{:<12} {:>12} {:>10} {:>8} {:>7} {:>12} {:>9}\n", "mode", "req/s", "mean ms", "p99 ms",
                     "failed", "divergences", "vs orig");
  for (const auto& m : r.modes) {
    auto ratio = ratio_to_orig(r, m, "throughput");
    auto failed = failed_total(m);
    out += fmt::format("{:<12} {:>12} {:>10} {:>8} {:>7} {:>12} {:>9}\n", m.mode, num(m.median("throughput")),
                       num(m.median("latency_ms"), 2), num(m.median("p99_ms"), 0), num(failed, 0),
                       divergence_text(m), ratio ? fmt::format("{:.0f}%", *ratio * 100) : "-");
  }
  for (const auto& m : r.modes) {
    if (m.ok) continue;
    out += fmt::format("FAILED {}: {}{}\n", m.mode, m.error, m.log.empty() ? "" : " (log: " + m.log + ")");
  }
  if (!r.results_dir.empty()) out += "results: " + r.results_dir + "\n";
  return out;
}

nlohmann::json render_json(const EvalReport& r) {
  nlohmann::json j;
  j["app"] = r.app;
  j["workload"] = r.workload;
  j["requests"] = r.requests;
  j["concurrency"] = r.concurrency;
  j["rounds"] = r.rounds;
  j["results_dir"] = r.results_dir;
  j["ok"] = r.ok();
  nlohmann::json modes = nlohmann::json::object();
  for (const auto& m : r.modes) {
    nlohmann::json o;
    for (const char* k : kHeadline) o[k] = opt_json(m.median(k));
    o["failed"] = opt_json(failed_total(m));
    auto div = m.divergence_total();
    o["divergences"] = div ? nlohmann::json(*div) : nlohmann::json(nullptr);
    if (m.divergences) {
      nlohmann::json per = nlohmann::json::object();
      for (const auto& [id, n] : *m.divergences) per[std::to_string(id)] = n;
      o["divergences_by_replica"] = per;
    }
    o["ratio_to_orig"] = opt_json(ratio_to_orig(r, m, "throughput"));
    o["latency_ratio_to_orig"] = opt_json(ratio_to_orig(r, m, "latency_ms"));
    o["ok"] = m.ok;
    o["target"] = m.target;
    if (!m.ok) {
      o["error"] = m.error;
      o["log"] = m.log;
    }
    nlohmann::json rounds = nlohmann::json::array();
    for (const auto& rr : m.rounds) {
      nlohmann::json x = {{"round", rr.round}, {"ok", rr.ok}, {"seconds", rr.seconds}, {"log", rr.log}};
      for (const auto& [k, v] : rr.metrics) x[k] = v;
      if (!rr.ok) x["error"] = rr.error;
      rounds.push_back(std::move(x));
    }
    o["per_round"] = std::move(rounds);
    modes[m.mode] = std::move(o);
  }
  j["modes"] = std::move(modes);
  return j;
}

std::string render_csv(const EvalReport& r) {
  std::string out = "app,mode,round,metric,value\n";
  for (const auto& m : r.modes) {
    for (const auto& rr : m.rounds) {
      for (const auto& name : r.metric_order) {
        auto it = rr.metrics.find(name);
        if (it == rr.metrics.end()) continue;
        out += fmt::format("{},{},{},{},{}\n", r.app, m.mode, rr.round, name, it->second);
      }
      out += fmt::format("{},{},{},ok,{}\n", r.app, m.mode, rr.round, rr.ok ? 1 : 0);
    }
    if (auto d = m.divergence_total()) out += fmt::format("{},{},all,divergences,{}\n", r.app, m.mode, *d);
  }
  return out;
}

std::string render_summary(const EvalReport& r) {
  std::string out = fmt::format("# lockstep eval: {} ({})\n\n", r.app, r.workload);
  out += fmt::format("{} requests per round, concurrency {}, {} round(s); config `{}`.\n", r.requests,
                     r.concurrency, r.rounds, r.config);
  out += "Medians over successful rounds (spread = min..max); failed = sum over rounds; divergences = the\n"
         "largest count of one replica (each replica counts what it detects).\n\n";
  out += "| mode | req/s | spread | mean ms | p99 ms | failed | divergences | vs orig |\n";
  out += "|---|---|---|---|---|---|---|---|\n";
  for (const auto& m : r.modes) {
    auto ratio = ratio_to_orig(r, m, "throughput");
    out += fmt::format("| {} | {} | {}..{} | {} | {} | {} | {} | {} |\n", m.mode, num(m.median("throughput")),
                       num(m.min("throughput")), num(m.max("throughput")), num(m.median("latency_ms"), 2),
                       num(m.median("p99_ms"), 0), num(failed_total(m), 0), divergence_text(m),
                       ratio ? fmt::format("{:.0f}%", *ratio * 100) : "-");
  }
  out += "\n";
  for (const auto& m : r.modes) {
    if (m.divergences && !m.divergences->empty()) {
      out += fmt::format("Divergences per replica ({}):", m.mode);
      for (const auto& [id, n] : *m.divergences) out += fmt::format(" r{}={}", id, n);
      out += "\n";
    }
    if (!m.ok) out += fmt::format("\n**{} FAILED**: {} (log: `{}`)\n", m.mode, m.error, m.log);
    for (const auto& rr : m.rounds)
      if (!rr.ok) out += fmt::format("- {} round {} failed: {} (log: `{}`)\n", m.mode, rr.round, rr.error, rr.log);
  }
  return out;
}

}  // namespace lockstep::eval::harness
