// `lockstep eval`: compares modes of one app on the local cluster (eval/harness/ runs the
// rounds and renders the results; this file supplies the cluster through cluster/'s API).
#include <sys/stat.h>

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
#include "eval/harness/client_output.h"
#include "eval/harness/error.h"
#include "eval/harness/modes.h"
#include "eval/harness/runner.h"
#include "eval/proc/signal_guard.h"

namespace lockstep::cli {
namespace {

namespace cl = lockstep::cluster;
namespace hv = lockstep::eval::harness;
namespace fs = std::filesystem;

struct EvalArgs {
  std::string app;
  std::string modes = "orig,proxy_only";
  int rounds = 3;
  std::string config = "configs/local-3.cfg";
  bool json = false;
  int requests = 0;     // 0: the app's default
  int concurrency = 0;  // 0: the app's default
  std::string page;     // workload name; "" = the app's default
  int warmup = -1;      // -1: a tenth of the requests (at least 50, at most 500)
  int client_timeout_s = 600;
  std::string apps_dir = cl::default_apps_dir();
  std::string launcher = "auto";
  std::string results = "results";
  std::string tag;
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
    return services.front();  // replica 1 (orig has only that one)
  }

  std::optional<std::map<int, int64_t>> divergences(const std::string& mode) override {
    std::map<int, int64_t> out;
    if (mode == "orig") return out;  // no nodes, no digests
    cl::ClusterStatus st = cl::cluster_status(spec_.name, [this](const std::string& host, int id) {
      return node_status(host, id);
    });
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

  bool already_up() const { return cl::cluster_status(spec_.name).up; }

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
fs::path make_results_dir(const EvalArgs& a, const std::string& workload) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y%m%d-%H%M%S", &tm);
  std::string tag = a.tag.empty() ? a.app + "-" + workload : a.tag;
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

void run(const EvalArgs& a, CLI::App& root) {
  if (a.rounds < 1) throw CommandError(kExitUsage, "--rounds must be at least 1");
  if (a.requests < 0 || a.concurrency < 0) throw CommandError(kExitUsage, "--requests/--concurrency must be positive");
  if (a.concurrency > a.requests && a.requests > 0)
    throw CommandError(kExitUsage, "--concurrency must not exceed --requests");

  // Bad input first, before anything is created: app, modes, workload, config, client program.
  cl::AppDef app = cl::load_app(a.apps_dir, a.app);
  std::vector<std::string> modes = hv::parse_modes(a.modes);
  const cl::Workload& workload = app.workload(a.page);
  cl::ClusterSpec spec = cl::load_cluster_spec(a.config);
  if (workload.command.empty()) throw CommandError(kExitUsage, "app " + a.app + ": workload " + workload.name + " has no command");
  const std::string client = hv::resolve_executable(workload.command.front());
  if (auto missing = cl::missing_packages(app); !missing.empty()) {
    std::string names;
    for (const auto& p : missing) names += (names.empty() ? "" : " ") + p;
    throw CommandError(kExitFailure, "app " + a.app + " needs Debian packages not installed: " + names +
                                         " (apt-get install " + names + ")");
  }
  auto int_default = [&](const char* key, int given) {
    if (given > 0) return given;
    auto it = app.client_defaults.find(key);
    return it == app.client_defaults.end() ? 0 : std::stoi(it->second);
  };

  hv::RunOptions o;
  o.app = a.app;
  o.workload = workload.name;
  o.modes = modes;
  o.rounds = a.rounds;
  o.requests = int_default("requests", a.requests);
  o.concurrency = int_default("concurrency", a.concurrency);
  o.warmup_requests = a.warmup >= 0 ? a.warmup : std::clamp(o.requests / 10, std::min(50, o.requests), 500);
  o.client_timeout = std::chrono::seconds(a.client_timeout_s);
  o.config = a.config;
  const std::string workload_name = workload.name;
  const int concurrency = o.concurrency;
  o.client_argv = [app, workload_name, concurrency](const std::string& target, int requests) {
    return cl::client_argv(app, workload_name, target, requests, std::min(concurrency, requests));
  };

  std::vector<hv::MetricRule> rules;
  for (const auto& m : app.metrics) rules.push_back({m.name, m.regex, m.unit});
  hv::OutputParser parser(std::move(rules), fs::path(client).filename() == "ab");

  cl::UpOptions base;
  base.app = a.app;
  base.apps_dir = a.apps_dir;
  base.launcher = a.launcher;
  auto nodes = root.get_subcommands([](CLI::App* sub) { return sub->get_name() == "node"; });
  base.node_available = !nodes.empty() && nodes.front()->get_option_no_throw("--app") != nullptr;
  std::error_code ec;
  base.lockstep_exe = fs::read_symlink("/proc/self/exe", ec).string();

  LocalCluster cluster(spec, a.config, base);
  // Someone else's cluster of the same name is never taken down by us.
  if (cluster.already_up())
    throw CommandError(kExitFailure, "cluster " + spec.name + " is already up; take it down first (lockstep cluster down --config " +
                                         a.config + ")");

  o.results_dir = make_results_dir(a, workload.name);
  eval::SignalGuard signals;
  hv::EvalReport report;
  try {
    report = hv::run_eval(cluster, o, parser, signals, std::cerr);
  } catch (const hv::Interrupted& e) {
    signals.take();
    throw CommandError(kExitFailure, e.what());
  }

  write_file(o.results_dir / "results.csv", hv::render_csv(report));
  write_file(o.results_dir / "summary.md", hv::render_summary(report));
  nlohmann::json j = hv::render_json(report);
  write_file(o.results_dir / "results.json", j.dump(2) + "\n");
  std::fputs(hv::render_table(report).c_str(), stdout);
  if (a.json) std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
  if (!report.ok()) {
    for (const auto& m : report.modes)
      if (!m.ok) throw CommandError(kExitFailure, "eval: mode " + m.mode + " failed: " + m.error + " (log: " + m.log + ")");
  }
}

const bool registered = add_command([](CLI::App& root) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = root.add_subcommand("eval", "Compare modes of an app on the local cluster (throughput, latency, failures, divergences)");
  cmd->add_option("--app,-a", args->app, "app folder name under the apps directory (e.g. apache)")->required();
  cmd->add_option("--modes,-m", args->modes, "comma-separated: orig, proxy_only")->capture_default_str();
  cmd->add_option("--rounds,-r", args->rounds, "client runs per mode")->capture_default_str();
  cmd->add_option("--config,-c", args->config, "cluster config (libconfig)")->capture_default_str();
  cmd->add_flag("--json", args->json, "last line of stdout: one JSON object with the medians");
  cmd->add_option("--requests,-n", args->requests, "requests per round (default: the app's)");
  cmd->add_option("--concurrency", args->concurrency, "concurrent client connections (default: the app's)");
  cmd->add_option("--page,--workload", args->page, "the app's workload (apache: dyn or static; default: the app's first)");
  cmd->add_option("--warmup", args->warmup, "warm-up requests per mode (default: requests/10 in 50..500; 0 = none)");
  cmd->add_option("--client-timeout", args->client_timeout_s, "seconds one client run may take")->capture_default_str();
  cmd->add_option("--apps-dir", args->apps_dir, "where app folders live ($LOCKSTEP_APPS_DIR)")->capture_default_str();
  cmd->add_option("--launcher", args->launcher, "auto, lxc or plain")->capture_default_str();
  cmd->add_option("--results", args->results, "parent of the results/DATE-TAG folders")->capture_default_str();
  cmd->add_option("--tag", args->tag, "name of the results folder after the date (default APP-WORKLOAD)");
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
