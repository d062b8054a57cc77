#include "cli/command_registry.h"

#include <vector>

namespace lockstep::cli {
namespace {
std::vector<Registration>& registrations() {
  static std::vector<Registration> list;  // filled during static initialization only
  return list;
}
}  // namespace

bool add_command(Registration registration) {
  registrations().push_back(std::move(registration));
  return true;
}

void register_all(CLI::App& root) {
  for (auto& r : registrations()) r(root);
}

CLI::App& subcommand_of(CLI::App& parent, const std::string& name, const std::string& description) {
  for (CLI::App* sub : parent.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return *sub;
  }
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->require_subcommand(1);
  return *sub;
}

}  // namespace lockstep::cli
