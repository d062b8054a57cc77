// The deliverable page (`lockstep eval --doc docs/perf/apps.md`): the run's machine and settings,
// the table of every app and mode, the charts copied next to the page (apps-throughput.png,
// apps-latency.png for apps.md) and each app's details. Whatever follows the marker line in an
// existing page (hand-written notes: what limits each mode) is kept when the page is rewritten.
#pragma once

#include <filesystem>
#include <string>

#include "eval/harness/report.h"

namespace lockstep::eval::harness {

inline constexpr const char* kDocNotesMarker =
    "<!-- lockstep eval --doc: text below this line is written by hand and kept on regeneration -->";

// The page; NOTES is the kept text after the marker (without it), CHART_PREFIX the file stem of
// the copied charts ("apps" -> apps-throughput.png).
std::string render_doc(const SuiteReport& suite, const std::string& chart_prefix, const std::string& notes);

// Reads the notes of an existing PATH, copies SUITE's charts from RESULTS_DIR next to PATH and
// writes the page. Throws std::runtime_error with one line on a write failure.
void write_doc(const std::filesystem::path& path, const SuiteReport& suite, const std::filesystem::path& results_dir);

}  // namespace lockstep::eval::harness
