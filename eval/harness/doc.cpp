#include "eval/harness/doc.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lockstep::eval::harness {
namespace {

namespace fs = std::filesystem;

std::string kept_notes(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  const auto at = text.find(kDocNotesMarker);
  if (at == std::string::npos) return "";
  auto start = text.find('\n', at);
  return start == std::string::npos ? "" : text.substr(start + 1);
}

std::string stem_of(const std::string& png) { return png.substr(0, png.rfind('.')); }

}  // namespace

std::string render_doc(const SuiteReport& s, const std::string& chart_prefix, const std::string& notes) {
  std::string modes;
  if (!s.apps.empty())
    for (const auto& m : s.apps.front().modes) modes += (modes.empty() ? "" : ", ") + m.mode;
  std::string out = "# The apps in every mode\n\n";
  out += fmt::format("Written by `lockstep eval --doc`; the run's raw outputs, CSV and JSON are in `{}`. Modes: {}.\n\n",
                     s.results_dir, modes);
  out += "## Machine and settings\n\n";
  for (const auto& [k, v] : s.settings) out += fmt::format("- {}: {}\n", k, v);
  out += "\n## Results\n\n";
  out += "Medians over the successful rounds (spread = min..max); failed = failed requests summed over the rounds;\n"
         "divergences = the largest count of one replica; throughput vs orig = share of orig's throughput;\n"
         "latency vs orig = latency over orig's. A mode that failed is listed with its reason.\n\n";
  out += render_overview(s) + "\n";
  if (!s.charts.empty()) {
    out += "Normalized to orig, one group per app, one bar per mode (no bar: the mode or orig failed):\n\n";
    for (const auto& c : s.charts) out += fmt::format("![{}]({}-{})\n", stem_of(c), chart_prefix, c);
    out += "\n";
  } else if (!s.charts_error.empty()) {
    out += "No charts: " + s.charts_error + "\n\n";
  }
  out += "## Per app\n\n";
  for (const auto& r : s.apps) {
    // The app sections are written for summary.md (level 2): one level down here.
    out += "#" + render_summary(r) + "\n";
  }
  out += std::string(kDocNotesMarker) + "\n" + notes;
  return out;
}

void write_doc(const fs::path& path, const SuiteReport& s, const fs::path& results_dir) {
  const std::string notes = kept_notes(path);
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  const std::string prefix = path.stem().string();
  for (const auto& c : s.charts) {
    fs::copy_file(results_dir / c, dir / (prefix + "-" + c), fs::copy_options::overwrite_existing, ec);
    if (ec) throw std::runtime_error("cannot copy " + (results_dir / c).string() + ": " + ec.message());
  }
  std::ofstream out(path);
  out << render_doc(s, prefix, notes);
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace lockstep::eval::harness
