#include "eval/harness/report.h"

#include <fmt/format.h>

#include <algorithm>

namespace lockstep::eval::harness {
namespace {

std::string num(std::optional<double> v, int decimals = 1) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : "-";
}
std::string percent(std::optional<double> ratio) { return ratio ? fmt::format("{:.0f}%", *ratio * 100) : "-"; }
std::string times(std::optional<double> ratio) { return ratio ? fmt::format("{:.2f}x", *ratio) : "-"; }

nlohmann::json opt_json(std::optional<double> v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

std::string divergence_text(const ModeRecord& m) {
  auto total = m.divergence_total();
  return total ? std::to_string(*total) : "?";
}

std::string per_replica_text(const ModeRecord& m) {
  if (!m.divergences || m.divergences->empty()) return "";
  std::string out;
  for (const auto& [id, n] : *m.divergences) out += fmt::format("{}r{}={}", out.empty() ? "" : " ", id, n);
  return out;
}

bool has_metric(const EvalReport& r, const std::string& name) {
  return std::find(r.metric_order.begin(), r.metric_order.end(), name) != r.metric_order.end();
}

// A markdown table cell: pipes and line breaks would break the row.
std::string cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string failure_text(const ModeRecord& m) {
  return m.error + (m.log.empty() ? "" : " (log: " + m.log + ")");
}

std::vector<double> values_of(const ModeRecord& m, const std::string& metric) {
  std::vector<double> out;
  for (const auto& r : m.rounds) {
    if (!r.ok) continue;
    if (auto it = r.metrics.find(metric); it != r.metrics.end()) out.push_back(it->second);
  }
  return out;
}

std::string median_and_spread(const ModeRecord& m, const std::string& metric, int decimals) {
  auto med = m.median(metric);
  if (!med) return "-";
  return fmt::format("{} ({}..{})", num(med, decimals), num(m.min(metric), decimals), num(m.max(metric), decimals));
}

// "min..max" over the successful rounds, "-" without any.
std::string spread(const ModeRecord& m, const std::string& metric, int decimals) {
  auto lo = m.min(metric);
  if (!lo) return "-";
  return num(lo, decimals) + ".." + num(m.max(metric), decimals);
}

int decimals_for(const std::string& metric) {
  if (metric == "failed") return 0;
  if (metric == "latency_ms") return 2;
  return 1;
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

const std::string& EvalReport::name() const { return label.empty() ? app : label; }

const ModeRecord* EvalReport::mode(const std::string& name) const {
  for (const auto& m : modes)
    if (m.mode == name) return &m;
  return nullptr;
}

std::string EvalReport::unit(const std::string& metric) const {
  auto it = units.find(metric);
  return it == units.end() ? "" : it->second;
}

bool SuiteReport::ok() const {
  return !interrupted && !apps.empty() && std::all_of(apps.begin(), apps.end(), [](const EvalReport& a) { return a.ok(); });
}

std::optional<double> ratio_to_orig(const EvalReport& r, const ModeRecord& m, const std::string& metric) {
  const ModeRecord* orig = r.mode("orig");
  if (!orig) return std::nullopt;
  auto base = orig->median(metric);
  auto mine = m.median(metric);
  if (!base || !mine || *base == 0) return std::nullopt;
  return *mine / *base;
}

std::optional<double> failed_total(const ModeRecord& m) {
  std::optional<double> total;
  for (const auto& r : m.rounds) {
    if (!r.ok) continue;
    auto it = r.metrics.find("failed");
    if (it != r.metrics.end()) total = total.value_or(0) + it->second;
  }
  return total;
}

// ---- one app ----

std::string render_table(const EvalReport& r) {
  const bool p99 = has_metric(r, "p99_ms"), p95 = has_metric(r, "p95_ms");
  const std::string unit = r.unit("throughput").empty() ? "throughput" : r.unit("throughput");
  std::string out = fmt::format("{} / {}: {} requests, concurrency {}, {} round(s), medians\n", r.name(), r.workload,
                                r.requests, r.concurrency, r.rounds);
  out += fmt::format("{:<12} {:>12} {:>10}", "mode", unit, "latency ms");
  if (p99) out += fmt::format(" {:>8}", "p99 ms");
  if (p95) out += fmt::format(" {:>8}", "p95 ms");
  out += fmt::format(" {:>7} {:>12} {:>9} {:>11}\n", "failed", "divergences", "vs orig", "lat vs orig");
  for (const auto& m : r.modes) {
    out += fmt::format("{:<12} {:>12} {:>10}", m.mode, m.ok ? num(m.median("throughput")) : "FAILED",
                       num(m.median("latency_ms"), 2));
    if (p99) out += fmt::format(" {:>8}", num(m.median("p99_ms"), 0));
    if (p95) out += fmt::format(" {:>8}", num(m.median("p95_ms"), 0));
    out += fmt::format(" {:>7} {:>12} {:>9} {:>11}\n", num(failed_total(m), 0), divergence_text(m),
                       percent(ratio_to_orig(r, m, "throughput")), times(ratio_to_orig(r, m, "latency_ms")));
  }
  for (const auto& m : r.modes)
    if (!m.ok) out += fmt::format("FAILED {} {}: {}\n", r.name(), m.mode, failure_text(m));
  return out;
}

nlohmann::json render_json(const EvalReport& r) {
  nlohmann::json j;
  j["app"] = r.app;
  if (!r.label.empty()) j["label"] = r.label;
  j["workload"] = r.workload;
  j["requests"] = r.requests;
  j["concurrency"] = r.concurrency;
  j["rounds"] = r.rounds;
  j["results_dir"] = r.results_dir;
  j["ok"] = r.ok();
  j["units"] = r.units;
  nlohmann::json modes = nlohmann::json::object();
  for (const auto& m : r.modes) {
    nlohmann::json o;
    for (const char* k : {"throughput", "latency_ms", "p99_ms"}) o[k] = opt_json(m.median(k));
    if (has_metric(r, "p95_ms")) o["p95_ms"] = opt_json(m.median("p95_ms"));
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
    nlohmann::json medians = nlohmann::json::object();
    for (const auto& name : r.metric_order) medians[name] = opt_json(name == "failed" ? failed_total(m) : m.median(name));
    o["medians"] = std::move(medians);
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

namespace {
std::string csv_rows(const EvalReport& r) {
  std::string out;
  for (const auto& m : r.modes) {
    for (const auto& rr : m.rounds) {
      for (const auto& name : r.metric_order) {
        auto it = rr.metrics.find(name);
        if (it == rr.metrics.end()) continue;
        out += fmt::format("{},{},{},{},{}\n", r.name(), m.mode, rr.round, name, it->second);
      }
      out += fmt::format("{},{},{},ok,{}\n", r.name(), m.mode, rr.round, rr.ok ? 1 : 0);
    }
    // Every mode has this row, so one that failed before its first round is still in the CSV.
    out += fmt::format("{},{},all,ok,{}\n", r.name(), m.mode, m.ok ? 1 : 0);
    if (auto d = m.divergence_total()) out += fmt::format("{},{},all,divergences,{}\n", r.name(), m.mode, *d);
    if (m.divergences)
      for (const auto& [id, n] : *m.divergences) out += fmt::format("{},{},all,divergences_r{},{}\n", r.name(), m.mode, id, n);
  }
  return out;
}
constexpr const char* kCsvHeader = "app,mode,round,metric,value\n";
}  // namespace

std::string render_csv(const EvalReport& r) { return kCsvHeader + csv_rows(r); }

std::string render_summary(const EvalReport& r) {
  const bool p99 = has_metric(r, "p99_ms"), p95 = has_metric(r, "p95_ms");
  const std::string unit = r.unit("throughput");
  std::string out = fmt::format("## {} (workload {})\n\n", r.name(), r.workload);
  out += fmt::format("{} requests per round, concurrency {}, {} round(s).\n\n", r.requests, r.concurrency, r.rounds);
  out += fmt::format("| mode | throughput{} | spread | latency ms | spread |{}{} failed | divergences | vs orig | "
                     "latency vs orig |\n",
                     unit.empty() ? "" : " (" + unit + ")", p99 ? " p99 ms |" : "", p95 ? " p95 ms |" : "");
  out += "|---|---|---|---|---|" + std::string(p99 ? "---|" : "") + (p95 ? "---|" : "") + "---|---|---|---|\n";
  for (const auto& m : r.modes) {
    out += fmt::format("| {} | {} | {} | {} | {} |", m.mode, m.ok ? num(m.median("throughput")) : "FAILED",
                       spread(m, "throughput", 1), num(m.median("latency_ms"), 2), spread(m, "latency_ms", 2));
    if (p99) out += " " + num(m.median("p99_ms"), 0) + " |";
    if (p95) out += " " + num(m.median("p95_ms"), 0) + " |";
    out += fmt::format(" {} | {} | {} | {} |\n", num(failed_total(m), 0), divergence_text(m),
                       percent(ratio_to_orig(r, m, "throughput")), times(ratio_to_orig(r, m, "latency_ms")));
  }
  if (!r.metric_order.empty()) {
    out += "\nEvery metric, median (min..max) over the successful rounds; failed is the sum:\n\n| mode |";
    for (const auto& name : r.metric_order) out += fmt::format(" {}{} |", name, r.unit(name).empty() ? "" : " (" + r.unit(name) + ")");
    out += "\n|---|";
    for (size_t i = 0; i < r.metric_order.size(); ++i) out += "---|";
    out += "\n";
    for (const auto& m : r.modes) {
      out += "| " + m.mode + " |";
      for (const auto& name : r.metric_order)
        out += " " + (name == "failed" ? num(failed_total(m), 0) : median_and_spread(m, name, decimals_for(name))) + " |";
      out += "\n";
    }
  }
  out += "\n";
  for (const auto& m : r.modes) {
    if (auto per = per_replica_text(m); !per.empty()) out += fmt::format("Divergences per replica ({}): {}\n", m.mode, per);
  }
  for (const auto& m : r.modes) {
    if (!m.ok) out += fmt::format("\n**{} FAILED**: {} (log: `{}`)\n", m.mode, m.error, m.log);
    for (const auto& rr : m.rounds)
      if (!rr.ok) out += fmt::format("- {} round {} failed: {} (log: `{}`)\n", m.mode, rr.round, rr.error, rr.log);
  }
  return out;
}

// ---- several apps ----

std::string render_table(const SuiteReport& s) {
  std::string out;
  if (s.apps.size() == 1) {
    out = render_table(s.apps.front());
  } else {
    size_t w = 10;  // the app column fits the longest name (APP-WORKLOAD labels)
    for (const auto& r : s.apps) w = std::max(w, r.name().size());
    out = fmt::format("{:<{}} {:<11} {:>11} {:<8} {:>10} {:>7} {:>7} {:>7} {:>11} {:>8} {:>8}\n", "app", w, "mode",
                      "throughput", "unit", "latency ms", "p99 ms", "p95 ms", "failed", "divergences", "vs orig",
                      "lat ratio");
    for (const auto& r : s.apps) {
      for (const auto& m : r.modes) {
        out += fmt::format("{:<{}} {:<11} {:>11} {:<8} {:>10} {:>7} {:>7} {:>7} {:>11} {:>8} {:>8}\n", r.name(), w, m.mode,
                           m.ok ? num(m.median("throughput")) : "FAILED", r.unit("throughput"),
                           num(m.median("latency_ms"), 2), num(m.median("p99_ms"), 0), num(m.median("p95_ms"), 0),
                           num(failed_total(m), 0), divergence_text(m), percent(ratio_to_orig(r, m, "throughput")),
                           times(ratio_to_orig(r, m, "latency_ms")));
      }
    }
    for (const auto& r : s.apps)
      for (const auto& m : r.modes)
        if (!m.ok) out += fmt::format("FAILED {} {}: {}\n", r.name(), m.mode, failure_text(m));
  }
  if (!s.results_dir.empty()) out += "results: " + s.results_dir + "\n";
  return out;
}

nlohmann::json render_json(const SuiteReport& s) {
  if (!s.several && s.apps.size() == 1) return render_json(s.apps.front());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : s.apps) out.push_back(render_json(r));
  return out;
}

std::string render_csv(const SuiteReport& s) {
  std::string out = kCsvHeader;
  for (const auto& r : s.apps) out += csv_rows(r);
  return out;
}

std::string render_overview(const SuiteReport& s) {
  std::string out =
      "| app | workload | mode | throughput | unit | spread | latency ms | spread | p99 ms | p95 ms | failed | "
      "divergences | throughput vs orig | latency vs orig | status |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : s.apps) {
    for (const auto& m : r.modes) {
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", r.name(),
                         r.workload, m.mode, num(m.median("throughput")), r.unit("throughput"),
                         spread(m, "throughput", 1), num(m.median("latency_ms"), 2), spread(m, "latency_ms", 2),
                         num(m.median("p99_ms"), 0),
                         num(m.median("p95_ms"), 0), num(failed_total(m), 0), divergence_text(m),
                         percent(ratio_to_orig(r, m, "throughput")), times(ratio_to_orig(r, m, "latency_ms")),
                         m.ok ? "ok" : "**FAILED**: " + cell(m.error) + (m.log.empty() ? "" : " (log: `" + cell(m.log) + "`)"));
    }
  }
  return out;
}

std::string render_summary(const SuiteReport& s) {
  std::string names;
  for (const auto& r : s.apps) names += (names.empty() ? "" : ", ") + r.name();
  std::string out = fmt::format("# lockstep eval: {}\n\n", names);
  for (const auto& [k, v] : s.settings) out += fmt::format("- {}: {}\n", k, v);
  if (!s.settings.empty()) out += "\n";
  if (s.interrupted) out += "**The run was interrupted**: the apps after it were not run.\n\n";
  out += "Medians over the successful rounds (spread = min..max); failed = failed requests summed over the rounds;\n"
         "divergences = the largest count of one replica (each replica counts what it detects); vs orig =\n"
         "throughput as a share of orig's; latency vs orig = latency over orig's.\n\n";
  out += render_overview(s);
  out += "\n";
  if (!s.charts.empty()) {
    out += "Normalized to orig (one group per app, one bar per mode; no bar: the mode failed or orig did):\n\n";
    for (const auto& c : s.charts) out += fmt::format("![{}]({})\n", c.substr(0, c.rfind('.')), c);
    out += "\n";
  } else if (!s.charts_error.empty()) {
    out += "No charts: " + s.charts_error + "\n\n";
  }
  for (const auto& r : s.apps) out += render_summary(r) + "\n";
  return out;
}

}  // namespace lockstep::eval::harness
