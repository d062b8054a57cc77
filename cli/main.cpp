// `lockstep`: one command with subcommands (node, bench, dmt, cluster, config, eval, ...).
#include <cstdio>

#include "cli/command_registry.h"
#include "common/log.h"

int main(int argc, char** argv) {
  CLI::App app{"lockstep: replicate an unmodified multi-threaded server across machines"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  lockstep::cli::register_all(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : lockstep::cli::kExitUsage;
  } catch (const lockstep::cli::CommandError& e) {
    if (*e.what() != '\0') std::fprintf(stderr, "lockstep: %s\n", e.what());
    return e.exit_code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lockstep: %s\n", e.what());
    return lockstep::cli::kExitFailure;
  }
  return 0;
}
