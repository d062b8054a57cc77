// `lockstep node --config FILE --id N`: run one replica's node process in the foreground.
#include "cli/command_registry.h"
#include "common/config.h"
#include "common/log.h"
#include "paxos/node/node.h"
#include "paxos/storage/log_store.h"
#include "proxy/proxy.h"

namespace lockstep::cli {
namespace {

struct NodeArgs {
  std::string config;
  uint32_t id = 0;
  std::string log_level = "info";
  std::string app;     // --app NAME: the replicated server's app; implies --proxy
  bool proxy = false;  // --proxy: serve clients on proxy_port, apply to the server on server_port
};

void run_node(const NodeArgs& args) {
  ClusterConfig config;
  try {
    config = load_config(args.config);
  } catch (const ConfigError& e) {
    throw CommandError(kExitUsage, e.what());
  }
  bool known = false;
  for (const auto& n : config.nodes) known |= n.id == args.id;
  if (!known) throw CommandError(kExitUsage, fmt::format("{}: no node with id {}", args.config, args.id));
  log::set_tag(fmt::format("node{}", args.id));
  if (args.log_level == "debug") log::set_level(log::Level::debug);
  if (args.log_level == "warn") log::set_level(log::Level::warn);
  try {
    node::Node node(std::move(config), args.id);
    std::unique_ptr<proxy::Proxy> proxy;
    if (args.proxy || !args.app.empty()) proxy = std::make_unique<proxy::Proxy>(node, proxy::ProxyOptions{.app = args.app});
    node.run();
  } catch (const paxos::StorageError& e) {
    throw CommandError(kExitFailure, e.what());
  } catch (const std::runtime_error& e) {
    throw CommandError(kExitFailure, e.what());
  }
}

const bool registered = add_command([](CLI::App& root) {
  auto args = std::make_shared<NodeArgs>();
  CLI::App* cmd = root.add_subcommand("node", "Run one replica's node process (paxos + log) in the foreground");
  cmd->add_option("--config", args->config, "Cluster config file")->required();
  cmd->add_option("--id", args->id, "This node's id in the config")->required();
  cmd->add_option("--app", args->app, "The replicated server's app (apps/NAME); starts the proxy");
  cmd->add_flag("--proxy", args->proxy,
                "Start the proxy: clients on the node's proxy_port, events applied to host:server_port");
  cmd->add_option("--log-level", args->log_level, "debug|info|warn")->check(CLI::IsMember({"debug", "info", "warn"}));
  cmd->callback([args] { run_node(*args); });
});

}  // namespace
}  // namespace lockstep::cli
