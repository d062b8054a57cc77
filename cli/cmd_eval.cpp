// `lockstep eval`: compares modes of one or several apps on the local cluster (eval/harness/
// runs the rounds and renders the results; this file turns app.cfg files into the run plan and
// supplies the cluster through cluster/'s API).
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command_registry.h"
#include "cli/node_status.h"
#include "cluster/app.h"
#include "cluster/error.h"
#include "cluster/manager.h"
#include "cluster/spec.h"
#include "common/config.h"
#include "eval/harness/charts.h"
#include "eval/harness/client_output.h"
#include "eval/harness/doc.h"
#include "eval/harness/error.h"
#include "eval/harness/modes.h"
#include "eval/harness/machine.h"
#include "eval/harness/runner.h"
#include "eval/harness/selection.h"
#include "eval/proc/signal_guard.h"

namespace lockstep::cli {
namespace {

namespace cl = lockstep::cluster;
namespace hv = lockstep::eval::harness;
namespace fs = std::filesystem;

struct EvalArgs {
  std::string app;  // comma-separated
  bool all = false;
  std::string modes = "orig,proxy_only";
  int rounds = 3;
  std::string config = "configs/local-3.cfg";
  bool json = false;
  int requests = 0;     // 0: the app's default
  int concurrency = 0;  // 0: the app's default
  std::string workload;  // NAME or APP:NAME items; "" = each app's default
  int warmup = -1;      // -1: a tenth of the requests (at least 50, at most 500)
  int client_timeout_s = 600;
  std::string apps_dir = cl::default_apps_dir();
  std::string launcher = "auto";
  std::string results = "results";
  std::string tag;
  std::string doc;  // markdown page to write (docs/perf/apps.md)
};

// The cluster of one config, driven through cluster/'s C++ API.
class LocalCluster : public hv::ClusterControl {
 public:
  LocalCluster(cl::ClusterSpec spec, std::string config_path, cl::UpOptions base)
      : spec_(std::move(spec)), config_(load_config(config_path)), base_(std::move(base)) {}

  std::string up(const std::string& mode) override {
    cl::UpOptions o = base_;
    o.mode = mode;
    std::vector<std::string> services = cl::cluster_up(spec_, o);
    if (services.empty()) throw cl::ClusterError("cluster up returned no service address");
    // With nodes, the client talks to the leader (as Crane's clients talk to the primary): which
    // replica wins the first election is random, and a follower's clients pay a Forward per
    // request. Orig and dmt_only have one server: replica 1.
    std::optional<std::string> leader = cl::wait_leader_service(
        spec_.name, [this](const std::string& host, int id) { return node_status(host, id); },
        std::chrono::seconds(10));
    if (!leader && services.size() > 1)
      std::fprintf(stderr, "lockstep eval: no leader elected within 10 s; the client uses replica 1\n");
    return leader.value_or(services.front());
  }

  std::optional<std::map<int, int64_t>> divergences(const std::string& /*mode*/) override {
    std::map<int, int64_t> out;
    cl::ClusterStatus st = cl::cluster_status(spec_.name, [this](const std::string& host, int id) {
      return node_status(host, id);
    });
    // Modes without lockstep nodes (orig, dmt_only) compare nothing: no divergences, not unknown.
    if (!st.has_nodes()) return out;
    for (const auto& r : st.replicas) {
      auto it = r.node.find("divergences");
      if (it == r.node.end()) continue;
      try {
        out[r.id] = std::stoll(it->second);
      } catch (const std::exception&) {
      }
    }
    if (out.empty()) return std::nullopt;
    return out;
  }

  void down() noexcept override {
    try {
      cl::cluster_down(spec_.name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "lockstep eval: cluster down failed: %s (run `lockstep cluster down --config %s`)\n",
                   e.what(), spec_.config_path.c_str());
    }
  }

  std::string log_hint(const std::string& /*mode*/) const override {
    return spec_.nodes.empty() ? std::string() : spec_.nodes.front().data_dir + "/logs/";
  }

 private:
  // The node's status JSON, flattened; empty when it does not answer within half a second.
  std::map<std::string, std::string> node_status(const std::string& host, int id) const {
    std::map<std::string, std::string> fields;
    try {
      fields = query_node_status(config_, host, id);
    } catch (const std::exception& e) {
      // Not answering means "unknown divergences", reported as such (and why, in the progress).
      std::fprintf(stderr, "lockstep eval: node %d status: %s\n", id, e.what());
    }
    return fields;
  }

