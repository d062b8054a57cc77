// `lockstep config check CONFIG` and `lockstep config set-ips CONFIG PRIMARY BACKUP1 ...`.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "common/config.h"

namespace lockstep::cli {
namespace {

struct ConfigArgs {
  std::string path;
  std::vector<std::string> hosts;
};

void check(const ConfigArgs& a) {
  try {
    ClusterConfig c = load_config(a.path);
    std::printf("%s: ok: cluster %s, %zu nodes (quorum %zu), durability %s\n", a.path.c_str(),
                c.name.c_str(), c.nodes.size(), c.quorum(), std::string(to_string(c.storage.durability)).c_str());
  } catch (const ConfigError& e) {
    throw CommandError(kExitUsage, e.what());
  }
}

void set_ips(const ConfigArgs& a) {
  try {
    set_node_hosts(a.path, a.hosts);
    ClusterConfig c = load_config(a.path);
    for (const auto& n : c.nodes) std::printf("node %u: %s\n", n.id, n.host.c_str());
  } catch (const ConfigError& e) {
    throw CommandError(kExitUsage, e.what());
  }
}

const bool registered = add_command([](CLI::App& root) {
  auto& config = subcommand_of(root, "config", "Check and edit cluster configs");
  auto args = std::make_shared<ConfigArgs>();

  auto* chk = config.add_subcommand("check", "Validate a config; one line naming file, line and field on error (exit 2)");
  chk->add_option("config", args->path, "config file")->required();
  chk->callback([args] { check(*args); });

  auto* ips = config.add_subcommand(
      "set-ips", "Set the node addresses, one IPv4 per node in id order (node 1 first); rewrites the file");
  ips->add_option("config", args->path, "config file")->required();
  ips->add_option("ips", args->hosts, "PRIMARY BACKUP1 BACKUP2 ...: one IPv4 address per node")
      ->required()
      ->expected(1, -1);
  ips->callback([args] { set_ips(*args); });
});

}  // namespace
}  // namespace lockstep::cli
