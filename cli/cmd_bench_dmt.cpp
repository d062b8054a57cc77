// `lockstep bench dmt [--json]`: wall time of real multi-threaded Debian programs (pigz, pbzip2,
// xz) natively and under the DMT runtime — round-robin, and weighted by a profile that a training
// run on another input wrote — the ratios per program and their geometric means, and the turn
// hand-off latency; checks that every run's output equals the native output and that each
// schedule's hash is the same in every run. Writes docs/perf/dmt.md.
#include <sys/utsname.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/command_registry.h"
#include "common/log.h"
#include "dmt/launch/launch.h"

namespace lockstep::cli {
namespace {

namespace fs = std::filesystem;

struct BenchArgs {
  int runs = 5;
  int train_runs = 3;
  long long size = 16 * 1000 * 1000;
  std::string out = "docs/perf/dmt.md";
  std::string library;
  bool json = false;
};

struct Program {
  std::string name;
  std::vector<std::string> argv;  // the input path is appended
};

// One way of running the program: its times and, under the runtime, its schedule.
struct ModeResult {
  std::vector<double> seconds;
  std::set<std::string> hashes;
  bool output_same = true;
  unsigned long long turns = 0;
  unsigned threads = 0;  // threads the program created under the runtime (incl. main)
  double best() const { return *std::min_element(seconds.begin(), seconds.end()); }
};

struct Row {
  std::string name;
  std::string command;
  ModeResult native, round_robin, weighted;
  size_t profile_sites = 0;
  // The machine is shared: the best run of each mode is the least disturbed one.
  double ratio() const { return round_robin.best() / native.best(); }
  double weighted_ratio() const { return weighted.best() / native.best(); }
  bool output_same() const { return round_robin.output_same && weighted.output_same; }
  bool hash_stable() const { return round_robin.hashes.size() == 1 && weighted.hashes.size() == 1; }
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lockstep-bench-dmt.XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw CommandError(kExitFailure, "cannot create a temporary directory");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// With seed 42, the same deterministic text as tests/dmt/programs/gen_input.c.
void write_input(const fs::path& path, long long size, unsigned long seed) {
  std::ofstream out(path, std::ios::binary);
  unsigned long x = seed;
  std::vector<std::string> vocab(4096);
  for (auto& w : vocab) {
    x = x * 6364136223846793005ul + 1442695040888963407ul;
    int len = 2 + static_cast<int>((x >> 33) % 9);
    for (int i = 0; i < len; ++i) {
      x = x * 6364136223846793005ul + 1442695040888963407ul;
      w.push_back(static_cast<char>('a' + (x >> 35) % 16));
    }
  }
  long long written = 0;
  std::string chunk;
  while (written < size) {
    x = x * 6364136223846793005ul + 1442695040888963407ul;
    const std::string& w = vocab[(x >> 30) % 4096];
    chunk += w;
    chunk += (x >> 20) % 13 == 0 ? '\n' : ' ';
    written += static_cast<long long>(w.size()) + 1;
    if (chunk.size() > (1 << 20)) {
      out << chunk;
      chunk.clear();
    }
  }
  out << chunk;
  if (!out) throw CommandError(kExitFailure, "cannot write the benchmark input");
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::ifstream x(a, std::ios::binary), y(b, std::ios::binary);
  std::istreambuf_iterator<char> xe, ye;
  return std::equal(std::istreambuf_iterator<char>(x), xe, std::istreambuf_iterator<char>(y), ye);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string read_line(const fs::path& p, const std::string& key) {
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return "";
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// Runs ARGV once; under the runtime when OPT is set, recording the schedule into R.
void run_once(const std::string& name, const std::vector<std::string>& argv, const dmt::launch::Options* opt,
              const fs::path& out, const fs::path& native_out, ModeResult& r) {
  dmt::launch::Child c(argv, opt ? dmt::launch::environment(*opt) : std::vector<std::string>{}, out.string());
  const auto o = c.wait();
  if (o.exit_code != 0) {
    throw CommandError(kExitFailure, name + " failed " + (opt ? "under the runtime" : "natively") + " (exit " +
                                         std::to_string(o.exit_code) + ")");
  }
  r.seconds.push_back(o.seconds);
  if (!opt) return;
  if (!same_file(native_out, out)) r.output_same = false;
  std::ifstream rep(opt->report);
  auto j = nlohmann::json::parse(rep, nullptr, false);
  if (j.is_discarded() || !j.contains("schedule_hash")) throw CommandError(kExitFailure, name + ": no report from the runtime");
  r.hashes.insert(j["schedule_hash"].get<std::string>());
  r.turns = j["turns"].get<unsigned long long>();
  r.threads = j["threads"].get<unsigned>();
}

Row bench_program(const Program& p, const fs::path& input, const fs::path& train, const fs::path& dir, const BenchArgs& a) {
  Row row;
  row.name = p.name;
  row.command = join(p.argv) + " INPUT > OUTPUT";
  std::vector<std::string> argv = p.argv;
  argv.push_back(input.string());

  // The training runs: round-robin on another input, each writing a profile; the weights file
  // is their concatenation (the runtime pools the samples of a site), which evens out a run
  // whose means a passing disturbance skewed.
  const fs::path weights = dir / (p.name + ".weights");
  std::vector<std::string> train_argv = p.argv;
  train_argv.push_back(train.string());
  {
    std::ofstream merged(weights);
    for (int i = 0; i < a.train_runs; ++i) {
      dmt::launch::Options profile;
      profile.library = a.library;
      profile.profile = (dir / (p.name + ".profile")).string();
      dmt::launch::Child c(train_argv, dmt::launch::environment(profile), (dir / (p.name + ".train")).string());
      if (c.wait().exit_code != 0) throw CommandError(kExitFailure, p.name + ": a profiling run failed");
      std::ifstream prof(profile.profile);
      for (std::string line; std::getline(prof, line);) {
        merged << line << '\n';
        if (i == 0) row.profile_sites += !line.empty() && line[0] != '#';
      }
    }
    if (!merged) throw CommandError(kExitFailure, "cannot write " + weights.string());
  }

  dmt::launch::Options round_robin;
  round_robin.library = a.library;
  round_robin.report = (dir / (p.name + ".report")).string();
  dmt::launch::Options weighted = round_robin;
  weighted.weights = weights.string();
  const fs::path native_out = dir / (p.name + ".native");
  const fs::path dmt_out = dir / (p.name + ".dmt");
  for (int i = 0; i < a.runs; ++i) {
    // Alternate the modes so that changes in machine load hit all alike.
    run_once(p.name, argv, nullptr, native_out, native_out, row.native);
    run_once(p.name, argv, &round_robin, dmt_out, native_out, row.round_robin);
    run_once(p.name, argv, &weighted, dmt_out, native_out, row.weighted);
  }
  return row;
}

double handoff_ns(const BenchArgs& a) {
  dmt::launch::Options opt;
  opt.library = a.library;
  TempDir dir;
  const fs::path out = dir.path() / "probe.out";
  dmt::launch::Child c({"/proc/self/exe", "dmt", "handoff-probe"}, dmt::launch::environment(opt), out.string());
  if (c.wait().exit_code != 0) throw CommandError(kExitFailure, "the hand-off probe failed");
  const std::string v = read_line(out, "handoff_ns ");
  if (v.empty()) throw CommandError(kExitFailure, "the hand-off probe printed no result");
  return std::stod(v);
}

// Text below this line in the report is written by hand and kept when the bench rewrites it.
constexpr const char* kNotesMarker = "<!-- lockstep bench dmt: text below this line is written by hand and kept -->";

std::string kept_notes(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const size_t at = text.find(kNotesMarker);
  return at == std::string::npos ? "" : text.substr(at + std::string(kNotesMarker).size());
}

void write_markdown(const BenchArgs& a, const std::vector<Row>& rows, double geomean_rr, double geomean_weighted,
                    double handoff, const std::string& load_before, const std::string& load_after) {
  const fs::path out(a.out);
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  const std::string notes = kept_notes(out);
  std::ofstream md(out);
  utsname u{};
  ::uname(&u);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  md << "# DMT runtime overhead\n\n"
     << "Written by `lockstep bench dmt` on " << date << ". Each program compresses the same "
     << a.size << "-byte generated text file, output to a file; " << a.runs
     << " runs per mode, the modes alternating: native; under `liblockstep_dmt.so` with the "
     << "round-robin turn; and under it with gap weights (`LOCKSTEP_DMT_WEIGHTS`) from the profiles "
     << "that " << a.train_runs << " training runs wrote on a *different* generated text of the same size "
     << "(`LOCKSTEP_DMT_PROFILE`, round-robin, concatenated; see dmt/README.md). The ratio uses the best run of "
     << "each mode; medians are shown too.\n\n"
     << "Machine: " << cpu_model() << ", " << std::thread::hardware_concurrency() << " CPUs, Linux "
     << u.release << "; load average " << load_before << " before, " << load_after << " after "
     << "(the machine is shared, so timings are noisy).\n\n"
     << "| program | command | native s (best / median) | round-robin s (best / median) | ratio | weighted s (best / median) | **ratio** | output = native | schedule hash stable (weighted) | turns | threads | profile sites |\n"
     << "|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|\n";
  char buf[768];
  for (const Row& r : rows) {
    std::snprintf(buf, sizeof buf,
                  "| %s | `%s` | %.3f / %.3f | %.3f / %.3f | %.3f | %.3f / %.3f | **%.3f** | %s | %s (%s) | %llu | %u | %zu |\n",
                  r.name.c_str(), r.command.c_str(), r.native.best(), median(r.native.seconds), r.round_robin.best(),
                  median(r.round_robin.seconds), r.ratio(), r.weighted.best(), median(r.weighted.seconds), r.weighted_ratio(),
                  r.output_same() ? "yes" : "NO", r.hash_stable() ? "yes" : "NO",
                  r.weighted.hashes.begin()->c_str(), r.weighted.turns, r.weighted.threads, r.profile_sites);
    md << buf;
  }
  std::snprintf(buf, sizeof buf,
                "\nGeometric mean of the ratios: round-robin **%.3f** (overhead %+.1f%%), weighted **%.3f** "
                "(overhead %+.1f%%); goal <= +15%%.\n\n"
                "Turn hand-off latency (two threads pinned to different CPUs passing the turn with "
                "`sched_yield`, including recording each operation): **%.0f ns** (goal < 2000 ns).\n",
                geomean_rr, (geomean_rr - 1) * 100, geomean_weighted, (geomean_weighted - 1) * 100, handoff);
  md << buf;
  md << "\nNotes: turns and threads are those of the weighted runs. xz's encoder starts worker "
        "threads lazily; under a deterministic schedule it may start fewer than natively, and on "
        "a 2-CPU machine fewer encoders time-slicing the CPUs can be faster, so a ratio below 1 "
        "there is the program's own behaviour, not a negative cost of scheduling. Regenerate with "
        "`lockstep bench dmt`.\n\n"
     << kNotesMarker << notes;
  if (notes.empty()) md << "\n";
}

void run(const BenchArgs& a) {
  if (a.runs < 1) throw CommandError(kExitUsage, "bench dmt: --runs must be >= 1");
  if (a.train_runs < 1) throw CommandError(kExitUsage, "bench dmt: --train-runs must be >= 1");
  const std::vector<Program> programs{
      {"pigz", {"pigz", "-p", "4", "-c"}},
      {"pbzip2", {"pbzip2", "-p4", "-c"}},
      {"xz", {"xz", "-T4", "--block-size=2MiB", "-3", "-c"}},
  };
  for (const auto& p : programs) {
    bool found = false;
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/local/bin/"}) found = found || fs::exists(std::string(dir) + p.argv[0]);
    if (!found) throw CommandError(kExitFailure, "bench dmt: " + p.argv[0] + " is not installed (apt-get install " + p.argv[0] + ")");
  }
  BenchArgs args = a;
  try {
    if (args.library.empty()) args.library = dmt::launch::default_library();
  } catch (const std::exception& e) {
    throw CommandError(kExitUsage, std::string("bench dmt: ") + e.what());
  }
  TempDir dir;
  const fs::path input = dir.path() / "input.txt";
  const fs::path train = dir.path() / "train.txt";
  write_input(input, args.size, 42);
  write_input(train, args.size, 7);
  const std::string load_before = loadavg();
  std::vector<Row> rows;
  double log_rr = 0, log_weighted = 0;
  for (const auto& p : programs) {
    log::info("bench dmt: {} ({} profiling runs, then {} runs per mode)", p.name, args.train_runs, args.runs);
    rows.push_back(bench_program(p, input, train, dir.path(), args));
    log_rr += std::log(rows.back().ratio());
    log_weighted += std::log(rows.back().weighted_ratio());
  }
  const double n = static_cast<double>(rows.size());
  const double geomean_rr = std::exp(log_rr / n);
  const double geomean_weighted = std::exp(log_weighted / n);
  const double handoff = handoff_ns(args);
  const std::string load_after = loadavg();

  std::printf("%-8s %10s %10s %8s %10s %8s %6s %6s\n", "program", "native s", "rr s", "ratio", "weighted s", "ratio", "same", "hash");
  for (const Row& r : rows) {
    std::printf("%-8s %10.3f %10.3f %8.3f %10.3f %8.3f %6s %6s\n", r.name.c_str(), r.native.best(), r.round_robin.best(),
                r.ratio(), r.weighted.best(), r.weighted_ratio(),
                r.output_same() ? "yes" : "NO", r.hash_stable() ? "yes" : "NO");
  }
  std::printf("geomean ratio: round-robin %.3f (overhead %+.1f%%), weighted %.3f (overhead %+.1f%%)\nturn hand-off %.0f ns\n",
              geomean_rr, (geomean_rr - 1) * 100, geomean_weighted, (geomean_weighted - 1) * 100, handoff);
  write_markdown(args, rows, geomean_rr, geomean_weighted, handoff, load_before, load_after);
  std::printf("wrote %s\n", args.out.c_str());
  if (args.json) {
    nlohmann::json j;
    j["geomean_ratio"] = geomean_weighted;
    j["geomean_ratio_round_robin"] = geomean_rr;
    j["handoff_ns"] = handoff;
    for (const Row& r : rows) {
      j["programs"].push_back({{"name", r.name}, {"native_s", r.native.best()}, {"dmt_s", r.weighted.best()},
                               {"round_robin_s", r.round_robin.best()}, {"native_median_s", median(r.native.seconds)},
                               {"dmt_median_s", median(r.weighted.seconds)}, {"ratio", r.weighted_ratio()},
                               {"round_robin_ratio", r.ratio()}, {"output_same", r.output_same()},
                               {"hash_stable", r.hash_stable()}, {"schedule_hash", *r.weighted.hashes.begin()},
                               {"turns", r.weighted.turns}, {"profile_sites", r.profile_sites}});
    }
    std::printf("%s\n", j.dump().c_str());
  }
  for (const Row& r : rows) {
    if (!r.output_same()) throw CommandError(kExitFailure, r.name + ": output under the runtime differs from native");
    if (!r.hash_stable()) throw CommandError(kExitFailure, r.name + ": schedule hash differs between runs");
  }
}

const bool registered = add_command([](CLI::App& root) {
  CLI::App& bench = subcommand_of(root, "bench", "Benchmarks");
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = bench.add_subcommand("dmt", "Overhead of the DMT runtime on pigz, pbzip2 and xz; hand-off latency");
  cmd->add_option("--runs", args->runs, "Runs per program and mode (the best is compared)")->check(CLI::PositiveNumber);
  cmd->add_option("--size", args->size, "Input size in bytes")->check(CLI::PositiveNumber);
  cmd->add_option("--train-runs", args->train_runs, "Profiling runs (on another input) merged into the weights")->check(CLI::PositiveNumber);
  cmd->add_option("--out", args->out, "Markdown report to write");
  cmd->add_option("--lib", args->library, "Runtime library (default: next to lockstep)");
  cmd->add_flag("--json", args->json, "Also print one JSON object as the last line");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace lockstep::cli
