// PNG bar charts of a run with gnuplot (Debian gnuplot-nox): throughput and latency of every
// mode normalized to orig, one group of bars per app, one bar per mode. The data and the script
// are kept next to the PNGs (CHART.dat, charts.gp) so a chart can be redrawn or restyled.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "eval/harness/report.h"

namespace lockstep::eval::harness {

struct ChartSpec {
  std::string name;    // file stem: NAME.png, NAME.dat
  std::string metric;  // throughput / latency_ms
  std::string title;
};

// throughput.png and latency.png.
const std::vector<ChartSpec>& standard_charts();

// The gnuplot data table of METRIC: a header "app MODE..." and one row per app with MODE's
// median over orig's ("-" when either is missing: the mode or orig failed). Empty when no app
// has a single ratio.
std::string chart_data(const SuiteReport& suite, const std::string& metric);

struct ChartResult {
  std::vector<std::string> files;  // PNG file names written in the directory
  std::string error;               // why some or all are missing ("" when none is)
};

// Writes the data, charts.gp and the PNGs into DIR by running GNUPLOT (a path or a name looked
// up in PATH; its output in DIR/gnuplot.log). Never throws: a missing gnuplot or a failing
// script is reported in the result, the run's numbers do not depend on it.
ChartResult write_charts(const SuiteReport& suite, const std::filesystem::path& dir,
                         const std::string& gnuplot = "gnuplot");

}  // namespace lockstep::eval::harness