  cl::ClusterSpec spec_;
  ClusterConfig config_;
  cl::UpOptions base_;
};

// results/DATE-TAG/, new for every run.
fs::path make_results_dir(const EvalArgs& a, const std::string& tag) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y%m%d-%H%M%S", &tm);
  fs::path base = fs::path(a.results) / (std::string(date) + "-" + tag);
  fs::path dir = base;
  for (int n = 2; fs::exists(dir); ++n) dir = base.string() + "-" + std::to_string(n);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw CommandError(kExitFailure, "cannot create " + dir.string() + ": " + ec.message());
  return dir;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
  if (!out) throw CommandError(kExitFailure, "cannot write " + p.string());
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// One app's plan: its client command, metrics and load, or why it cannot run. Bad input (an
// unknown workload, a bad metric regex) throws UsageError; a broken app.cfg under --all, a
// missing package or client program is the app's failure, reported with the others' results.
hv::PlannedApp plan_app(const EvalArgs& a, const std::string& name, const std::string& workload_name,
                        const std::vector<std::string>& modes, bool several) {
  hv::PlannedApp p;
  p.options.app = name;
  p.options.workload = workload_name;
  p.options.modes = modes;
  p.options.rounds = a.rounds;
  p.options.client_timeout = std::chrono::seconds(a.client_timeout_s);
  p.options.config = a.config;
  cl::AppDef app;
  try {
    app = cl::load_app(a.apps_dir, name);
  } catch (const cl::UsageError& e) {
    if (!a.all) throw;
    p.error = std::string("app.cfg does not load: ") + e.what();
    p.log = (fs::path(a.apps_dir) / name / "app.cfg").string();
    return p;
  }
  // An app that cannot run under the DMT runtime: refused when asked for alone (bad input),
  // its DMT modes reported failed with the reason in a run over several apps.
  try {
    hv::check_modes_for_app(modes, name, app.dmt_unsupported);
  } catch (const hv::UsageError& e) {
    if (!several) throw;
    for (const auto& m : modes)
      if (hv::uses_dmt(m)) p.options.refused_modes[m] = e.what();
  }
  const cl::Workload& workload = app.workload(workload_name);
  p.options.workload = workload.name;
  if (workload.command.empty()) throw CommandError(kExitUsage, "app " + name + ": workload " + workload.name + " has no command");
  auto int_default = [&](const char* key, int given) {
    if (given > 0) return given;
    auto it = app.client_defaults.find(key);
    return it == app.client_defaults.end() ? 0 : std::stoi(it->second);
  };
  p.options.requests = int_default("requests", a.requests);
  p.options.concurrency = int_default("concurrency", a.concurrency);
  p.options.warmup_requests =
      a.warmup >= 0 ? a.warmup : std::clamp(p.options.requests / 10, std::min(50, p.options.requests), 500);
  const std::string wname = workload.name;
  const int concurrency = p.options.concurrency;
  p.options.client_argv = [app, wname, concurrency](const std::string& target, int requests) {
    return cl::client_argv(app, wname, target, requests, std::min(concurrency, requests));
  };
  std::vector<hv::MetricRule> rules;
  for (const auto& m : app.metrics) rules.push_back({m.name, m.regex, m.unit});
  hv::OutputParser parser(std::move(rules), fs::path(workload.command.front()).filename() == "ab");

  try {
    cl::ensure_packages(app);  // the harness installs what an app needs (idempotent)
  } catch (const cl::ClusterError& e) {
    p.error = e.what();
    return p;
  }
  try {
    // As the client will run: placeholders ({app_dir}, {bin_dir}) expanded.
    const std::string client = hv::resolve_executable(p.options.client_argv("127.0.0.1:1", 1).front());
    if (access(client.c_str(), X_OK) != 0) throw hv::UsageError("client program " + client + " is not executable");
  } catch (const hv::UsageError& e) {
    p.error = e.what();
    return p;
  }
  p.parser.emplace(std::move(parser));
  return p;
}

// The command line this run amounts to, for the summary and the doc.
std::string command_line(const EvalArgs& a) {
  std::string out = "lockstep eval " + (a.all ? std::string("--all") : "--app " + a.app) + " --modes " + a.modes +
                    " --rounds " + std::to_string(a.rounds) + " --config " + a.config;
  if (!a.workload.empty()) out += " --workload " + a.workload;
  if (a.requests > 0) out += " --requests " + std::to_string(a.requests);
  if (a.concurrency > 0) out += " --concurrency " + std::to_string(a.concurrency);
  if (a.warmup >= 0) out += " --warmup " + std::to_string(a.warmup);
  return out;
}

void run(const EvalArgs& a, CLI::App& root) {
  if (a.rounds < 1) throw CommandError(kExitUsage, "--rounds must be at least 1");
  if (a.requests < 0 || a.concurrency < 0) throw CommandError(kExitUsage, "--requests/--concurrency must be positive");
  if (a.concurrency > a.requests && a.requests > 0)
    throw CommandError(kExitUsage, "--concurrency must not exceed --requests");

  // Bad input first, before anything is created: apps, modes, workloads, config.
  const std::vector<std::string> names = hv::select_apps(cl::list_apps(a.apps_dir), a.all, a.app);
  std::vector<std::string> modes = hv::parse_modes(a.modes);
  hv::WorkloadChoice workloads(a.workload, names);
  const bool several = a.all || names.size() > 1 || workloads.for_app(names.front()).size() > 1;
  cl::ClusterSpec spec = cl::load_cluster_spec(a.config);
  std::vector<hv::PlannedApp> plan;
  for (const auto& name : names) {
    const std::vector<std::string> wanted = workloads.for_app(name);
    for (const auto& w : wanted) {
      plan.push_back(plan_app(a, name, w, modes, several));
      // Several workloads of one app: each entry is named APP-WORKLOAD (table, CSV, files).
      if (wanted.size() > 1) plan.back().options.label = name + "-" + plan.back().options.workload;
    }
  }

  cl::UpOptions base;
  base.apps_dir = a.apps_dir;
  base.launcher = a.launcher;
  auto nodes = root.get_subcommands([](CLI::App* sub) { return sub->get_name() == "node"; });
  base.node_available = !nodes.empty() && nodes.front()->get_option_no_throw("--app") != nullptr;
  std::error_code ec;
  base.lockstep_exe = fs::read_symlink("/proc/self/exe", ec).string();

  // Someone else's cluster of the same name is never taken down by us.
  if (cl::cluster_status(spec.name).up)
    throw CommandError(kExitFailure, "cluster " + spec.name + " is already up; take it down first (lockstep cluster down --config " +
                                         a.config + ")");

  const std::string tag = !a.tag.empty() ? a.tag
                          : a.all        ? std::string("all")
                          : several      ? joined(names, "-")
                                         : names.front() + "-" + plan.front().options.workload;
  const fs::path results_dir = make_results_dir(a, tag);
  for (auto& p : plan) p.options.results_dir = results_dir;

  hv::SuiteReport suite;
  suite.several = several;
  suite.results_dir = results_dir.string();
  const ClusterConfig config = load_config(a.config);
  suite.settings.push_back({"command", "`" + command_line(a) + "`"});
  suite.settings.push_back({"cluster", fmt::format("{} replicas, CPU quota {}% of a core per replica{}, durability {}, "
                                                   "batch delay {} us (cut after {} us without submissions; 0 = never)",
                                                   spec.nodes.size(), config.cpu_quota_percent,
                                                   config.cpu_quota_percent ? "" : " (none)",
                                                   to_string(config.storage.durability),
                                                   config.batching.max_batch_delay_us,
                                                   config.batching.batch_quiet_us)});
  suite.settings.push_back({"warm-up", a.warmup >= 0 ? std::to_string(a.warmup) + " requests per mode"
                                                     : std::string("a tenth of the requests (50..500) per mode")});
  for (auto& kv : hv::machine_settings(hv::read_machine_info())) suite.settings.push_back(std::move(kv));

  eval::SignalGuard signals;
  hv::Progress progress(std::cerr, static_cast<int>(plan.size()), static_cast<int>(modes.size()), a.rounds);
  const std::string config_path = a.config;
  hv::ClusterFactory make_cluster = [&spec, &config_path, &base](const hv::RunOptions& o) {
    cl::UpOptions up = base;
    up.app = o.app;
    return std::make_unique<LocalCluster>(spec, config_path, up);
  };
  hv::SuiteReport ran = hv::run_suite(plan, make_cluster, signals, progress);
  suite.apps = std::move(ran.apps);
  suite.interrupted = ran.interrupted;
  if (suite.interrupted) signals.take();
  suite.settings.push_back({"load average at end (1/5/15 min)", hv::load_average()});
  suite.settings.push_back({"duration", hv::format_duration(progress.elapsed())});

  hv::ChartResult charts = hv::write_charts(suite, results_dir);
  suite.charts = charts.files;
  suite.charts_error = charts.error;
  if (!charts.error.empty()) std::fprintf(stderr, "lockstep eval: charts: %s\n", charts.error.c_str());

  write_file(results_dir / "results.csv", hv::render_csv(suite));
  write_file(results_dir / "summary.md", hv::render_summary(suite));
  nlohmann::json j = hv::render_json(suite);
  write_file(results_dir / "results.json", j.dump(2) + "\n");
  if (!a.doc.empty()) {
    try {
      hv::write_doc(a.doc, suite, results_dir);
    } catch (const std::exception& e) {
      throw CommandError(kExitFailure, std::string("--doc: ") + e.what());
    }
  }
  std::fputs(hv::render_table(suite).c_str(), stdout);
  if (!a.doc.empty()) std::printf("doc: %s\n", a.doc.c_str());
  if (a.json) std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
  if (suite.interrupted) throw CommandError(kExitFailure, "eval: interrupted; the cluster was taken down (results so far: " +
                                                             results_dir.string() + ")");
  int failed = 0;
  std::string first;
  for (const auto& r : suite.apps)
    for (const auto& m : r.modes)
      if (!m.ok && failed++ == 0) first = r.app + " " + m.mode + ": " + m.error + (m.log.empty() ? "" : " (log: " + m.log + ")");
  if (failed == 1) throw CommandError(kExitFailure, "eval: " + first);
  if (failed > 1) throw CommandError(kExitFailure, fmt::format("eval: {} app modes failed; first {}", failed, first));
}

const bool registered = add_command([](CLI::App& root) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = root.add_subcommand("eval", "Compare modes of one or several apps on the local cluster (throughput, latency, failures, divergences, charts)");
  cmd->add_option("--app,-a", args->app, "app folder name(s) under the apps directory, comma-separated (apache,mysql)");
  cmd->add_flag("--all", args->all, "every app of the apps directory except test fixtures (echo-mt), in name order");
  std::string mode_names;
  for (const auto& m : hv::known_modes())
    if (m.available) mode_names += std::string(mode_names.empty() ? "" : ", ") + m.name;
  cmd->add_option("--modes,-m", args->modes, "comma-separated: " + mode_names)->capture_default_str();
  cmd->add_option("--rounds,-r", args->rounds, "client runs per mode")->capture_default_str();
  cmd->add_option("--config,-c", args->config, "cluster config (libconfig)")->capture_default_str();
  cmd->add_flag("--json", args->json,
                "last line of stdout: the app's JSON object; with --all or several apps, an array of them");
  cmd->add_option("--requests,-n", args->requests, "requests per round (default: the app's)");
  cmd->add_option("--concurrency", args->concurrency, "concurrent client connections (default: the app's)");
  cmd->add_option("--workload,--page", args->workload,
                  "workload NAME for every app, or APP:NAME items, comma-separated (apache:static); default: each app's first");
  cmd->add_option("--warmup", args->warmup, "warm-up requests per mode (default: requests/10 in 50..500; 0 = none)");
  cmd->add_option("--client-timeout", args->client_timeout_s, "seconds one client run may take")->capture_default_str();
  cmd->add_option("--apps-dir", args->apps_dir, "where app folders live ($LOCKSTEP_APPS_DIR)")->capture_default_str();
  cmd->add_option("--launcher", args->launcher, "auto, lxc or plain")->capture_default_str();
  cmd->add_option("--results", args->results, "parent of the results/DATE-TAG folders")->capture_default_str();
  cmd->add_option("--tag", args->tag, "name of the results folder after the date (default APP-WORKLOAD, all, or A-B)");
  cmd->add_option("--doc", args->doc, "also write this markdown page (docs/perf/apps.md) with the table, machine and charts");
  CLI::App* root_ptr = &root;
  cmd->callback([args, root_ptr] {
    try {
      run(*args, *root_ptr);
    } catch (const cl::UsageError& e) {
      throw CommandError(kExitUsage, e.what());
    } catch (const hv::UsageError& e) {
      throw CommandError(kExitUsage, e.what());
    } catch (const cl::ClusterError& e) {
      throw CommandError(kExitFailure, e.what());
    }
  });
});

}  // namespace
}  // namespace lockstep::cli
