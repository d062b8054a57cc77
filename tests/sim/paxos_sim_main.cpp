// paxos-sim: runs the randomized deterministic simulation for a range of seeds.
//
//   paxos-sim --replicas 3 --first 0 --count 500          a batch, as ctest runs it
//   paxos-sim --replicas 3 --seed 1234 --verbose          replay one seed with its event trace
//   paxos-sim --replicas 3 --count 20 --determinism       run every seed twice, compare hashes
//
// Exit 0 when every seed passes, 1 when one fails (each failure printed with the command that
// replays it), 2 on bad usage.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tests/sim/sim_run.h"

namespace {

// The protocol core aborts on a broken invariant. The replay line of the seed being run is kept
// here so the SIGABRT handler can print it; a signal handler can only reach static storage.
char g_replay_line[512];

void on_abort(int) {
  ssize_t ignored = ::write(STDERR_FILENO, g_replay_line, std::strlen(g_replay_line));
  (void)ignored;
  std::signal(SIGABRT, SIG_DFL);
  std::raise(SIGABRT);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Deterministic simulation of the lockstep Multi-Paxos core"};
  size_t replicas = 3;
  uint64_t seed = 0;
  uint64_t first = 0;
  uint64_t count = 100;
  bool verbose = false;
  bool determinism = false;
  int fault_ticks = 250;
  int heal_ticks = 400;
  auto* seed_opt = app.add_option("--seed", seed, "run this one seed");
  app.add_option("--replicas", replicas, "cluster size (3 or 5)")->check(CLI::IsMember({3, 5}));
  app.add_option("--first", first, "first seed of the batch")->excludes(seed_opt);
  app.add_option("--count", count, "number of seeds in the batch")->excludes(seed_opt);
  app.add_option("--fault-ticks", fault_ticks, "ticks of faults per seed")->check(CLI::Range(0, 1000000));
  app.add_option("--heal-ticks", heal_ticks, "ticks allowed to converge after healing")->check(CLI::Range(1, 1000000));
  app.add_flag("--verbose", verbose, "print the event trace");
  app.add_flag("--determinism", determinism, "run every seed twice and compare event hashes");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*seed_opt) {
    first = seed;
    count = 1;
  }

  auto started = std::chrono::steady_clock::now();
  std::signal(SIGABRT, on_abort);
  uint64_t failures = 0, entries = 0, submitted = 0, committed = 0, copies = 0, crashes = 0,
           messages = 0;
  double worst_bloat = 0;
  uint64_t worst_bloat_seed = 0;
  int worst_heal = 0;
  for (uint64_t s = first; s < first + count; ++s) {
    std::string replay = fmt::format("{} --replicas {} --seed {}", argv[0], replicas, s);
    if (fault_ticks != 250) replay += fmt::format(" --fault-ticks {}", fault_ticks);
    if (heal_ticks != 400) replay += fmt::format(" --heal-ticks {}", heal_ticks);
    replay += " --verbose";
    std::snprintf(g_replay_line, sizeof g_replay_line, "\nFAIL seed %llu: the protocol core aborted\n  replay: %s\n",
                  static_cast<unsigned long long>(s), replay.c_str());
    lockstep::sim::RunConfig config{.replicas = replicas, .seed = s, .fault_ticks = fault_ticks,
                                    .heal_ticks = heal_ticks, .trace = verbose ? stdout : nullptr};
    lockstep::sim::RunResult r = lockstep::sim::run_simulation(config);
    if (r.ok && determinism) {
      config.trace = nullptr;
      lockstep::sim::RunResult again = lockstep::sim::run_simulation(config);
      if (again.hash != r.hash || !again.ok) {
        r.ok = false;
        r.failure = fmt::format("nondeterministic: event hash {:016x} then {:016x}", r.hash, again.hash);
      }
    }
    if (!r.ok) {
      ++failures;
      std::printf("FAIL seed %llu (%zu replicas): %s\n  profile: %s\n  replay: %s\n",
                  static_cast<unsigned long long>(s), replicas, r.failure.c_str(), r.profile.c_str(),
                  replay.c_str());
      std::fflush(stdout);
    } else if (verbose) {
      std::printf("seed %llu ok: hash %016llx, %llu entries committed, healed in %d ticks\n",
                  static_cast<unsigned long long>(s), static_cast<unsigned long long>(r.hash),
                  static_cast<unsigned long long>(r.committed_entries), r.heal_ticks_used);
    }
    entries += r.committed_entries;
    submitted += r.submitted;
    committed += r.committed_proposals;
    copies += r.committed_copies;
    if (r.committed_proposals > 0) {
      double bloat = static_cast<double>(r.committed_copies) / static_cast<double>(r.committed_proposals);
      if (bloat > worst_bloat) {
        worst_bloat = bloat;
        worst_bloat_seed = s;
      }
    }
    crashes += r.crashes;
    messages += r.messages;
    worst_heal = std::max(worst_heal, r.heal_ticks_used);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%llu/%llu seeds passed (%zu replicas, seeds %llu..%llu) in %.2f s: %llu entries "
              "committed, %llu/%llu proposals committed (%.2f copies each; worst %.1f, seed %llu), "
              "%llu crashes, %llu messages, slowest convergence %d ticks\n",
              static_cast<unsigned long long>(count - failures), static_cast<unsigned long long>(count),
              replicas, static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(first + count - 1), seconds,
              static_cast<unsigned long long>(entries), static_cast<unsigned long long>(committed),
              static_cast<unsigned long long>(submitted),
              committed ? static_cast<double>(copies) / static_cast<double>(committed) : 0.0,
              worst_bloat, static_cast<unsigned long long>(worst_bloat_seed),
              static_cast<unsigned long long>(crashes),
              static_cast<unsigned long long>(messages), worst_heal);
  return failures == 0 ? 0 : 1;
}
