// Start-up and shutdown: real functions, options, the main thread, the exit report, the watchdog.
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "dmt/src/real.h"
#include "dmt/src/runtime.h"

namespace lockstep::dmt {

constinit Global g;
Real real;

namespace {

thread_local Thread* t_self __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local bool t_in_init __attribute__((tls_model("initial-exec"))) = false;

uint64_t env_u64(const char* name, uint64_t fallback, uint64_t min, uint64_t max) {
  const char* v = getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno != 0 || *end != '\0' || x < min || x > max) {
    errmsg("bad value for ", name, " (expected an integer in range)");
    _exit(2);
  }
  return x;
}

void env_str(const char* name, char* out, size_t size) {
  const char* v = getenv(name);
  if (!v) return;
  if (strlen(v) >= size) {
    errmsg(name, " is too long");
    _exit(2);
  }
  memcpy(out, v, strlen(v) + 1);
}

void read_options() {
  Options& o = g.opt;
  memcpy(o.process_index, "0", 2);
  env_str("LOCKSTEP_DMT_PROCESS_INDEX", o.process_index, sizeof o.process_index);
  o.ns_per_turn = env_u64("LOCKSTEP_DMT_NS_PER_TURN", 1000, 1, 1000000000ull);
  o.spin = static_cast<uint32_t>(env_u64("LOCKSTEP_DMT_SPIN", 1000, 0, 100000000));
  o.watchdog_s = static_cast<uint32_t>(env_u64("LOCKSTEP_DMT_WATCHDOG_S", 10, 0, 86400));
  o.stall_abort = env_u64("LOCKSTEP_DMT_STALL_ABORT", 0, 0, 1) == 1;
  o.disabled = env_u64("LOCKSTEP_DMT_DISABLE", 0, 0, 1) == 1;
  o.keep_in_cs = env_u64("LOCKSTEP_DMT_KEEP_TURN_IN_CS", 1, 0, 1) == 1;
  o.soft_barrier_turns = static_cast<uint32_t>(env_u64("LOCKSTEP_DMT_SOFT_BARRIER_TURNS", 10000, 1, 1u << 30));
  o.weight_context = env_u64("LOCKSTEP_DMT_WEIGHT_CONTEXT", 1, 0, 1) == 1;
  o.logical_clock = true;
  if (const char* c = getenv("LOCKSTEP_DMT_CLOCK")) {
    if (strcmp(c, "real") == 0) {
      o.logical_clock = false;
    } else if (strcmp(c, "logical") != 0) {
      errmsg("LOCKSTEP_DMT_CLOCK must be 'logical' or 'real'");
      _exit(2);
    }
  }
  if (const char* c = getenv("LOCKSTEP_DMT_IDLE")) {
    if (strcmp(c, "real") == 0) {
      o.idle_real = true;
    } else if (strcmp(c, "jump") != 0) {
      errmsg("LOCKSTEP_DMT_IDLE must be 'jump' or 'real'");
      _exit(2);
    }
  }
  env_str("LOCKSTEP_DMT_WEIGHTS", o.weights_path, sizeof o.weights_path);
  env_str("LOCKSTEP_DMT_PROFILE", o.profile_path, sizeof o.profile_path);
  env_str("LOCKSTEP_DMT_TRACE", o.trace_path, sizeof o.trace_path);
  env_str("LOCKSTEP_DMT_REPORT", o.report_path, sizeof o.report_path);
  env_str("LOCKSTEP_DMT_LOG", o.log_path, sizeof o.log_path);
}

void resolve_one(void** slot, const char* name) {
  *slot = dlsym(RTLD_NEXT, name);
  if (!*slot) {
    const char* msg = "cannot resolve the real function ";
    // errmsg needs real.write; fall back to a raw syscall-free path: there is none, so be terse.
    if (real.write) errmsg(msg, name);
  }
}

int64_t clock_ns(clockid_t c) {
  struct timespec ts;
  real.clock_gettime(c, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

// A server is usually stopped by SIGTERM, whose default action ends the process without running
// exit handlers, so it would never write its report. Where the program left a terminating signal
// at its default action, the runtime writes the report (and flushes the trace) first, then lets
// the signal act as the default would. A program installing its own handler simply replaces this
// one (its handler then decides how it exits). The report describes wherever the signal found the
// program: not a deterministic point.
void on_terminating_signal(int sig) {
  flush_trace();
  write_report();
  // SA_RESETHAND restored the default action and SA_NODEFER left the signal unblocked.
  raise(sig);
}

void install_report_on_signals() {
  if (!g.opt.report_path[0] && !g.opt.trace_path[0]) return;
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    struct sigaction old{};
    if (sigaction(sig, nullptr, &old) != 0 || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;
    struct sigaction sa{};
    sa.sa_handler = on_terminating_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_NODEFER | SA_RESTART;
    sigaction(sig, &sa, nullptr);
  }
}

void do_init() {
  t_in_init = true;
  resolve_real();
  read_options();
  load_weights();
  g.hash = 0xcbf29ce484222325ull;
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  g.max_spinners = cpus > 2 ? static_cast<uint32_t>(cpus) : 2;
  g.base_realtime_ns = clock_ns(CLOCK_REALTIME);
  g.base_monotonic_ns = clock_ns(CLOCK_MONOTONIC);
  Thread* main = &g.threads[0];
  reset_thread(main);
  main->stack_ref = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  main->state = TState::runnable;
  main->handle = pthread_self();
  main->go.store(1, std::memory_order_relaxed);  // the main thread starts with the turn
  g.nthreads = 1;
  g.rq_head = g.rq_tail = main;
  g.rq_len = 1;
  t_self = main;
  g.trace_fd = -1;
  g.log_fd = -1;
  open_log();
  open_trace();
  install_report_on_signals();
  g.active = !g.opt.disabled;
  t_in_init = false;
}

void* watchdog_main(void*) {
  // Signals are for the program's threads (a program that sigwaits in one thread blocks them in
  // all of its own; this thread must not take them either).
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  uint64_t last_clock = UINT64_MAX;
  bool reported = false;
  for (;;) {
    struct timespec ts{static_cast<time_t>(g.opt.watchdog_s), 0};
    while (real.nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    if (!g.active || g.shutdown) continue;
    const uint64_t clock = g.clock.load(std::memory_order_relaxed);
    const bool waiting = g.rq_len > 1;
    if (clock == last_clock && waiting) {
      if (!reported) {
        dump_tail("stall: no operation completed for LOCKSTEP_DMT_WATCHDOG_S seconds while threads wait for "
                  "the turn (the thread holding it may be blocked in a call the runtime does not intercept)");
        reported = true;
        if (g.opt.stall_abort) fatal("stall", "LOCKSTEP_DMT_STALL_ABORT=1");
      }
    } else {
      reported = false;
    }
    last_clock = clock;
  }
  return nullptr;
}

}  // namespace

void resolve_real() {
#define LOCKSTEP_DMT_RESOLVE(ret, name, args) resolve_one(reinterpret_cast<void**>(&real.name), #name);
  LOCKSTEP_DMT_REAL_FUNCTIONS(LOCKSTEP_DMT_RESOLVE)
#undef LOCKSTEP_DMT_RESOLVE
}

Thread* self() { return t_self; }
void set_self(Thread* t) { t_self = t; }

void ensure_init() {
  if (g.init_state.load(std::memory_order_acquire) == 2) return;
  if (t_in_init) return;  // a call made by dlsym or getenv during our own start-up
  int expected = 0;
  if (g.init_state.compare_exchange_strong(expected, 1)) {
    do_init();
    g.init_state.store(2, std::memory_order_release);
    return;
  }
  while (g.init_state.load(std::memory_order_acquire) != 2) {
  }
}

void start_watchdog() {
  if (g.watchdog_started || g.opt.watchdog_s == 0) return;
  g.watchdog_started = true;
  start_runtime_thread(watchdog_main);
}

int start_runtime_thread(void* (*main)(void*)) {
  pthread_t tid;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  // Created with every signal blocked, so none lands on it before it blocks them itself.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const int rc = real.pthread_create(&tid, &attr, main, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  return rc;
}

// Called when the process exits normally: records the exit under the turn, writes the report
// and stops scheduling. The final turn is never released, so the report describes a point every
// run reaches identically.
void process_exit() {
  if (g.init_state.load() != 2) return;
  Thread* t = self();
  if (scheduled(t)) {
    begin_op(t);
    record(t, Op::process_exit, Kind::none, 0);
    g.shutdown = true;
    g.active = false;
  }
  flush_trace();
  write_report();
  write_profile();
}

}  // namespace lockstep::dmt

__attribute__((constructor)) static void lockstep_dmt_constructor() { lockstep::dmt::ensure_init(); }
__attribute__((destructor)) static void lockstep_dmt_destructor() { lockstep::dmt::process_exit(); }
