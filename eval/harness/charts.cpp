#include "eval/harness/charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <thread>

#include "eval/harness/runner.h"
#include "eval/proc/child_process.h"

namespace lockstep::eval::harness {
namespace {

namespace fs = std::filesystem;

// Modes in the order they first appear (every app normally has the same list).
std::vector<std::string> modes_of(const SuiteReport& s) {
  std::vector<std::string> out;
  for (const auto& r : s.apps)
    for (const auto& m : r.modes)
      if (std::find(out.begin(), out.end(), m.mode) == out.end()) out.push_back(m.mode);
  return out;
}

// A gnuplot single-quoted string: a quote is doubled.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Names go into a whitespace-separated table: keep them one token.
std::string token(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == ' ' || c == '\t' || c == '"') ? '_' : c;
  return out.empty() ? "?" : out;
}

// One bar: the ratio, or why there is none.
struct Cell {
  std::optional<double> ratio;
  std::string missing;  // "failed", "no orig", "" when there is a ratio or no such mode
};

std::vector<std::vector<Cell>> cells_of(const SuiteReport& s, const std::vector<std::string>& modes,
                                        const std::string& metric) {
  std::vector<std::vector<Cell>> rows;
  for (const auto& r : s.apps) {
    std::vector<Cell> row;
    const ModeRecord* orig = r.mode("orig");
    for (const auto& name : modes) {
      Cell c;
      const ModeRecord* m = r.mode(name);
      if (!m) {
      } else if (!m->ok) {
        c.missing = "failed";
      } else if (!orig || !orig->ok) {
        c.missing = "no orig";  // nothing to normalize to
      } else if (!(c.ratio = ratio_to_orig(r, *m, metric))) {
        c.missing = "no value";
      }
      row.push_back(std::move(c));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string script_for(const ChartSpec& c, const fs::path& dir, const std::vector<std::vector<Cell>>& cells,
                       size_t columns) {
  const fs::path data = dir / (c.name + ".dat");
  const fs::path png = dir / (c.name + ".png");
  std::string s;
  s += "set terminal pngcairo noenhanced size 960,480 font ',10'\n";
  s += "set output " + quoted(png.string()) + "\n";
  s += "set title " + quoted(c.title) + "\n";
  s += "set style data histograms\nset style histogram clustered gap 1\n";
  s += "set style fill solid 0.85 border -1\nset boxwidth 0.9\n";
  // Room above the tallest bar (and the 1.0 line) for its value label.
  double top = 1;
  for (const auto& row : cells)
    for (const auto& cell : row)
      if (cell.ratio) top = std::max(top, *cell.ratio);
  s += fmt::format("set datafile missing '-'\nset yrange [0:{:.3f}]\nset ylabel 'ratio to orig'\n", top * 1.15);
  s += "set grid ytics\nset key outside right top\n";
  s += "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 linecolor rgb 'gray40'\n";
  // Bar K of N in group A sits at A + (K - (N-1)/2) / (N + gap): where the value labels and the
  // notes for missing bars go.
  const double n = static_cast<double>(columns);
  int label = 10;
  for (size_t a = 0; a < cells.size(); ++a) {
    for (size_t k = 0; k < cells[a].size(); ++k) {
      if (cells[a][k].missing.empty()) continue;
      const double x = static_cast<double>(a) + (static_cast<double>(k) - (n - 1) / 2) / (n + 1);
      s += fmt::format("set label {} {} at {:.4f}, graph 0.02 rotate by 90 left textcolor rgb 'red'\n", label++,
                       quoted(cells[a][k].missing), x);
    }
  }
  s += fmt::format("N = {}\n", columns);
  s += fmt::format(
      "plot for [i=2:N+1] {0} using i:xtic(1) title columnheader(i), \\\n"
      "     for [i=2:N+1] {0} skip 1 using ($0 + (i - 2 - (N - 1) / 2.0) / (N + 1)):i:(sprintf('%.2f', column(i))) "
      "with labels offset 0,0.7 notitle\n",
      quoted(data.string()));
  s += "unset output\nunset arrow 1\nunset label\n";
  return s;
}

// Runs gnuplot on SCRIPT; "" when it succeeded, else why not.
std::string run_gnuplot(const std::string& gnuplot, const fs::path& script, const fs::path& log) {
  std::string exe;
  try {
    exe = resolve_executable(gnuplot);
  } catch (const std::exception& e) {
    return std::string(e.what()) + " (apt-get install gnuplot-nox)";
  }
  try {
    ChildProcess child({exe, script.string()}, log);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      if (auto how = child.exited()) {
        if (*how == "exited with status 0") return "";
        return "gnuplot " + *how + ": " + child.log_tail(2) + " (log: " + log.string() + ")";
      }
      if (std::chrono::steady_clock::now() >= deadline) return "gnuplot did not finish within 60 s";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } catch (const std::exception& e) {
    return std::string("cannot run gnuplot: ") + e.what();
  }
}

}  // namespace

const std::vector<ChartSpec>& standard_charts() {
  static const std::vector<ChartSpec> charts = {
      {"throughput", "throughput", "Throughput normalized to orig (higher is better)"},
      {"latency", "latency_ms", "Latency normalized to orig (lower is better)"},
  };
  return charts;
}

std::string chart_data(const SuiteReport& s, const std::string& metric) {
  const auto modes = modes_of(s);
  std::string out = "app";
  for (const auto& m : modes) out += " " + token(m);
  out += "\n";
  bool any = false;
  const auto cells = cells_of(s, modes, metric);
  for (size_t a = 0; a < s.apps.size(); ++a) {
    out += token(s.apps[a].name());
    for (const auto& c : cells[a]) {
      any = any || c.ratio.has_value();
      out += c.ratio ? fmt::format(" {:.4f}", *c.ratio) : std::string(" -");
    }
    out += "\n";
  }
  return any ? out : std::string();
}

ChartResult write_charts(const SuiteReport& s, const fs::path& dir, const std::string& gnuplot) {
  ChartResult result;
  std::string script;
  std::vector<std::string> pending;
  std::vector<std::string> skipped;
  const size_t columns = modes_of(s).size();
  for (const auto& c : standard_charts()) {
    const std::string data = chart_data(s, c.metric);
    if (data.empty()) {
      skipped.push_back(c.name);
      continue;
    }
    std::ofstream(dir / (c.name + ".dat")) << data;
    script += script_for(c, dir, cells_of(s, modes_of(s), c.metric), columns);
    pending.push_back(c.name + ".png");
  }
  if (!skipped.empty()) {
    std::string names;
    for (const auto& n : skipped) names += (names.empty() ? "" : ", ") + n;
    result.error = "no " + names + " chart: no mode has both its own and orig's median";
  }
  if (pending.empty()) return result;
  const fs::path script_path = dir / "charts.gp";
  std::ofstream(script_path) << script;
  if (std::string err = run_gnuplot(gnuplot, script_path, dir / "gnuplot.log"); !err.empty()) {
    result.error = result.error.empty() ? err : result.error + "; " + err;
    return result;
  }
  for (const auto& png : pending) {
    std::error_code ec;
    if (fs::file_size(dir / png, ec) > 0 && !ec) result.files.push_back(png);
    else result.error += (result.error.empty() ? "" : "; ") + png + " was not written (log: " + (dir / "gnuplot.log").string() + ")";
  }
  return result;
}

}  // namespace lockstep::eval::harness
