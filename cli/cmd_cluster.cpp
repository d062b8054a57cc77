// `lockstep cluster up|status|kill|restart|down`: the local cluster on one machine (cluster/).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "cli/command_registry.h"
#include "cli/node_status.h"
#include "cluster/app.h"
#include "cluster/error.h"
#include "cluster/manager.h"
#include "cluster/spec.h"
#include "common/config.h"

namespace lockstep::cli {
namespace {

namespace cl = lockstep::cluster;

struct ClusterArgs {
  std::string config = "configs/local-3.cfg";
  std::string app;
  std::string mode = "orig";
  std::string apps_dir = cl::default_apps_dir();
  std::string launcher = "auto";
  bool json = false;
  int id = 0;
};

// Runs BODY, turning cluster errors into one-line command errors with the right exit code.
template <typename F>
void guarded(F&& body) {
  try {
    body();
  } catch (const cl::UsageError& e) {
    throw CommandError(kExitUsage, e.what());
  } catch (const cl::ClusterError& e) {
    throw CommandError(kExitFailure, e.what());
  }
}

cl::UpOptions up_options(const ClusterArgs& a, CLI::App& root) {
  cl::UpOptions o;
  o.app = a.app;
  o.mode = a.mode;
  o.apps_dir = a.apps_dir;
  o.launcher = a.launcher;
  // proxy_only needs `lockstep node` with its proxy (which takes --app), written in its own
  // cmd_*.cpp: it is used as soon as that file registers it with --app.
  auto nodes = root.get_subcommands([](CLI::App* sub) { return sub->get_name() == "node"; });
  o.node_available = !nodes.empty() && nodes.front()->get_option_no_throw("--app") != nullptr;
  std::error_code ec;
  o.lockstep_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  return o;
}

// Role, view, commit, connections, divergences... of a replica, from its node's status (served
// on the peer port); nothing when the node does not answer within half a second.
cl::NodeStatusFn node_status_from(const std::string& config_path) {
  auto config = std::make_shared<ClusterConfig>(load_config(config_path));
  return [config](const std::string& host, int id) {
    std::map<std::string, std::string> fields;
    try {
      fields = query_node_status(*config, host, id);
      if (!fields.count("connections") && fields.count("clients")) fields["connections"] = fields["clients"];
    } catch (const std::exception&) {
      // A node that does not answer shows "-" in the table; it is not an error of `status`.
    }
    return fields;
  };
}

void add_config_option(CLI::App& cmd, ClusterArgs& a) {
  cmd.add_option("--config,-c", a.config, "cluster config (libconfig)")->capture_default_str();
}

const bool registered = add_command([](CLI::App& root) {
  auto args = std::make_shared<ClusterArgs>();
  CLI::App& cluster = subcommand_of(root, "cluster", "Run a local cluster: one network namespace per replica");
  CLI::App* root_ptr = &root;

  CLI::App* up = cluster.add_subcommand("up", "Create namespaces and cgroups, start the servers, wait until ready");
  add_config_option(*up, *args);
  up->add_option("--app,-a", args->app, "app folder name under the apps directory (e.g. apache, echo-mt)")->required();
  up->add_option("--mode,-m", args->mode, "orig, proxy_only or dmt_only (joint is refused: not implemented yet)")->capture_default_str();
  up->add_option("--apps-dir", args->apps_dir, "where app folders live ($LOCKSTEP_APPS_DIR)")->capture_default_str();
  up->add_option("--launcher", args->launcher, "auto, lxc or plain")->capture_default_str();
  up->callback([args, root_ptr] {
    guarded([&] {
      cl::ClusterSpec spec = cl::load_cluster_spec(args->config);
      for (const auto& addr : cl::cluster_up(spec, up_options(*args, *root_ptr)))
        std::printf("service %s\n", addr.c_str());
      std::fflush(stdout);
    });
  });

  CLI::App* status = cluster.add_subcommand("status", "Show each replica's processes and whether it serves");
  add_config_option(*status, *args);
  status->add_flag("--json", args->json, "one JSON object on one line");
  status->callback([args] {
    guarded([&] {
      cl::ClusterSpec spec = cl::load_cluster_spec(args->config);
      cl::ClusterStatus st = cl::cluster_status(spec.name, node_status_from(args->config));
      std::string out = args->json ? st.to_json() + "\n" : st.to_table();
      std::fputs(out.c_str(), stdout);
    });
  });

  CLI::App* kill = cluster.add_subcommand("kill", "SIGKILL replica N's server and node (a crash)");
  add_config_option(*kill, *args);
  kill->add_option("id", args->id, "replica id")->required();
  kill->callback([args] {
    guarded([&] {
      cl::ClusterSpec spec = cl::load_cluster_spec(args->config);
      cl::cluster_kill(spec.name, args->id);
      std::printf("replica %d killed\n", args->id);
    });
  });

  CLI::App* restart = cluster.add_subcommand("restart", "Start replica N again and wait until it serves");
  add_config_option(*restart, *args);
  restart->add_option("id", args->id, "replica id")->required();
  restart->add_option("--launcher", args->launcher, "auto, lxc or plain")->capture_default_str();
  restart->callback([args, root_ptr] {
    guarded([&] {
      cl::ClusterSpec spec = cl::load_cluster_spec(args->config);
      cl::cluster_restart(spec, args->id, up_options(*args, *root_ptr));
      std::printf("replica %d restarted\n", args->id);
    });
  });

  CLI::App* down = cluster.add_subcommand("down", "Stop everything and remove namespaces, links, cgroups (idempotent)");
  add_config_option(*down, *args);
  down->callback([args] {
    guarded([&] {
      cl::ClusterSpec spec = cl::load_cluster_spec(args->config);
      auto removed = cl::cluster_down(spec.name);
      if (removed.empty()) std::printf("cluster %s: nothing to remove\n", spec.name.c_str());
      for (const auto& line : removed) std::printf("removed %s\n", line.c_str());
    });
  });
});

}  // namespace
}  // namespace lockstep::cli
