// `lockstep dmt run [options] -- PROGRAM ARGS...`: runs an unmodified program under the
// deterministic-multithreading runtime (dmt_only mode) and exits with the program's status.
// `lockstep dmt handoff-probe`: two threads pinned to different CPUs pass the turn back and
// forth; run under the runtime it prints the turn hand-off latency (used by `bench dmt`).
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/command_registry.h"
#include "dmt/launch/launch.h"

namespace lockstep::cli {
namespace {

struct RunArgs {
  dmt::launch::Options opt;
  std::vector<std::string> command;
};

void run(const RunArgs& a) {
  if (a.command.empty()) throw CommandError(kExitUsage, "dmt run: no program given (use: lockstep dmt run -- PROGRAM ARGS...)");
  if (!a.opt.clock.empty() && a.opt.clock != "logical" && a.opt.clock != "real") {
    throw CommandError(kExitUsage, "dmt run: --clock must be 'logical' or 'real'");
  }
  std::vector<std::string> env;
  try {
    env = dmt::launch::environment(a.opt);
  } catch (const std::exception& e) {
    throw CommandError(kExitUsage, std::string("dmt run: ") + e.what());
  }
  dmt::launch::Child child(a.command, env);
  const dmt::launch::Outcome o = child.wait();
  if (o.exit_code != 0) throw CommandError(o.exit_code, "");
}

struct ProbeArgs {
  long iterations = 200000;
};

// Each sched_yield is one turn under the runtime; with two threads the turn alternates, so the
// time per turn is the hand-off latency (plus the cost of recording one operation).
void probe(const ProbeArgs& a) {
  using active_fn = int (*)();
  auto active = reinterpret_cast<active_fn>(dlsym(RTLD_DEFAULT, "lockstep_dmt_active"));
  if (!active || !active()) {
    throw CommandError(kExitUsage, "dmt handoff-probe must run under the runtime (lockstep dmt run -- lockstep dmt handoff-probe)");
  }
  const unsigned cpus = std::thread::hardware_concurrency();
  auto body = [&](unsigned cpu) {
    if (cpus > 1) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu % cpus, &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    for (long i = 0; i < a.iterations; ++i) sched_yield();
  };
  // The runtime makes clock_gettime logical; the raw system call reads the real clock.
  auto real_now = [] {
    struct timespec ts{};
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  // Warm up, then measure.
  {
    std::thread x(body, 0), y(body, 1);
    x.join();
    y.join();
  }
  const double t0 = real_now();
  std::thread x(body, 0), y(body, 1);
  x.join();
  y.join();
  const double s = real_now() - t0;
  std::printf("handoff_ns %.1f\n", s * 1e9 / (2.0 * static_cast<double>(a.iterations)));
}

const bool registered = add_command([](CLI::App& root) {
  CLI::App& dmt = subcommand_of(root, "dmt", "Deterministic multithreading runtime (LD_PRELOAD)");

  auto run_args = std::make_shared<RunArgs>();
  CLI::App* r = dmt.add_subcommand("run", "Run PROGRAM under the DMT runtime (dmt_only mode)");
  r->add_option("--lib", run_args->opt.library, "Runtime library (default: ../lib/liblockstep_dmt.so next to lockstep)");
  r->add_option("--trace", run_args->opt.trace, "Write one line per operation (logical time, thread, op, object)");
  r->add_option("--report", run_args->opt.report, "Write a JSON report (schedule_hash, turns, op counts) at exit");
  r->add_option("--profile", run_args->opt.profile, "Measure how long threads compute after each site; write the profile at exit");
  r->add_option("--weights", run_args->opt.weights, "Schedule by a profile written by --profile (see dmt/README.md)")->check(CLI::ExistingFile);
  r->add_option("--ns-per-turn", run_args->opt.ns_per_turn, "Logical nanoseconds per turn (default 1000)")->check(CLI::PositiveNumber);
  r->add_option("--clock", run_args->opt.clock, "Clock the program reads: logical (default) or real");
  r->add_option("--spin", run_args->opt.spin, "Spin iterations before sleeping on a turn (default 1000)")->check(CLI::NonNegativeNumber);
  r->add_option("--watchdog", run_args->opt.watchdog_s, "Seconds without progress before the stall report (0 off)")->check(CLI::NonNegativeNumber);
  r->add_option("command", run_args->command, "PROGRAM ARGS... (after --)")->required();
  r->positionals_at_end();
  r->callback([run_args] { run(*run_args); });

  auto probe_args = std::make_shared<ProbeArgs>();
  CLI::App* p = dmt.add_subcommand("handoff-probe", "Measure turn hand-off latency (run it under the runtime)");
  p->add_option("--iterations", probe_args->iterations, "Turns per thread")->check(CLI::PositiveNumber);
  p->callback([probe_args] { probe(*probe_args); });
});

}  // namespace
}  // namespace lockstep::cli
