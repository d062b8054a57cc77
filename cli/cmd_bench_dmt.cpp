// `lockstep bench dmt [--json]`: wall time of real multi-threaded Debian programs (pigz, pbzip2,
// xz) natively and under the DMT runtime, the ratio per program and its geometric mean, and the
// turn hand-off latency; checks that every run's output equals the native output and that the
// schedule hash is the same in every run. Writes docs/perf/dmt.md.
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
  long long size = 16 * 1000 * 1000;
  std::string out = "docs/perf/dmt.md";
  std::string library;
  bool json = false;
};

struct Program {
  std::string name;
  std::vector<std::string> argv;  // the input path is appended
};

struct Row {
  std::string name;
  std::string command;
  double native_s = 0;  // best of the runs
  double dmt_s = 0;
  double native_median_s = 0;
  double dmt_median_s = 0;
  double ratio = 0;
  bool output_same = true;
  bool hash_stable = true;
  std::string hash;
  unsigned long long turns = 0;
  unsigned threads = 0;  // threads the program created under the runtime (incl. main)
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

// The same deterministic text as tests/dmt/programs/gen_input.c.
void write_input(const fs::path& path, long long size) {
  std::ofstream out(path, std::ios::binary);
  unsigned long x = 42;
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

Row bench_program(const Program& p, const fs::path& input, const fs::path& dir, const BenchArgs& a) {
  Row row;
  row.name = p.name;
  row.command = join(p.argv) + " INPUT > OUTPUT";
  std::vector<std::string> argv = p.argv;
  argv.push_back(input.string());
  std::vector<double> native, under;
  std::set<std::string> hashes;
  const fs::path native_out = dir / (p.name + ".native");
  for (int i = 0; i < a.runs; ++i) {
    // Alternate the two modes so that changes in machine load hit both alike.
    dmt::launch::Child n(argv, {}, native_out.string());
    auto o = n.wait();
    if (o.exit_code != 0) throw CommandError(kExitFailure, p.name + " failed natively (exit " + std::to_string(o.exit_code) + ")");
    native.push_back(o.seconds);

    dmt::launch::Options opt;
    opt.library = a.library;
    opt.report = (dir / (p.name + ".report")).string();
    const fs::path dmt_out = dir / (p.name + ".dmt");
    dmt::launch::Child d(argv, dmt::launch::environment(opt), dmt_out.string());
    o = d.wait();
    if (o.exit_code != 0) throw CommandError(kExitFailure, p.name + " failed under the runtime (exit " + std::to_string(o.exit_code) + ")");
    under.push_back(o.seconds);
    if (!same_file(native_out, dmt_out)) row.output_same = false;
    std::ifstream rep(opt.report);
    auto j = nlohmann::json::parse(rep, nullptr, false);
    if (j.is_discarded() || !j.contains("schedule_hash")) throw CommandError(kExitFailure, p.name + ": no report from the runtime");
    hashes.insert(j["schedule_hash"].get<std::string>());
    row.turns = j["turns"].get<unsigned long long>();
    row.threads = j["threads"].get<unsigned>();
  }
  // The machine is shared: the best run of each mode is the least disturbed one.
  row.native_s = *std::min_element(native.begin(), native.end());
  row.dmt_s = *std::min_element(under.begin(), under.end());
  row.native_median_s = median(native);
  row.dmt_median_s = median(under);
  row.ratio = row.dmt_s / row.native_s;
  row.hash_stable = hashes.size() == 1;
  row.hash = *hashes.begin();
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

void write_markdown(const BenchArgs& a, const std::vector<Row>& rows, double geomean, double handoff,
                    const std::string& load_before, const std::string& load_after) {
  const fs::path out(a.out);
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  std::ofstream md(out);
  utsname u{};
  ::uname(&u);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  md << "# DMT runtime overhead\n\n"
     << "Written by `lockstep bench dmt` on " << date << ". Each program compresses the same "
     << a.size << "-byte generated text file, output to a file; " << a.runs
     << " runs per mode (native and under `liblockstep_dmt.so`, alternating); the ratio uses the best "
     << "run of each mode, medians are shown too.\n\n"
     << "Machine: " << cpu_model() << ", " << std::thread::hardware_concurrency() << " CPUs, Linux "
     << u.release << "; load average " << load_before << " before, " << load_after << " after "
     << "(the machine is shared, so timings are noisy).\n\n"
     << "| program | command | native s (best / median) | dmt s (best / median) | ratio | output = native | schedule hash stable | turns | threads (dmt) |\n"
     << "|---|---|---:|---:|---:|---|---|---:|---:|\n";
  char buf[512];
  for (const Row& r : rows) {
    std::snprintf(buf, sizeof buf, "| %s | `%s` | %.3f / %.3f | %.3f / %.3f | %.3f | %s | %s (%s) | %llu | %u |\n",
                  r.name.c_str(), r.command.c_str(), r.native_s, r.native_median_s, r.dmt_s, r.dmt_median_s, r.ratio, r.output_same ? "yes" : "NO",
                  r.hash_stable ? "yes" : "NO", r.hash.c_str(), r.turns, r.threads);
    md << buf;
  }
  std::snprintf(buf, sizeof buf,
                "\nGeometric mean of the ratios: **%.3f** (overhead %+.1f%%; goal <= +15%%).\n\n"
                "Turn hand-off latency (two threads pinned to different CPUs passing the turn with "
                "`sched_yield`, including recording each operation): **%.0f ns** (goal < 2000 ns).\n",
                geomean, (geomean - 1) * 100, handoff);
  md << buf;
  md << "\nNotes: the threads column counts the threads each program created under the runtime. "
        "xz's encoder starts worker threads lazily; under the deterministic schedule it may start "
        "fewer than natively, and on a 2-CPU machine fewer encoders time-slicing the CPUs can be "
        "faster, so a ratio below 1 there is the program's own behaviour, not a negative cost of "
        "scheduling. Regenerate with `lockstep bench dmt`.\n";
}

void run(const BenchArgs& a) {
  if (a.runs < 1) throw CommandError(kExitUsage, "bench dmt: --runs must be >= 1");
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
  write_input(input, args.size);
  const std::string load_before = loadavg();
  std::vector<Row> rows;
  double log_sum = 0;
  for (const auto& p : programs) {
    log::info("bench dmt: {} ({} runs per mode)", p.name, args.runs);
    rows.push_back(bench_program(p, input, dir.path(), args));
    log_sum += std::log(rows.back().ratio);
  }
  const double geomean = std::exp(log_sum / static_cast<double>(rows.size()));
  const double handoff = handoff_ns(args);
  const std::string load_after = loadavg();

  std::printf("%-8s %10s %10s %8s %6s %6s\n", "program", "native s", "dmt s", "ratio", "same", "hash");
  for (const Row& r : rows) {
    std::printf("%-8s %10.3f %10.3f %8.3f %6s %6s\n", r.name.c_str(), r.native_s, r.dmt_s, r.ratio,
                r.output_same ? "yes" : "NO", r.hash_stable ? "yes" : "NO");
  }
  std::printf("geomean ratio %.3f (overhead %+.1f%%)\nturn hand-off %.0f ns\n", geomean, (geomean - 1) * 100, handoff);
  write_markdown(args, rows, geomean, handoff, load_before, load_after);
  std::printf("wrote %s\n", args.out.c_str());
  if (args.json) {
    nlohmann::json j;
    j["geomean_ratio"] = geomean;
    j["handoff_ns"] = handoff;
    for (const Row& r : rows) {
      j["programs"].push_back({{"name", r.name}, {"native_s", r.native_s}, {"dmt_s", r.dmt_s},
                               {"native_median_s", r.native_median_s}, {"dmt_median_s", r.dmt_median_s}, {"ratio", r.ratio},
                               {"output_same", r.output_same}, {"hash_stable", r.hash_stable}, {"schedule_hash", r.hash},
                               {"turns", r.turns}});
    }
    std::printf("%s\n", j.dump().c_str());
  }
  for (const Row& r : rows) {
    if (!r.output_same) throw CommandError(kExitFailure, r.name + ": output under the runtime differs from native");
    if (!r.hash_stable) throw CommandError(kExitFailure, r.name + ": schedule hash differs between runs");
  }
}

const bool registered = add_command([](CLI::App& root) {
  CLI::App& bench = subcommand_of(root, "bench", "Benchmarks");
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = bench.add_subcommand("dmt", "Overhead of the DMT runtime on pigz, pbzip2 and xz; hand-off latency");
  cmd->add_option("--runs", args->runs, "Runs per program and mode (the best is compared)")->check(CLI::PositiveNumber);
  cmd->add_option("--size", args->size, "Input size in bytes")->check(CLI::PositiveNumber);
  cmd->add_option("--out", args->out, "Markdown report to write");
  cmd->add_option("--lib", args->library, "Runtime library (default: next to lockstep)");
  cmd->add_flag("--json", args->json, "Also print one JSON object as the last line");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace lockstep::cli
